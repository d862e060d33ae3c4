"""Each invariant `make chaos` prints catches a planted violation (and passes a clean case): the
checkers of bench/chaos/checks, fed rows by hand."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from accounts.models import User
from bench.chaos.checks import books, client, orders, outbox
from bench.chaos.checks.findings import Findings
from bench.chaos.clients import PLACED, REFUSED, Attempt, ClientLog
from bench.chaos.stack import Restart
from orders.models import DispatchState, Order, OrderStatus
from providers.models import Service
from tests.factories import UserFactory


def _order(**values: object) -> Order:
    service = Service(rate=Decimal("1.2"), upstream_rate=Decimal(1))
    defaults: dict = {
        "pk": 1,
        "link": "https://x/1",
        "status": OrderStatus.COMPLETED,
        "dispatch_state": DispatchState.SENT,
        "charge": Decimal("1.2"),
        "refunded": Decimal(0),
        "total_quantity": 1000,
        "exchange_rate": Decimal(1),
    }
    order = Order(**{**defaults, **values})
    order.service = service
    return order


def _found(check: object, *args: object, **kwargs: object) -> list[str]:
    findings = Findings()
    check(*args, findings=findings, **kwargs)  # type: ignore[operator]
    return findings.violations


# --- every accepted order accounted for ---------------------------------------------------------


def test_states_catch_an_order_stuck_in_sending_or_in_review_without_a_reason() -> None:
    assert _found(orders.check_states, [_order()]) == []
    stuck = _order(status=OrderStatus.PENDING, dispatch_state=DispatchState.SENDING)
    unexplained = _order(pk=2, status=OrderStatus.PENDING, dispatch_state="needs_review")
    violations = _found(orders.check_states, [stuck, unexplained])
    assert violations == ["order 1 is stuck in sending", "order 2 is in review without a reason"]


def test_other_states_catch_a_refill_in_review_without_a_reason() -> None:
    row = {"what": "Refill", "id": 4, "dispatch_state": "needs_review", "reason": ""}
    assert _found(orders.check_other_states, [{**row, "reason": "add_unknown"}]) == []
    assert _found(orders.check_other_states, [row]) == ["Refill 4 is in review without a reason"]


# --- at most one upstream add per order ---------------------------------------------------------


def test_purchases_catch_a_link_bought_twice_upstream() -> None:
    one = {"https://x/1": [{"order": 10}]}
    assert _found(orders.check_purchases, [_order()], one, {"https://x/1": 1}) == []
    twice = {"https://x/1": [{"order": 10}, {"order": 11}]}
    violations = _found(orders.check_purchases, [_order()], twice, {"https://x/1": 2})
    assert violations == ["https://x/1 was bought 2 times upstream (10, 11)"]


def test_money_catches_a_net_charge_the_provider_did_not_keep() -> None:
    kept = {"full_charge": "1", "charge": "0.5", "status": OrderStatus.PARTIAL}
    partial = _order(status=OrderStatus.PARTIAL, refunded=Decimal("0.6"))
    assert _found(orders.check_money, [partial], {"https://x/1": [kept]}) == []
    short = _order(status=OrderStatus.PARTIAL, refunded=Decimal("0.5"))
    violations = _found(orders.check_money, [short], {"https://x/1": [kept]})
    assert len(violations) == 1 and "charge − refund is 0.7" in violations[0]


# --- polling back within two periods of any restart ---------------------------------------------


def test_polling_catches_a_restart_after_which_no_poll_came_in_time() -> None:
    late = Restart(target="postgres", killed_at=0, ready_at=1, due_at_kill=3, resumed_after=9.0)
    never = Restart(target="beat", killed_at=100, ready_at=101, due_at_kill=3, resumed_after=None)
    other_worker_polls = Restart(
        target="worker", killed_at=200, ready_at=201, due_at_kill=3, resumed_after=None
    )
    violations = _found(orders.check_polling, [late, never, other_worker_polls], limit=5.5)
    assert violations == [
        "restart 1 (postgres): polling resumed 9.0 s after it was back (limit 5.5 s; 3 orders due)",
        "restart 2 (beat): 3 orders due, and no poll followed",
    ]


def test_polling_leaves_a_restart_the_next_kill_cut_short_to_that_kill() -> None:
    """Short runs kill every 2 to 5 s: a kill 3 s after the last restart was back, before its
    poll came, is what delayed it. The restart that follows is judged as any other."""
    cut = Restart(target="workers", killed_at=0, ready_at=1, due_at_kill=3, resumed_after=8.7)
    web = Restart(target="web", killed_at=2, ready_at=3, due_at_kill=3)
    next_kill = Restart(target="beat", killed_at=4, ready_at=5, due_at_kill=3, resumed_after=7.0)
    findings = Findings()
    orders.check_polling([cut, web, next_kill], findings, limit=5.5)
    assert findings.violations == [
        "restart 3 (beat): polling resumed 7.0 s after it was back (limit 5.5 s; 3 orders due)"
    ]
    assert findings.figures["restarts_cut_short_by_the_next_kill"] == 1
    # A next kill past the limit cuts nothing short: the late restart is a violation.
    later = Restart(target="beat", killed_at=7, ready_at=8, due_at_kill=3, resumed_after=1.0)
    assert _found(orders.check_polling, [cut, later], limit=5.5) == [
        "restart 1 (workers): polling resumed 8.7 s after it was back (limit 5.5 s; 3 orders due)"
    ]


# --- every refund exact and once ----------------------------------------------------------------


def _refund_row(**values: object) -> dict:
    return {
        "kind": "order",
        "id": 7,
        "status": "Partial",
        "charge": Decimal("2.000000"),
        "refunded": Decimal("0.500000"),
        "remains": 250,
        "total_quantity": 1000,
        **values,
    }


def _lines(*refunds: str) -> dict:
    lines = [{"kind": "charge", "amount": Decimal("-2.000000")}]
    lines += [{"kind": "refund", "amount": Decimal(amount)} for amount in refunds]
    return {("order", 7): lines}


def test_refunds_pass_an_exact_partial_refund_made_once() -> None:
    assert _found(books.check_refunds, [_refund_row()], _lines("0.5")) == []


def test_refunds_catch_a_refund_paid_twice() -> None:
    violations = _found(
        books.check_refunds, [_refund_row(refunded=Decimal(1))], _lines("0.5", "0.5")
    )
    assert "order 7 was refunded 2 times" in violations[0]
    assert "refunded 1, the rule says 0.500000" in violations[-1]


def test_refunds_catch_an_inexact_refund_and_one_paid_before_the_end() -> None:
    wrong = _refund_row(refunded=Decimal("0.6"))
    assert _found(books.check_refunds, [wrong], _lines("0.6")) == [
        "order 7 is Partial (remains 250) and refunded 0.6, the rule says 0.500000"
    ]
    early = _refund_row(status="In progress")
    assert _found(books.check_refunds, [early], _lines("0.5")) == [
        "order 7 is In progress but refunded 0.500000"
    ]


def test_refunds_catch_a_refund_the_ledger_does_not_have() -> None:
    lost = _refund_row(status="Canceled", refunded=Decimal(2))
    assert _found(books.check_refunds, [lost], _lines()) == [
        "order 7 shows 2 refunded but its ledger refunds 0"
    ]


# --- every deposit credited once ----------------------------------------------------------------


def _deposit(**values: object) -> dict:
    return {
        "id": 1,
        "user_id": 5,
        "gateway": "sepay",
        "external_id": "",
        "bank_reference": "FT1",
        "status": "credited",
        "credited_amount": Decimal(4),
        **values,
    }


def _deposits_found(deposits: list[dict], ledger: dict) -> list[str]:
    return _found(
        books.check_deposits,
        deposits=deposits,
        ledger=ledger,
        transfers={"FT1": {"user_id": 5, "vnd": 100_000}},
        card_sessions={},
        vnd_rate=Decimal(25000),
    )


def test_deposits_pass_a_transfer_credited_once() -> None:
    ledger = {1: [{"kind": "deposit", "amount": Decimal(4)}]}
    assert _deposits_found([_deposit()], ledger) == []


def test_deposits_catch_a_transfer_credited_twice() -> None:
    ledger = {n: [{"kind": "deposit", "amount": Decimal(4)}] for n in (1, 2)}
    violations = _deposits_found([_deposit(), _deposit(id=2)], ledger)
    assert violations == ["bank transfer FT1 is 2 deposits"]


def test_deposits_catch_a_credit_without_its_ledger_line_or_to_another_customer() -> None:
    violations = _deposits_found([_deposit(user_id=6)], {})
    assert violations == [
        "deposit 1 credited 4, its ledger lines are []",
        "bank transfer FT1: credited user 6, its memo names 5",
    ]


# --- commissions: accrued once, settled once ----------------------------------------------------


def _commission(**values: object) -> dict:
    return {
        "id": 3,
        "deposit_id": 1,
        "status": "available",
        "amount": Decimal("0.2"),
        "percent": Decimal(5),
        **values,
    }


def _commissions_found(commissions: list[dict], lines: dict) -> list[str]:
    return _found(
        books.check_commissions,
        referred_deposits=[{"id": 1, "credited_amount": Decimal(4)}],
        commissions=commissions,
        lines=lines,
    )


def test_commissions_pass_one_settled_commission() -> None:
    lines = {3: [{"kind": "commission", "amount": Decimal("0.2")}]}
    assert _commissions_found([_commission()], lines) == []


def test_commissions_catch_a_deposit_paid_twice_and_a_settle_without_its_line() -> None:
    lines = {3: [{"kind": "commission", "amount": Decimal("0.2")}]}
    violations = _commissions_found([_commission(), _commission(id=4)], lines)
    assert violations == [
        "commission 4 of 0.2 settled as []",
        "deposit 1 of a referred customer has 2 commissions",
    ]


def test_commissions_catch_a_wrong_share() -> None:
    lines = {3: [{"kind": "commission", "amount": Decimal("0.3")}]}
    violations = _commissions_found([_commission(amount=Decimal("0.3"))], lines)
    assert violations == ["commission 3 is 0.3, 5 % of 4 is 0.200000"]


# --- check_ledger clean for every ledger --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.ledger_unbalanced
def test_ledger_catches_a_balance_and_a_commission_balance_moved_around_their_ledgers() -> None:
    user = UserFactory(username="planted", funds=Decimal(10))
    assert _found(books.check_ledger) == []
    User.objects.filter(pk=user.pk).update(balance=Decimal(11), commission_balance=Decimal(1))
    violations = _found(books.check_ledger)
    assert len(violations) == 2
    assert all("planted" in text for text in violations)


# --- no row stuck in a transient state ----------------------------------------------------------


def test_transient_catches_a_row_older_than_its_sweeper_period() -> None:
    now = timezone.now()
    fresh = {"what": "Order sending", "id": 1, "since": now - timedelta(seconds=10), "limit": 90}
    assert _found(outbox.check_transient, [fresh], now) == []
    old = {**fresh, "since": now - timedelta(seconds=100)}
    assert _found(outbox.check_transient, [old], now) == [
        "Order sending 1 has been so for 100 s (its sweeper moves it on within 90 s)"
    ]


# --- no notification sent twice -----------------------------------------------------------------


def test_emails_are_counted_from_the_file_backend_and_a_second_send_is_caught(
    tmp_path: Path,
) -> None:
    connection = get_connection(
        "django.core.mail.backends.filebased.EmailBackend", file_path=str(tmp_path)
    )
    message = EmailMessage(subject="Order 1 completed", body="done", to=["a@example.com"])
    connection.send_messages([message, message])
    sent = outbox.emails_in(tmp_path)
    assert sent == Counter({"a@example.com": 2})
    assert _found(outbox.check_emails, sent, Counter({"a@example.com": 2})) == []
    assert _found(outbox.check_emails, sent, Counter({"a@example.com": 1})) == [
        "2 emails went to a@example.com, but only 1 outbox rows were sent: "
        "a notification went out twice"
    ]


# --- the clients' view --------------------------------------------------------------------------


def _view(log: ClientLog, rows: list[dict]) -> list[str]:
    return _found(client.check_client_view, log, rows)


def _row(**values: object) -> dict:
    return {
        "kind": "order",
        "id": 1,
        "link": "https://x/1",
        "username": "r",
        "status": "Partial",
        "net": Decimal("0.7"),
        **values,
    }


def test_client_view_passes_answers_that_stayed_true() -> None:
    log = ClientLog()
    log.add(Attempt(link="https://x/1", how="api", user="r", outcome=PLACED, order_id=1))
    log.add(Attempt(link="https://x/2", how="api", user="r", outcome=REFUSED, error="no"))
    log.saw_final("order", 1, "Partial", "0.7")
    assert _view(log, [_row()]) == []


def test_client_view_catches_an_order_id_that_does_not_exist_and_an_error_that_placed() -> None:
    log = ClientLog()
    log.add(Attempt(link="https://x/1", how="api", user="r", outcome=PLACED, order_id=9))
    log.add(Attempt(link="https://x/2", how="web", user="r", outcome=REFUSED, error="no"))
    violations = _view(log, [_row(), _row(id=2, link="https://x/2")])
    assert violations == [
        "r was answered order 9 for https://x/1, which the panel does not have",
        "r was refused (no) for https://x/2, yet order 2 has it",
    ]


def test_client_view_catches_a_retry_that_bought_twice() -> None:
    log = ClientLog()
    attempt = Attempt(link="https://x/1", how="api", user="r", client_ref="c1", retried=True)
    log.add(attempt)
    violations = _view(log, [_row(), _row(id=2)])
    assert violations == ["https://x/1 was ordered 2 times in the panel (1, 2)"]


def test_client_view_catches_a_refund_the_customer_saw_and_a_crash_took_back() -> None:
    log = ClientLog()
    log.saw_final("order", 1, "Canceled", "0")
    violations = _view(log, [_row(status="In progress", net=Decimal("1.2"))])
    assert violations == [
        "order 1 was read as Canceled, charged 0; it is now In progress, charged 1.2"
    ]
