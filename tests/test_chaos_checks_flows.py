"""The checks of issue 25's second pass catch a planted violation (and pass a clean case): the
child-panel chain, exact product refunds, payouts and chargebacks, resellers' webhooks and the
Telegram bot; tests/test_chaos_checks.py has the first pass's."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bench.chaos.checks import books, chain, telegram, webhooks
from bench.chaos.checks import payouts as payouts_checks
from bench.chaos.checks.findings import Findings
from bench.chaos.clients import ClientLog
from tests.test_chaos_checks import _found, _refund_row, _row, _view


def test_client_view_keeps_one_order_per_level_for_a_child_panels_link() -> None:
    child = _row(level=5, username="c")
    bought = _row(id=2, level=None, username="owner")
    assert _view(ClientLog(), [child, bought]) == []
    twice = _row(id=3, level=None, username="owner")
    assert _view(ClientLog(), [child, bought, twice]) == [
        "https://x/1 was ordered 2 times in the panel (2, 3)"
    ]


# --- product orders: the Partial refund exact ---------------------------------------------------


def _product_row(**values: object) -> dict:
    product = {
        "kind": "product_order",
        "charge": Decimal("3.000000"),
        "refunded": Decimal("1.500000"),
        "total_quantity": 4,
        "upstream_rate": Decimal("0.500000"),
        "upstream_charge": "1.000000",  # of 2.000000 for all four units: half delivered
    }
    return _refund_row(**{**product, **values})


def _product_lines(*refunds: str) -> dict:
    lines = [{"kind": "charge", "amount": Decimal("-3.000000")}]
    lines += [{"kind": "refund", "amount": Decimal(amount)} for amount in refunds]
    return {("product_order", 7): lines}


def test_refunds_hold_a_product_orders_partial_to_the_providers_charge() -> None:
    assert _found(books.check_refunds, [_product_row()], _product_lines("1.5")) == []
    wrong = _product_row(refunded=Decimal("1.000000"))
    assert _found(books.check_refunds, [wrong], _product_lines("1")) == [
        "product order 7 is Partial (remains 250) and refunded 1.000000, the rule says 1.500000"
    ]
    unknown = _product_row(upstream_charge=None)
    assert _found(books.check_refunds, [unknown], _product_lines("1.5")) == [
        "product order 7 is Partial, but the provider's charge for it is unknown"
    ]


# --- the child-panel chain ----------------------------------------------------------------------


def _chain_row(**values: object) -> dict:
    return {
        "id": 1,
        "link": "https://x/c1",
        "status": "Partial",
        "dispatch_state": "sent",
        "reason": "",
        "charge": Decimal("2.500000"),
        "refunded": Decimal("0.625000"),
        "remains": 250,
        "upstream_id": "2",
        **values,
    }


def _parent_row(**values: object) -> dict:
    parent = {
        "id": 2,
        "charge": Decimal("2.000000"),
        "refunded": Decimal("0.5"),
        "upstream_id": "77",
    }
    return _chain_row(**{**parent, **values})


def test_chain_passes_a_partial_refunded_at_each_levels_price() -> None:
    assert _found(chain.check_chain, [_chain_row()], [_parent_row()]) == []


def test_chain_catches_a_child_order_bought_twice_at_the_parent() -> None:
    again = _parent_row(id=3)
    assert _found(chain.check_chain, [_chain_row()], [_parent_row(), again]) == [
        "child link https://x/c1 was bought 2 times at the parent (2, 3)"
    ]
    stray = _parent_row(id=4, link="https://x/other")
    assert _found(chain.check_chain, [_chain_row()], [_parent_row(), stray]) == [
        "the owner's order 4 (https://x/other) has no child order"
    ]


def test_chain_catches_a_child_refund_not_at_its_own_price() -> None:
    short = _chain_row(refunded=Decimal("0.5"))
    violations = _found(chain.check_chain, [short], [_parent_row()])
    assert len(violations) == 1 and "charge − refund is 2.000000" in violations[0]
    diverged = _chain_row(status="Completed", refunded=Decimal(0))
    assert _found(chain.check_chain, [diverged], [_parent_row()]) == [
        "child order 1 ended Completed (remains 250), its parent order 2 Partial (remains 250)"
    ]


def test_chain_holds_an_open_child_order_only_while_its_parent_waits_for_review() -> None:
    open_child = _chain_row(status="In progress", refunded=Decimal(0))
    in_review = _parent_row(status="Pending", dispatch_state="needs_review", reason="add_unknown")
    assert _found(chain.check_chain, [open_child], [in_review]) == []
    assert _found(chain.check_chain, [open_child], [_parent_row()]) == [
        "child order 1 did not settle: In progress, its parent order 2 is Partial"
    ]
    lost = _chain_row(upstream_id="99")
    assert _found(chain.check_chain, [lost], [_parent_row()]) == [
        "child order 1 names parent order 99, which the parent lacks"
    ]


# --- money leaving: payouts and chargebacks -----------------------------------------------------


def _payouts_found(payouts: list[dict], lines: dict, **values: object) -> list[str]:
    told = Counter({"payout sent": 2, "payout done": 1, "move sent": 1, "move done": 1})
    arguments: dict = {
        "transfers": {5: [Decimal("-0.05")]},
        "moved": {5: [Decimal("0.05")]},
        "told": told,
        **values,
    }
    return _found(payouts_checks.check_payouts, payouts=payouts, lines=lines, **arguments)


def _payout(**values: object) -> dict:
    return {"id": 1, "affiliate_id": 5, "status": "rejected", "amount": Decimal("0.10"), **values}


def _payout_lines(*kinds: str) -> dict:
    amounts = {"payout": Decimal("-0.10"), "payout_return": Decimal("0.10")}
    return {1: [{"kind": kind, "amount": amounts[kind]} for kind in kinds]}


def test_payouts_pass_a_rejected_payout_returned_once() -> None:
    assert _payouts_found([_payout()], _payout_lines("payout", "payout_return")) == []


def test_payouts_catch_a_payout_returned_twice_or_a_paid_one_returned() -> None:
    twice = _payouts_found([_payout()], _payout_lines("payout", "payout_return", "payout_return"))
    assert len(twice) == 1 and "payout 1 (rejected, 0.10)" in twice[0]
    paid = _payouts_found([_payout(status="paid")], _payout_lines("payout", "payout_return"))
    assert len(paid) == 1 and "payout 1 (paid, 0.10)" in paid[0]


def test_payouts_catch_a_move_that_left_commission_but_never_reached_the_balance() -> None:
    assert _payouts_found([_payout()], _payout_lines("payout", "payout_return"), moved={}) == [
        "affiliate 5 moved ['0.05'] out of commission but got [] into the balance",
        "0 moves to the balance for 1 requests, 1 of them answered done",
    ]


def test_payouts_catch_a_payout_answered_done_that_does_not_exist() -> None:
    assert _payouts_found([], {}) == ["0 payouts for 2 requests, 1 of them answered done"]


def _chargebacks_found(reversals: list[dict], commission: dict, lines: list[dict]) -> list[str]:
    return _found(
        payouts_checks.check_chargebacks,
        disputes={"dp_1": "cs_1"},
        deposits={"cs_1": {"id": 10}, "cs_2": {"id": 11}},
        reversals=reversals,
        commissions=[commission],
        lines={3: lines},
    )


_SETTLED_AND_REVERSED = [
    {"kind": "commission", "amount": Decimal("0.5")},
    {"kind": "reversal", "amount": Decimal("-0.5")},
]


def test_chargebacks_pass_one_reversal_and_a_commission_taken_back_once() -> None:
    chargeback = [{"deposit_id": 10, "kind": "chargeback", "external_id": "dp_1"}]
    commission = {"id": 3, "deposit_id": 10, "status": "reversed", "amount": Decimal("0.5")}
    assert _chargebacks_found(chargeback, commission, _SETTLED_AND_REVERSED) == []


def test_chargebacks_catch_a_dispute_lost_a_stray_reversal_and_a_commission_kept() -> None:
    stray = [{"deposit_id": 11, "kind": "chargeback", "external_id": "dp_9"}]
    commission = {"id": 3, "deposit_id": 11, "status": "available", "amount": Decimal("0.5")}
    assert _chargebacks_found(stray, commission, _SETTLED_AND_REVERSED[:1]) == [
        "dispute dp_1 on deposit 10: reversals []",
        "deposit 11 was reversed, but no dispute named it",
        "commission 3 on a charged-back deposit is available",
    ]
    chargeback = [{"deposit_id": 10, "kind": "chargeback", "external_id": "dp_1"}]
    twice = {"id": 3, "deposit_id": 10, "status": "reversed", "amount": Decimal("0.5")}
    taken_twice = [*_SETTLED_AND_REVERSED, {"kind": "reversal", "amount": Decimal("-0.5")}]
    violations = _chargebacks_found(chargeback, twice, taken_twice)
    assert len(violations) == 1 and "commission 3 on a charged-back deposit: lines" in violations[0]


# --- resellers' status webhooks -----------------------------------------------------------------


def _hook_row(**values: object) -> dict:
    data = {"order": 1, "status": "Completed", "previous_status": "In progress"}
    return {"event_id": "evt_1", "type": "order.finished", "data": data, "status": "sent", **values}


def _delivery(**values: object) -> dict:
    row = _hook_row()
    return {
        "event_id": row["event_id"],
        "type": row["type"],
        "data": row["data"],
        "signed": True,
        **values,
    }


def _hooks_found(rows: list[dict], received: list[dict], status: str = "Completed") -> list[str]:
    orders_ = [{"id": 1, "status": status}]
    return _found(webhooks.check_webhooks, rows=rows, received=received, orders=orders_)


def test_webhooks_count_a_redelivered_event_once() -> None:
    findings = Findings()
    webhooks.check_webhooks(
        rows=[_hook_row()],
        received=[_delivery(), _delivery()],
        orders=[{"id": 1, "status": "Completed"}],
        findings=findings,
    )
    assert findings.violations == []
    assert findings.figures["webhook_redeliveries"] == 1


def test_webhooks_catch_a_forged_an_invented_and_a_lost_delivery() -> None:
    forged = _delivery(signed=False)
    invented = _delivery(event_id="evt_9")
    assert _hooks_found([_hook_row()], [forged, invented]) == [
        "webhook evt_1 came with a wrong signature",
        "webhook evt_9 was delivered, but the panel never wrote it",
    ]
    assert _hooks_found([_hook_row()], []) == ["webhook evt_1 is marked sent but never arrived"]


def test_webhooks_catch_an_order_finished_twice_or_with_another_status() -> None:
    twice = [_hook_row(), _hook_row(event_id="evt_2", status="pending")]
    assert _hooks_found(twice, [_delivery()]) == [
        "order 1 ended Completed with 2 order.finished events"
    ]
    assert _hooks_found([_hook_row()], [_delivery()], status="Partial") == [
        "order 1 ended Partial, its order.finished event says Completed"
    ]
    assert _hooks_found([_hook_row()], [_delivery()], status="In progress") == [
        "order 1 is In progress but was finished"
    ]


# --- the Telegram bot: a double tap places once, every update taken once ------------------------


def _telegram_found(orders_: list[dict], posted: list[int], updates: list[dict]) -> list[str]:
    return _found(
        telegram.check_telegram,
        links={"https://x/t1"},
        orders=orders_,
        posted=posted,
        updates=updates,
        now=timezone.now(),
        sweep_seconds=190,
    )


def _update(update_id: int, *, handled: bool = True, age: float = 5) -> dict:
    received = timezone.now() - timedelta(seconds=age)
    return {"update_id": update_id, "handled": handled, "received_at": received}


def test_telegram_passes_a_double_tap_that_placed_once_and_a_resent_update() -> None:
    updates = [_update(1), _update(2), _update(3, handled=False, age=30)]
    assert _telegram_found([{"id": 1, "link": "https://x/t1"}], [1, 2, 2, 3], updates) == []


def test_telegram_catches_a_double_tap_that_placed_twice_and_an_order_nobody_asked_for() -> None:
    placed = [{"id": 1, "link": "https://x/t1"}, {"id": 2, "link": "https://x/t1"}]
    stray = [{"id": 3, "link": "https://x/other"}]
    assert _telegram_found(placed + stray, [], []) == [
        "order 3 came through the bot for https://x/other",
        "https://x/t1 was placed 2 times through the bot (a double tap)",
    ]


def test_telegram_catches_an_update_lost_or_never_handled() -> None:
    assert _telegram_found([], [1, 2], [_update(2, handled=False, age=600)]) == [
        "update 1 was stored 0 times",
        "update 2 has waited 600 s unhandled (the sweep queues it within 190 s)",
    ]


def test_a_child_panels_product_order_is_measured_by_the_parents_charge() -> None:
    parent = _product_row(id=8, upstream_id="501", level=None, refunded=Decimal("1.5"))
    child = _product_row(id=9, upstream_id="8", level=3, upstream_charge=None)
    rows = [parent, child]
    books.provider_charges(rows, {"501": "1.000000"})
    assert parent["upstream_charge"] == "1.000000"
    assert child["upstream_charge"] == "1.500000"  # the parent's 3 less its 1.5 refunded


def test_client_view_leaves_out_product_orders_placed_without_a_reference() -> None:
    forwarded = [
        _row(kind="product_order", id=1, link=None),
        _row(kind="product_order", id=2, link=None),
    ]
    assert _view(ClientLog(), forwarded) == []
