"""Casso webhook v2: `{"error": 0, "data": {id, reference, description, amount, accountNumber,
...}}`, signed in `X-Casso-Signature: t=<ms>,v1=<hex>` where v1 is HMAC-SHA512 (checksum key)
over `t + "." + the body as compact JSON with keys sorted`. `data.id` is unique per transfer;
`reference`, `accountNumber`, `amount` and `transactionDateTime` are the bank's, the same a
SePay report carries. Casso finds no payment code of its own: the description decides."""

import hashlib
import hmac
import json
import time

from django.conf import settings

from payments.config import GatewayConfig
from payments.gateways import bank
from payments.gateways.base import (
    PaymentGateway,
    Webhook,
    WebhookRejected,
    bank_key,
    external_id,
    json_object,
    positive_amount,
    stored_payload,
    text_field,
    webhook_secret,
)
from payments.models import Gateway, Method
from payments.services import DepositOutcome
from payments.services.transfers import Transfer


def _signature_parts(header: str) -> tuple[int, str]:
    parts = dict(item.strip().partition("=")[::2] for item in header.split(",") if "=" in item)
    stamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not signature:
        raise WebhookRejected("bad signature", status=401)
    return int(stamp), signature.lower()


def _signed_texts(body: bytes) -> list[str]:
    """The sorted compact JSON as Casso's samples write it: Python's json.dumps, and PHP's
    json_encode (which also escapes "/"). Either, signed with the key, is Casso's."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("malformed body") from exc
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return [text, text.replace("/", "\\/")]


class CassoGateway(PaymentGateway):
    gateway = Gateway.CASSO
    method = Method.BANK
    name = "Casso"
    key_field = "casso_checksum_key"

    def verify(self, *, webhook: Webhook, config: GatewayConfig) -> dict:
        key = webhook_secret(config, self.key_field)
        stamp, signature = _signature_parts(webhook.headers.get("X-Casso-Signature", ""))
        age_ms = abs(time.time() * 1000 - stamp)
        if age_ms > settings.PANEL_WEBHOOK_TOLERANCE_SECONDS * 1000:
            raise WebhookRejected("stale timestamp", status=401)
        for text in _signed_texts(webhook.body):
            expected = hmac.new(
                key.encode(), f"{stamp}.{text}".encode(), hashlib.sha512
            ).hexdigest()
            if hmac.compare_digest(expected, signature):
                return json_object(webhook.body)
        raise WebhookRejected("bad signature", status=401)

    def apply(self, *, data: dict, config: GatewayConfig) -> DepositOutcome | None:
        if data.get("error") != 0 or not isinstance(data.get("data"), dict):
            raise WebhookRejected("malformed body")
        item = data["data"]
        account = text_field(item, "accountNumber")
        transfer = Transfer(
            gateway=self.gateway,
            external_id=external_id(item.get("id")),
            amount=positive_amount(item.get("amount")),
            content=text_field(item, "description"),
            payload=stored_payload(data),
            bank=bank_key(
                account=account,
                reference=text_field(item, "reference"),
                when=text_field(item, "transactionDateTime"),
            ),
        )
        return bank.receive(transfer=transfer, account=account, config=config)
