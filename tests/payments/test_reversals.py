"""Refunds and chargebacks of credited deposits (DepositReversal), and who paid (the payer
fields the affiliates' self-referral guard compares)."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from payments.models import Deposit, DepositReversal, GatewaySettings
from tests.payments.senders import casso_body, post_casso, post_stripe
from tests.payments.test_card_and_crypto import _session_event, _start_stripe

pytestmark = pytest.mark.django_db


def _charge_event(kind: str, **charge: object) -> dict:
    obj = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", **charge}
    return {"id": "evt_c", "object": "event", "type": kind, "data": {"object": obj}}


def _paid_stripe_deposit(
    client: Client, customer: User, stub: str, row: GatewaySettings
) -> Deposit:
    deposit = _start_stripe(client, customer, stub, row)
    assert post_stripe(Client(), _session_event(deposit, payment_intent="pi_1")).status_code == 200
    deposit.refresh_from_db()
    assert (deposit.status, deposit.payment_ref) == ("credited", "pi_1")
    return deposit


def test_stripe_charge_before_its_session_is_asked_again(
    customer: User, stripe_gateway: GatewaySettings
) -> None:
    event = _charge_event(
        "charge.succeeded", payment_method_details={"card": {"fingerprint": "fpX"}}
    )
    assert post_stripe(Client(), event).status_code == 409


def test_stripe_charge_records_the_card_fingerprint_once(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _paid_stripe_deposit(client, customer, stub, stripe_gateway)
    for fingerprint in ("fpA", "fpB"):
        event = _charge_event(
            "charge.succeeded", payment_method_details={"card": {"fingerprint": fingerprint}}
        )
        assert post_stripe(Client(), event).status_code == 200
    deposit.refresh_from_db()
    assert deposit.payer_account == "card:fpA"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("charge.refunded", "refund"), ("charge.dispute.created", "chargeback")],
)
def test_stripe_refund_or_dispute_records_one_reversal(
    client: Client,
    customer: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    kind: str,
    expected: str,
) -> None:
    deposit = _paid_stripe_deposit(client, customer, stub, stripe_gateway)
    for _ in range(3):
        assert post_stripe(Client(), _charge_event(kind)).status_code == 200
    reversal = DepositReversal.objects.get()
    assert (reversal.deposit_id, reversal.kind, reversal.external_id) == (
        deposit.pk,
        expected,
        "ch_1",
    )
    # the customer's balance is the admin's decision, not the webhook's
    customer.refresh_from_db()
    assert customer.balance == Decimal("125")


@pytest.mark.usefixtures("bank")
def test_casso_keeps_the_payer_account_and_name(client: Client, customer: User) -> None:
    body = casso_body(transfer_id=77, amount=75000, description=f"NAP{customer.pk}")
    body["data"]["counterAccountName"] = "Nguyễn  Thị Hằng"
    assert post_casso(client, body).status_code == 200
    deposit = Deposit.objects.get(gateway="casso")
    assert (deposit.payer_account, deposit.payer_name) == ("8888888888", "NGUYEN THI HANG")


def test_admin_records_a_refund_with_a_reason(
    client: Client, customer: User, staff: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _paid_stripe_deposit(client, customer, stub, stripe_gateway)
    admin = Client()
    admin.force_login(staff)
    url = f"/admin/payments/deposit/{deposit.pk}/reversal/"
    assert admin.get(url).status_code == 200
    assert admin.post(url, {"kind": "refund", "reason": ""}).status_code == 200
    assert not DepositReversal.objects.exists()
    assert admin.post(url, {"kind": "refund", "reason": "sent back"}).status_code == 302
    assert DepositReversal.objects.get().reason == "sent back (admin)"
    listing = admin.get("/admin/payments/deposit/").content.decode()
    assert "Refunded" in listing


def test_reversal_page_needs_the_decide_permission(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _paid_stripe_deposit(client, customer, stub, stripe_gateway)
    clerk = User.objects.create_user(username="clerk", password="x", is_staff=True)
    viewer = Client()
    viewer.force_login(clerk)
    assert viewer.get(f"/admin/payments/deposit/{deposit.pk}/reversal/").status_code == 403
