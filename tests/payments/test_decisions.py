"""A card or crypto payment that an admin must decide on: paid after its deposit was rejected
(issue 17 item 3), or paid in another amount than asked (item 4). Each resolution ends in a
final state with exact money; "assign" credits what arrived."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import BalanceTransaction, User
from core.errors import InvalidRequest
from payments import dashboard
from payments.models import Deposit, GatewaySettings
from payments.services import deposit_assign, deposit_reject
from tests.payments.senders import GatewayStub, cryptomus_signed, post_cryptomus, post_stripe
from tests.payments.test_card_and_crypto import (
    _invoice,
    _session_event,
    _start_cryptomus,
    _start_stripe,
)

pytestmark = pytest.mark.django_db
Status = Deposit.Status


def _ledger(deposit: Deposit) -> list[tuple[str, Decimal]]:
    return list(
        BalanceTransaction.objects.filter(deposit_id=deposit.pk)
        .order_by("id")
        .values_list("kind", "amount")
    )


def _reject_in_admin(client: Client, staff: User, deposit: Deposit, capture: object) -> None:
    client.force_login(staff)
    with capture(execute=True):  # type: ignore[operator]
        response = client.post(
            f"/admin/payments/unmatcheddeposit/{deposit.pk}/reject/", {"reason": "never paid"}
        )
    assert response.status_code == 302
    deposit.refresh_from_db()
    assert deposit.status == Status.REJECTED


# --- item 3: paid after rejection -----------------------------------------------------------


def test_rejecting_a_pending_stripe_deposit_expires_its_checkout_session(
    client: Client,
    customer: User,
    staff: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    django_capture_on_commit_callbacks: object,
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)

    _reject_in_admin(Client(), staff, deposit, django_capture_on_commit_callbacks)

    path, headers, _ = GatewayStub.requests[-1]
    assert path == "/v1/checkout/sessions/cs_test_1/expire"
    assert headers["Authorization"] == "Bearer sk_test_123"


def test_rejecting_from_the_list_action_expires_the_session_too(
    client: Client,
    customer: User,
    staff: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    django_capture_on_commit_callbacks: object,
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    admin = Client()
    admin.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        admin.post(
            "/admin/payments/deposit/",
            {"action": "reject_abandoned", "_selected_action": [deposit.pk]},
        )
    assert GatewayStub.requests[-1][0] == "/v1/checkout/sessions/cs_test_1/expire"


def test_stripe_paid_after_rejection_waits_with_its_payload_instead_of_being_dropped(
    client: Client,
    customer: User,
    staff: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    django_capture_on_commit_callbacks: object,
) -> None:
    # given: an admin rejected the deposit as never paid, and the customer pays anyway
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    _reject_in_admin(Client(), staff, deposit, django_capture_on_commit_callbacks)
    event = _session_event(deposit)

    # when
    responses = [post_stripe(Client(), event).status_code for _ in range(3)]

    # then: in the admin's queue with what the gateway said, nothing credited yet
    assert responses == [200, 200, 200]
    deposit.refresh_from_db()
    assert deposit.status == Status.PAID_LATE
    assert deposit.payload["data"]["object"]["id"] == "cs_test_1"
    assert (deposit.received_amount, deposit.received_currency) == (Decimal("25"), "USD")
    assert _ledger(deposit) == []
    admin = Client()
    admin.force_login(staff)
    queue = admin.get("/admin/payments/unmatcheddeposit/").content.decode()
    assert f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/" in queue
    hands = {hand["url"].rpartition("=")[2]: hand["count"] for hand in dashboard.hands()}
    assert hands == {"unmatched": 0, "review": 0, "paid_late": 1}
    listed = admin.get("/admin/payments/unmatcheddeposit/?status__exact=paid_late")
    assert f"/{deposit.pk}/assign/" in listed.content.decode()


def test_paid_after_rejection_credited_by_assign_credits_what_was_paid(
    client: Client,
    customer: User,
    staff: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    django_capture_on_commit_callbacks: object,
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    _reject_in_admin(Client(), staff, deposit, django_capture_on_commit_callbacks)
    post_stripe(Client(), _session_event(deposit))
    admin = Client()
    admin.force_login(staff)

    page = admin.get(f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/").content.decode()
    response = admin.post(
        f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/", {"username": "alice"}
    )

    assert 'value="alice"' in page  # the deposit's own customer, filled in
    assert response.status_code == 302
    deposit.refresh_from_db()
    customer.refresh_from_db()
    assert deposit.status == Status.CREDITED
    assert deposit.credited_amount == Decimal("25")
    assert _ledger(deposit) == [("deposit", Decimal("25"))]
    assert customer.balance == Decimal("125")
    post_stripe(Client(), _session_event(deposit))  # a late replay changes nothing
    assert _ledger(deposit) == [("deposit", Decimal("25"))]


def test_paid_after_rejection_refused_stays_rejected_through_replays(
    client: Client,
    customer: User,
    staff: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    django_capture_on_commit_callbacks: object,
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    _reject_in_admin(Client(), staff, deposit, django_capture_on_commit_callbacks)
    post_stripe(Client(), _session_event(deposit))

    deposit_reject(deposit_id=deposit.pk, admin=staff, reason="refunded in Stripe")
    for _ in range(3):
        assert post_stripe(Client(), _session_event(deposit)).status_code == 200

    deposit.refresh_from_db()
    customer.refresh_from_db()
    assert deposit.status == Status.REJECTED
    assert deposit.reason.startswith("refunded in Stripe")
    assert _ledger(deposit) == []
    assert customer.balance == Decimal("100")


def test_cryptomus_paid_after_rejection_waits_and_is_credited_once(
    client: Client, customer: User, staff: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    deposit_reject(deposit_id=deposit.pk, admin=staff, reason="never paid")
    # Cryptomus has no call that cancels an invoice: nothing is sent there.
    assert [path for path, _, _ in GatewayStub.requests] == ["/v1/payment"]

    body = cryptomus_signed(_invoice(deposit, "paid"))
    assert post_cryptomus(Client(), body).status_code == 200
    assert post_cryptomus(Client(), body).status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Status.PAID_LATE and deposit.payload["status"] == "paid"

    deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)
    assert _ledger(deposit) == [("deposit", Decimal("15"))]


def test_cryptomus_wrong_amount_after_rejection_waits_as_paid_late(
    client: Client, customer: User, staff: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    deposit_reject(deposit_id=deposit.pk, admin=staff, reason="never paid")
    underpaid = {**_invoice(deposit, "wrong_amount"), "payment_amount_usd": "1.00"}

    assert post_cryptomus(Client(), cryptomus_signed(underpaid)).status_code == 200

    deposit.refresh_from_db()
    assert deposit.status == Status.PAID_LATE
    assert (deposit.received_amount, deposit.received_currency) == (Decimal("1"), "USD")
    deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)
    assert _ledger(deposit) == [("deposit", Decimal("1"))]


# --- item 4: asked and received -------------------------------------------------------------


def test_stripe_underpaid_session_assigned_credits_what_was_paid(
    client: Client, customer: User, staff: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    # given: 25 USD asked, 1 USD paid
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    post_stripe(Client(), _session_event(deposit, amount_total=100))
    deposit.refresh_from_db()
    assert deposit.status == Status.REVIEW
    assert (deposit.amount, deposit.received_amount) == (Decimal("25"), Decimal("1"))

    # when
    deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)

    # then: 1 paid, 1 credited (it was 25)
    deposit.refresh_from_db()
    customer.refresh_from_db()
    assert deposit.credited_amount == Decimal("1")
    assert _ledger(deposit) == [("deposit", Decimal("1"))]
    assert customer.balance == Decimal("101")


def test_cryptomus_wrong_amount_assigned_credits_what_was_paid(
    client: Client, customer: User, staff: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    underpaid = {
        **_invoice(deposit, "wrong_amount"),
        "payment_amount": "1.00",
        "payer_currency": "USDT",
        "payment_amount_usd": "1.00",
    }
    assert post_cryptomus(Client(), cryptomus_signed(underpaid)).status_code == 200
    deposit.refresh_from_db()
    assert (deposit.status, deposit.received_amount) == (Status.REVIEW, Decimal("1"))

    deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)

    assert _ledger(deposit) == [("deposit", Decimal("1"))]


def test_decide_page_shows_asked_and_received(
    client: Client, customer: User, staff: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    post_stripe(Client(), _session_event(deposit, amount_total=100))
    admin = Client()
    admin.force_login(staff)

    page = admin.get(f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/").content.decode()

    assert "Asked" in page and "25.00 USD" in page
    assert "Received" in page and "1.00 USD" in page


def test_another_amount_needs_the_admins_reason_which_the_ledger_keeps(
    client: Client, customer: User, staff: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    post_stripe(Client(), _session_event(deposit, amount_total=100))

    with pytest.raises(InvalidRequest):
        deposit_assign(
            deposit_id=deposit.pk, user_id=customer.pk, admin=staff, credited_amount=Decimal("25")
        )
    assert _ledger(deposit) == []

    deposit_assign(
        deposit_id=deposit.pk,
        user_id=customer.pk,
        admin=staff,
        credited_amount=Decimal("25"),
        reason="paid the rest by bank, ticket 88",
    )

    entry = BalanceTransaction.objects.get(deposit_id=deposit.pk)
    assert entry.amount == Decimal("25")
    assert entry.memo_code == "deposit_other_amount"
    assert entry.memo_params["reason"] == "paid the rest by bank, ticket 88"
    with translation.override("en"):
        assert "25.00 USD instead of 1.00 USD: paid the rest by bank, ticket 88, admin" in (
            entry.memo_text
        )
    with translation.override("vi"):
        assert "cộng 25,00 USD thay vì 1,00 USD: paid the rest by bank, ticket 88, admin" in (
            entry.memo_text
        )
    assert entry.created_by == staff


def test_another_amount_through_the_assign_form(
    client: Client, customer: User, staff: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    post_stripe(Client(), _session_event(deposit, amount_total=100))
    admin = Client()
    admin.force_login(staff)
    url = f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/"

    refused = admin.post(url, {"username": "alice", "credited_amount": "20"})
    assert refused.status_code == 200 and "needs a reason" in refused.content.decode()
    done = admin.post(url, {"username": "alice", "credited_amount": "20", "reason": "goodwill"})

    assert done.status_code == 302
    assert _ledger(deposit) == [("deposit", Decimal("20"))]


def test_when_nothing_is_known_to_have_arrived_assign_asks_for_an_amount(
    client: Client, customer: User, staff: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    # EUR invoice paid in BTC: Cryptomus says how much in BTC and USD, not in EUR
    cryptomus_gateway.currency = "EUR"
    cryptomus_gateway.save()
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    underpaid = {
        **_invoice(deposit, "wrong_amount"),
        "currency": "EUR",
        "payer_currency": "BTC",
        "payment_amount": "0.0001",
    }
    assert post_cryptomus(Client(), cryptomus_signed(underpaid)).status_code == 200
    deposit.refresh_from_db()
    assert deposit.received_amount is None

    with pytest.raises(InvalidRequest):
        deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)
    deposit_assign(
        deposit_id=deposit.pk,
        user_id=customer.pk,
        admin=staff,
        credited_amount=Decimal("9.5"),
        reason="0.0001 BTC at the day's rate",
    )
    assert _ledger(deposit) == [("deposit", Decimal("9.5"))]


def test_a_failed_expire_leaves_the_rejection_standing(
    client: Client,
    customer: User,
    staff: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    settings: object,
    django_capture_on_commit_callbacks: object,
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    settings.PANEL_STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable

    _reject_in_admin(Client(), staff, deposit, django_capture_on_commit_callbacks)

    deposit.refresh_from_db()
    assert deposit.status == Status.REJECTED
    post_stripe(Client(), _session_event(deposit))  # paid all the same
    deposit.refresh_from_db()
    assert deposit.status == Status.PAID_LATE


def test_migration_backfills_what_arrived(customer: User) -> None:
    """payments 0003: transfers, manual and credited deposits received their amount; a reviewed
    card or crypto deposit what its stored payload says; a pending one nothing."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("payments.migrations.0004_asked_received")
    common = {"user": customer, "currency": "USD", "rate": Decimal(1), "amount": Decimal(25)}
    transfer = Deposit.objects.create(
        gateway="sepay", external_id="t1", status="unmatched", **{**common, "currency": "VND"}
    )
    pending = Deposit.objects.create(gateway="stripe", status="pending", **common)
    stripe_review = Deposit.objects.create(
        gateway="stripe",
        status="review",
        payload={"data": {"object": {"amount_total": 100, "currency": "usd"}}},
        **common,
    )
    crypto_review = Deposit.objects.create(
        gateway="cryptomus",
        status="review",
        payload={"currency": "USD", "payer_currency": "USDT", "payment_amount_usd": "2.5"},
        **common,
    )

    backfill.backfill_received(apps, None)

    received = dict(Deposit.objects.values_list("pk", "received_amount"))
    assert received == {
        transfer.pk: Decimal(25),
        pending.pk: None,
        stripe_review.pk: Decimal(1),
        crypto_review.pk: Decimal("2.5"),
    }


@pytest.mark.django_db(transaction=True)
def test_racing_late_payments_and_decisions_credit_once() -> None:
    """Ten copies of the paid event for a rejected deposit at once, then five admins crediting
    it at once: one waits in the queue, one credit lands."""
    import threading

    from django.db import connection

    from tests.factories import UserFactory
    from tests.payments.senders import STRIPE_WEBHOOK_SECRET

    # given
    row = GatewaySettings(method="stripe", currency="USD", rate=Decimal(1))
    row.secrets = {"secret_key": "sk_test_1", "webhook_secret": STRIPE_WEBHOOK_SECRET}
    row.save()
    payer = UserFactory(username="payer")
    admins = [UserFactory(username=f"admin{n}", is_staff=True) for n in range(5)]
    deposit = Deposit.objects.create(
        user=payer,
        gateway="stripe",
        external_id="cs_race",
        amount=Decimal(25),
        currency="USD",
        rate=Decimal(1),
        status=Status.REJECTED,
        reason="never paid (admin0)",
    )
    event = _session_event(deposit)

    def race(work: list) -> list:
        barrier, results = threading.Barrier(len(work)), []

        def run(job: object) -> None:
            try:
                barrier.wait()
                results.append(job())  # type: ignore[operator]
            except Exception as exc:  # noqa: BLE001 - a lost race is an answer here
                results.append(type(exc).__name__)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(job,)) for job in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    # when
    answers = race([lambda: post_stripe(Client(), event).status_code for _ in range(10)])
    deposit.refresh_from_db()
    assert answers == [200] * 10 and deposit.status == Status.PAID_LATE
    outcomes = race(
        [
            lambda admin=admin: (
                deposit_assign(deposit_id=deposit.pk, user_id=payer.pk, admin=admin).status
            )
            for admin in admins
        ]
    )

    # then
    assert sorted(outcomes) == ["InvalidTransition"] * 4 + [Status.CREDITED]
    assert _ledger(deposit) == [("deposit", Decimal("25"))]
    payer.refresh_from_db()
    assert payer.balance == Decimal("25")
