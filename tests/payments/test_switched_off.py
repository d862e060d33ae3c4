"""Switching a payment method off stops new payments only: correctly signed reports of money
already on its way (a transfer sent from a QR shown a minute ago, a Checkout Session still
open) are still credited, or reviewed, never answered 404 and dropped."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from core.errors import InvalidRequest
from payments.config import gateway_config
from payments.models import Deposit, Gateway, GatewaySettings, Method
from payments.services import deposit_start
from tests.payments.senders import casso_body, post_casso, post_sepay, post_stripe, sepay_body

pytestmark = pytest.mark.django_db


def _switch_off(method: str) -> None:
    row = GatewaySettings.objects.filter(method=method).first() or GatewaySettings(method=method)
    row.is_enabled = False
    row.save()


@pytest.mark.usefixtures("bank")
def test_a_switched_off_bank_method_is_not_offered_but_transfers_are_credited(
    client: Client, customer: User
) -> None:
    # given: the bank method switched off in the admin
    _switch_off(Method.BANK)
    client.force_login(customer)
    assert f"NAP{customer.pk}" not in client.get("/add-funds/").content.decode()

    # when: transfers the customer already sent are reported by SePay and by Casso
    sepay = post_sepay(
        client, sepay_body(transfer_id=41, amount=100000, content=f"NAP{customer.pk}")
    )
    casso = post_casso(
        client, casso_body(transfer_id=42, amount=50000, description=f"NAP{customer.pk}")
    )

    # then: both credited
    assert (sepay.status_code, casso.status_code) == (200, 200)
    assert set(Deposit.objects.values_list("status", flat=True)) == {Deposit.Status.CREDITED}
    customer.refresh_from_db()
    assert customer.balance == Decimal("106")


@pytest.mark.usefixtures("bank")
def test_a_switched_off_bank_method_still_queues_unmatched_transfers(client: Client) -> None:
    _switch_off(Method.BANK)
    response = post_sepay(client, sepay_body(transfer_id=43, amount=100000, content="no memo"))
    assert response.status_code == 200
    assert Deposit.objects.get().status == Deposit.Status.UNMATCHED


@pytest.mark.usefixtures("bank")
def test_a_switched_off_bank_method_still_refuses_a_wrong_key(
    client: Client, customer: User
) -> None:
    _switch_off(Method.BANK)
    body = sepay_body(transfer_id=44, amount=100000, content=f"NAP{customer.pk}")
    assert post_sepay(client, body, key="wrong").status_code == 401
    assert not Deposit.objects.exists()


def test_a_checkout_paid_after_stripe_was_switched_off_is_credited(
    client: Client, customer: User, stripe_gateway: GatewaySettings
) -> None:
    # given: a session started while Stripe was on, then Stripe switched off
    deposit = deposit_start(
        user=customer,
        gateway=Gateway.STRIPE,
        config=gateway_config(method=Method.STRIPE),
        amount=Decimal("25"),
    )
    Deposit.objects.filter(pk=deposit.pk).update(external_id="cs_test_off")
    _switch_off(Method.STRIPE)
    with pytest.raises(InvalidRequest):
        deposit_start(
            user=customer,
            gateway=Gateway.STRIPE,
            config=gateway_config(method=Method.STRIPE),
            amount=Decimal("25"),
        )

    # when: the customer completes the open session
    session = {
        "id": "cs_test_off",
        "object": "checkout.session",
        "client_reference_id": str(deposit.reference),
        "amount_total": 2500,
        "currency": "usd",
        "payment_status": "paid",
    }
    event = {
        "id": "evt_off",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": session},
    }
    response = post_stripe(client, event)

    # then
    assert response.status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.CREDITED
    assert deposit.credited_amount == Decimal("25")
