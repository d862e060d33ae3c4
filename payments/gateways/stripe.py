"""Stripe Checkout through the official library: one Checkout Session per deposit
(`client_reference_id` = the deposit's reference), fulfilled on `checkout.session.completed`
with `payment_status` "paid" and on `checkout.session.async_payment_succeeded`; the signature
is checked by the library's webhook helper; the session id is the deposit's external id."""

import logging
from datetime import timedelta
from decimal import Decimal

import stripe
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from payments.config import GatewayConfig
from payments.gateways.base import (
    Finality,
    PaymentGateway,
    SecretField,
    StartFailed,
    Webhook,
    WebhookRejected,
    json_object,
    stored_payload,
    webhook_secret,
)
from payments.models import Deposit, DepositReversal, Gateway, Method
from payments.services import (
    DepositOutcome,
    deposit_attach_external,
    deposit_by_payment,
    deposit_close_unpaid,
    deposit_confirm_paid,
    deposit_payer_record,
    deposit_reversal_record,
)

logger = logging.getLogger(__name__)
# Stripe counts these currencies in whole units, every other one in hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
FULFIL_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
# The session can no longer be paid: its pending deposit is closed.
CLOSE_EVENTS = ("checkout.session.expired", "checkout.session.async_payment_failed")
# A charge of a session's PaymentIntent: who paid (the card's fingerprint), and money taken back
# after the deposit was credited (docs/affiliates.md).
CHARGE_EVENT = "charge.succeeded"
REVERSAL_EVENTS = {
    "charge.refunded": DepositReversal.Kind.REFUND,
    "charge.dispute.created": DepositReversal.Kind.CHARGEBACK,
}


def minor_units(amount: Decimal, currency: str) -> int:
    exponent = 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise StartFailed(f"{amount} {currency} has more decimals than Stripe accepts")
    return int(scaled)


def from_minor_units(value: int, currency: str) -> Decimal:
    exponent = 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(value).scaleb(-exponent)


def session_params(*, deposit: Deposit, return_url: str) -> dict:
    return {
        "mode": "payment",
        "client_reference_id": str(deposit.reference),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": deposit.currency.lower(),
                    "unit_amount": minor_units(deposit.amount, deposit.currency),
                    "product_data": {"name": gettext("Balance top-up")},
                },
            }
        ],
        "metadata": {"deposit_id": str(deposit.pk)},
        "success_url": return_url,
        "cancel_url": return_url,
    }


class StripeGateway(PaymentGateway):
    gateway = Gateway.STRIPE
    label = Gateway.STRIPE.label
    method = Method.STRIPE
    name = "Stripe"
    key_field = "webhook_secret"
    method_label = Method.STRIPE.label
    secret_fields = (
        SecretField("secret_key", gettext_lazy("Stripe secret key")),
        SecretField("webhook_secret", gettext_lazy("Stripe webhook signing secret")),
    )
    required_secrets = ("secret_key", "webhook_secret")
    default_api_base = "https://api.stripe.com"
    api_base_setting = "PANEL_STRIPE_API_BASE"
    starts_payments = True
    # A Checkout Session expires 24 hours after it is made at the latest, and a delayed method
    # (a bank debit) settles within days: a month is far past both.
    payable_for = timedelta(days=30)
    finality = Finality.CARD
    success_body = {"received": True}

    def client(self, config: GatewayConfig) -> stripe.StripeClient:
        return stripe.StripeClient(
            config.secret("secret_key"),
            base_addresses={"api": self.api_base()},
            max_network_retries=0,
        )

    def start(
        self, *, deposit: Deposit, config: GatewayConfig, return_url: str, callback_url: str
    ) -> str:
        try:
            session = self.client(config).v1.checkout.sessions.create(
                params=session_params(deposit=deposit, return_url=return_url)  # type: ignore[arg-type]
            )
        except stripe.StripeError as exc:
            raise StartFailed(f"Stripe: {type(exc).__name__}") from exc
        deposit_attach_external(deposit_id=deposit.pk, external_id=session.id)
        return str(session.url)

    def expire(self, *, deposit: Deposit, config: GatewayConfig) -> bool:
        if not deposit.external_id:
            return False  # the session was never created
        try:
            self.client(config).v1.checkout.sessions.expire(deposit.external_id)
        except stripe.StripeError as exc:
            # Already paid or expired, or Stripe unreachable: a payment that still comes lands
            # in the paid-after-rejection queue.
            logger.warning("deposit %s: Stripe session not expired (%s)", deposit.pk, exc)
            return False
        return True

    def verify(self, *, webhook: Webhook, config: GatewayConfig) -> dict:
        secret = webhook_secret(config, self.key_field)
        header = webhook.headers.get("Stripe-Signature", "")
        if not header.isascii():
            # The library compares with hmac.compare_digest, which raises on non-ASCII text.
            raise WebhookRejected("bad signature", status=400)
        try:
            stripe.WebhookSignature.verify_header(
                webhook.body.decode("utf-8"),
                header,
                secret,
                settings.PANEL_WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected("bad signature", status=400) from exc
        except UnicodeDecodeError as exc:
            raise WebhookRejected("malformed body") from exc
        return json_object(webhook.body)

    def apply(self, *, data: dict, config: GatewayConfig) -> DepositOutcome | None:
        if data.get("type") == CHARGE_EVENT or data.get("type") in REVERSAL_EVENTS:
            self.apply_charge_event(data)
            return None
        if data.get("type") not in (*FULFIL_EVENTS, *CLOSE_EVENTS):
            return None
        session = (data.get("data") or {}).get("object")
        if not isinstance(session, dict) or not isinstance(session.get("id"), str):
            raise WebhookRejected("malformed body")
        if data["type"] in CLOSE_EVENTS:
            deposit_close_unpaid(
                gateway=self.gateway, external_id=session["id"], reason=f"Stripe: {data['type']}"
            )
            return None
        if session.get("payment_status") != "paid":
            return None  # a delayed method: async_payment_succeeded follows
        currency, total = session.get("currency"), session.get("amount_total")
        if not isinstance(currency, str) or currency.upper() != config.currency:
            raise WebhookRejected("unknown currency")
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            raise WebhookRejected("bad amount")
        return deposit_confirm_paid(
            gateway=self.gateway,
            external_id=session["id"],
            reference=str(session.get("client_reference_id") or ""),
            amount=from_minor_units(total, currency),
            currency=currency,
            payload=stored_payload(data),
            payment_ref=str(session.get("payment_intent") or ""),
        )

    def apply_charge_event(self, data: dict) -> None:
        """A charge's fingerprint, refund or dispute, on the deposit of its PaymentIntent. Stripe
        may send a charge before the session's completion that names the PaymentIntent: such an
        event is refused with 409 and Stripe sends it again later, once the deposit knows it."""
        charge = (data.get("data") or {}).get("object")
        if not isinstance(charge, dict):
            raise WebhookRejected("malformed body")
        intent, event_id = charge.get("payment_intent"), charge.get("id")
        if not isinstance(intent, str) or not intent or not isinstance(event_id, str):
            return None  # a charge made outside a Checkout Session: not the panel's
        deposit = deposit_by_payment(gateway=self.gateway, payment_ref=intent)
        if deposit is None:
            raise WebhookRejected("payment not known yet", status=409)
        if data["type"] == CHARGE_EVENT:
            card = (charge.get("payment_method_details") or {}).get("card") or {}
            fingerprint = card.get("fingerprint") if isinstance(card, dict) else None
            if isinstance(fingerprint, str) and fingerprint.strip():
                deposit_payer_record(
                    deposit_id=deposit.pk, payer_account=f"card:{fingerprint.strip()}"
                )
            return None
        if deposit.status != Deposit.Status.CREDITED:
            logger.warning("deposit %s: %s before it was credited", deposit.pk, data["type"])
            return None
        deposit_reversal_record(
            deposit_id=deposit.pk,
            kind=REVERSAL_EVENTS[data["type"]],
            external_id=event_id,
            reason=f"Stripe: {data['type']}",
        )
        return None
