"""Cryptomus (Heleket has the same API): an invoice per deposit (`order_id` = the deposit's
reference); the webhook's `sign` is md5(base64(the JSON body without `sign`, as PHP's
json_encode writes it with JSON_UNESCAPED_UNICODE: unescaped unicode, escaped slashes) + the
payment key). `paid` and `paid_over` credit once, `wrong_amount` goes to review; the invoice
`uuid` is the deposit's external id.

Cryptomus' API has no call that cancels an invoice (it expires after its `lifetime`, an hour
by default), so rejecting a pending deposit cannot close it there: a payment that still comes
waits as paid-after-rejection.

This module is the panel's only HTTP client for Cryptomus, as providers.client is for upstream
providers: one call, a short timeout, and a failure is "no invoice", never a charge."""

import base64
import hashlib
import hmac
import json
import re
from datetime import timedelta
from decimal import Decimal

import httpx
from django.utils.translation import gettext_lazy, gettext_noop

from core.money import money_str
from payments.config import GatewayConfig
from payments.gateways.base import (
    Finality,
    PaymentGateway,
    SecretField,
    StartFailed,
    Webhook,
    WebhookRejected,
    external_id,
    positive_amount,
    stored_payload,
    text_field,
    webhook_secret,
)
from payments.models import Deposit, Gateway, Method
from payments.services import (
    DepositOutcome,
    deposit_attach_external,
    deposit_close_unpaid,
    deposit_confirm_paid,
    deposit_mark_review,
)

PAID_STATUSES = ("paid", "paid_over")
# Final without payment: the pending deposit is closed.
CLOSED_STATUSES = ("cancel", "fail", "system_fail")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MD5_HEX = re.compile(r"[0-9a-f]{32}")


def php_json(data: object) -> str:
    """json_encode($data, JSON_UNESCAPED_UNICODE): compact, unicode kept, "/" escaped."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def sign(text: str, key: str) -> str:
    return hashlib.md5(  # noqa: S324 - the gateway's scheme, not our choice
        base64.b64encode(text.encode("utf-8")) + key.encode("utf-8")
    ).hexdigest()


def paid_in_invoice_currency(data: dict) -> tuple[Decimal | None, str]:
    """What the client paid, in the invoice's currency: `payment_amount` is in the currency they
    paid with, `payment_amount_usd` in USD. (None, "") when neither is in the invoice's."""
    currency = text_field(data, "currency").upper()
    if text_field(data, "payer_currency").upper() == currency:
        field = "payment_amount"
    elif currency == "USD":
        field = "payment_amount_usd"
    else:
        return None, ""
    try:
        return positive_amount(data.get(field)), currency
    except WebhookRejected:
        return None, ""  # the report stands; an admin reads the payload and decides


def invoice_body(*, deposit: Deposit, return_url: str, callback_url: str) -> dict[str, str]:
    return {
        "amount": money_str(deposit.amount),
        "currency": deposit.currency,
        "order_id": str(deposit.reference),
        "url_return": return_url,
        "url_success": return_url,
        "url_callback": callback_url,
    }


class CryptomusGateway(PaymentGateway):
    gateway = Gateway.CRYPTOMUS
    label = Gateway.CRYPTOMUS.label
    method = Method.CRYPTOMUS
    name = "Cryptomus"
    key_field = "payment_key"
    method_label = Method.CRYPTOMUS.label
    secret_fields = (
        SecretField("merchant_id", gettext_lazy("Cryptomus merchant id")),
        SecretField("payment_key", gettext_lazy("Cryptomus payment key")),
    )
    required_secrets = ("merchant_id", "payment_key")
    default_api_base = "https://api.cryptomus.com"
    api_base_setting = "PANEL_CRYPTOMUS_API_BASE"
    starts_payments = True
    # An invoice lives an hour (the panel sets no other `lifetime`; twelve hours at most): a week
    # is far past it.
    payable_for = timedelta(days=7)
    # Credited on "paid" or "paid_over" only, which Cryptomus sends once the network has
    # confirmed the payment: nothing takes it back after that.
    finality = Finality.FINAL

    def start(
        self, *, deposit: Deposit, config: GatewayConfig, return_url: str, callback_url: str
    ) -> str:
        text = php_json(
            invoice_body(deposit=deposit, return_url=return_url, callback_url=callback_url)
        )
        headers = {
            "merchant": config.secret("merchant_id"),
            "sign": sign(text, config.secret("payment_key")),
            "Content-Type": "application/json",
        }
        try:
            response = httpx.post(
                f"{self.api_base().rstrip('/')}/v1/payment",
                content=text.encode("utf-8"),
                headers=headers,
                timeout=TIMEOUT,
                follow_redirects=False,
            )
            result = response.json().get("result") or {}
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise StartFailed(f"Cryptomus: {type(exc).__name__}") from exc
        if response.status_code != 200 or not result.get("uuid") or not result.get("url"):
            raise StartFailed(f"Cryptomus answered {response.status_code}")
        deposit_attach_external(deposit_id=deposit.pk, external_id=str(result["uuid"]))
        return str(result["url"])

    def verify(self, *, webhook: Webhook, config: GatewayConfig) -> dict:
        key = webhook_secret(config, self.key_field)
        try:
            data = json.loads(webhook.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise WebhookRejected("malformed body") from exc
        if not isinstance(data, dict) or not isinstance(data.get("sign"), str):
            raise WebhookRejected("malformed body")
        given = data.pop("sign").lower()
        # hmac.compare_digest raises on non-ASCII text: an md5 is 32 hex digits or no signature.
        if not MD5_HEX.fullmatch(given) or not hmac.compare_digest(
            sign(php_json(data), key), given
        ):
            raise WebhookRejected("bad signature", status=401)
        return data

    def apply(self, *, data: dict, config: GatewayConfig) -> DepositOutcome | None:
        status = text_field(data, "status")
        invoice, reference = external_id(data.get("uuid")), text_field(data, "order_id")
        if status == "wrong_amount":
            received, currency = paid_in_invoice_currency(data)
            return deposit_mark_review(
                gateway=self.gateway,
                external_id=invoice,
                reference=reference,
                reason=gettext_noop("Cryptomus: wrong amount paid"),
                payload=stored_payload(data),
                received_amount=received,
                received_currency=currency,
            )
        if status in CLOSED_STATUSES:
            deposit_close_unpaid(
                gateway=self.gateway, external_id=invoice, reason=f"Cryptomus: {status}"
            )
            return None
        if status not in PAID_STATUSES:
            return None  # check, confirm_check, refund_*: nothing to credit
        currency = text_field(data, "currency").upper()
        if currency != config.currency:
            raise WebhookRejected("unknown currency")
        amount: Decimal = positive_amount(data.get("amount"))
        return deposit_confirm_paid(
            gateway=self.gateway,
            external_id=invoice,
            reference=reference,
            amount=amount,
            currency=currency,
            payload=stored_payload(data),
        )
