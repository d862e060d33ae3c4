"""Stripe Checkout and Cryptomus: a pending deposit per attempt, credited once by its webhook."""

import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, User
from payments.models import Deposit, GatewaySettings
from tests.payments.senders import GatewayStub, cryptomus_signed, post_cryptomus, post_stripe

pytestmark = pytest.mark.django_db


_Stub = GatewayStub


def _session_event(
    deposit: Deposit, *, kind: str = "checkout.session.completed", **session: object
) -> dict:
    obj = {
        "id": deposit.external_id,
        "object": "checkout.session",
        "client_reference_id": str(deposit.reference),
        "amount_total": 2500,
        "currency": "usd",
        "payment_status": "paid",
        **session,
    }
    return {"id": "evt_1", "object": "event", "type": kind, "data": {"object": obj}}


def _start_stripe(client: Client, customer: User, stub: str, row: GatewaySettings) -> Deposit:
    _Stub.answer = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "url": "https://checkout.example/cs_test_1",
    }
    client.force_login(customer)
    response = client.post("/add-funds/stripe/start/", {"amount": "25.00"})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.example/cs_test_1"
    return Deposit.objects.get(gateway="stripe")


def test_stripe_start_creates_a_checkout_session_for_the_deposit(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    path, headers, body = _Stub.requests[0]
    assert path == "/v1/checkout/sessions"
    assert headers["Authorization"] == "Bearer sk_test_123"
    form = body.decode()
    assert f"client_reference_id={deposit.reference}" in form
    assert "line_items[0][price_data][unit_amount]=2500" in form
    assert (deposit.status, deposit.external_id, deposit.amount) == (
        "pending",
        "cs_test_1",
        Decimal("25"),
    )


def test_stripe_paid_session_credits_once_however_often_it_arrives(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    event = _session_event(deposit)
    for _ in range(20):
        assert post_stripe(Client(), event).status_code == 200
    async_event = _session_event(deposit, kind="checkout.session.async_payment_succeeded")
    assert post_stripe(Client(), async_event).status_code == 200
    assert list(
        BalanceTransaction.objects.filter(deposit_id=deposit.pk).values_list("amount", flat=True)
    ) == [Decimal("25")]
    deposit.refresh_from_db()
    assert deposit.status == "credited"


def test_stripe_unpaid_completion_waits_for_the_async_success(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    post_stripe(Client(), _session_event(deposit, payment_status="unpaid"))
    deposit.refresh_from_db()
    assert deposit.status == "pending"
    post_stripe(Client(), _session_event(deposit, kind="checkout.session.async_payment_succeeded"))
    deposit.refresh_from_db()
    assert deposit.status == "credited"


def test_stripe_bad_or_stale_signature_credits_nothing(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    event = _session_event(deposit)
    assert post_stripe(Client(), event, secret="whsec_wrong").status_code == 400
    assert post_stripe(Client(), event, stamp=int(time.time()) - 3600).status_code == 400
    deposit.refresh_from_db()
    assert deposit.status == "pending"


def test_stripe_unknown_currency_is_refused_and_wrong_amount_goes_to_review(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    response = post_stripe(Client(), _session_event(deposit, currency="xyz"))
    assert (response.status_code, response.json()["error"]) == (400, "unknown currency")
    assert post_stripe(Client(), _session_event(deposit, amount_total=100)).status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == "review"
    assert not BalanceTransaction.objects.filter(deposit_id=deposit.pk).exists()


def test_stripe_start_failure_closes_the_deposit(
    client: Client, customer: User, stripe_gateway: GatewaySettings, settings: Any
) -> None:
    settings.PANEL_STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    client.force_login(customer)
    response = client.post("/add-funds/stripe/start/", {"amount": "25.00"})
    assert response.status_code == 302 and response["Location"] == "/add-funds/"
    assert Deposit.objects.get(gateway="stripe").status == "rejected"


def _start_cryptomus(client: Client, customer: User, stub: str, row: GatewaySettings) -> Deposit:
    _Stub.answer = {
        "state": 0,
        "result": {
            "uuid": "26109ba0-b05b-4ee0-93d1-fd62c822ce95",
            "url": "https://pay.example/inv",
        },
    }
    client.force_login(customer)
    response = client.post("/add-funds/cryptomus/start/", {"amount": "15"})
    assert response["Location"] == "https://pay.example/inv"
    return Deposit.objects.get(gateway="cryptomus")


def _invoice(deposit: Deposit, status: str) -> dict:
    return {
        "type": "payment",
        "uuid": deposit.external_id,
        "order_id": str(deposit.reference),
        "amount": "15.00",
        "payment_amount": "15.00",
        "merchant_amount": "14.70",
        "is_final": True,
        "status": status,
        "currency": "USD",
        "network": "tron",
        "payer_currency": "USDT",
        "additional_data": "nạp tiền / test",
    }


def test_cryptomus_invoice_request_is_signed(
    client: Client, customer: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    path, headers, body = _Stub.requests[0]
    assert path == "/v1/payment" and headers["merchant"] == "merchant-uuid"
    sent = json.loads(body)
    assert sent["order_id"] == str(deposit.reference) and sent["amount"] == "15"
    assert headers["sign"] == cryptomus_signed(sent, key="cryptomus-payment-key-0123456789")["sign"]


def test_cryptomus_paid_credits_once(
    client: Client, customer: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    body = cryptomus_signed(_invoice(deposit, "paid"))
    for _ in range(5):
        assert post_cryptomus(Client(), body).status_code == 200
    assert (
        post_cryptomus(Client(), cryptomus_signed(_invoice(deposit, "paid_over"))).status_code
        == 200
    )
    assert list(
        BalanceTransaction.objects.filter(deposit_id=deposit.pk).values_list("amount", flat=True)
    ) == [Decimal("15")]


def test_cryptomus_wrong_amount_goes_to_review(
    client: Client, customer: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    assert (
        post_cryptomus(Client(), cryptomus_signed(_invoice(deposit, "wrong_amount"))).status_code
        == 200
    )
    deposit.refresh_from_db()
    assert deposit.status == "review"


def test_cryptomus_bad_sign_credits_nothing(
    client: Client, customer: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    body = cryptomus_signed(_invoice(deposit, "paid"), key="wrong")
    assert post_cryptomus(Client(), body).status_code == 401
    forged = {**cryptomus_signed(_invoice(deposit, "paid")), "amount": "1500.00"}
    assert post_cryptomus(Client(), forged).status_code == 401
    deposit.refresh_from_db()
    assert deposit.status == "pending"


def test_expired_stripe_session_closes_its_deposit(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    event = _session_event(deposit, kind="checkout.session.expired", payment_status="unpaid")
    assert post_stripe(Client(), event).status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == "rejected"
    # a late "paid" for the closed session credits nothing
    post_stripe(Client(), _session_event(deposit))
    assert not BalanceTransaction.objects.filter(deposit_id=deposit.pk).exists()


def test_cancelled_cryptomus_invoice_closes_its_deposit(
    client: Client, customer: User, stub: str, cryptomus_gateway: GatewaySettings
) -> None:
    deposit = _start_cryptomus(client, customer, stub, cryptomus_gateway)
    assert (
        post_cryptomus(Client(), cryptomus_signed(_invoice(deposit, "cancel"))).status_code == 200
    )
    deposit.refresh_from_db()
    assert deposit.status == "rejected"


def test_admin_can_reject_an_abandoned_pending_deposit(
    client: Client, customer: User, staff: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    from payments.services import deposit_reject

    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    deposit_reject(deposit_id=deposit.pk, admin=staff, reason="never paid")
    deposit.refresh_from_db()
    assert deposit.status == "rejected"


def test_rotate_secrets_moves_gateway_credentials_to_the_new_first_key(
    stripe_gateway: GatewaySettings, settings: object
) -> None:
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from core.secrets import _fernet

    old_keys = list(settings.PANEL_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.PANEL_ENCRYPTION_KEYS = [new_key, *old_keys]
    _fernet.cache_clear()
    try:
        call_command("rotate_secrets", stdout=StringIO())
        settings.PANEL_ENCRYPTION_KEYS = [new_key]
        _fernet.cache_clear()
        assert (
            GatewaySettings.objects.get(pk=stripe_gateway.pk).secrets["secret_key"] == "sk_test_123"
        )
    finally:
        settings.PANEL_ENCRYPTION_KEYS = old_keys
        _fernet.cache_clear()
