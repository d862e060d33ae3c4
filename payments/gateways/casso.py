"""Casso webhook v2: `{"error": 0, "data": {id, reference, description, amount, accountNumber,
...}}`, signed in `X-Casso-Signature: t=<ms>,v1=<hex>` where v1 is HMAC-SHA512 (checksum key)
over `t + "." + the body as compact JSON with keys sorted`. `data.id` is unique per transfer;
`reference`, `accountNumber`, `amount` and `transactionDateTime` are the bank's, the same a
SePay report carries. Casso finds no payment code of its own: the description decides."""

import hashlib
import hmac
import json
import math
import re
import time
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy

from payments.config import GatewayConfig
from payments.gateways import bank
from payments.gateways.base import (
    PaymentGateway,
    SecretField,
    Webhook,
    WebhookRejected,
    bank_key,
    external_id,
    json_object,
    payer_name_normalize,
    positive_amount,
    stored_payload,
    text_field,
    webhook_secret,
)
from payments.models import Gateway, Method
from payments.services import DepositOutcome
from payments.services.transfers import Transfer

# ASCII only: str.isdigit() also takes "²", which int() refuses, and a header is what anyone
# on the internet may send. Thirteen digits are milliseconds until the year 2286.
_STAMP = re.compile(r"[0-9]{1,13}")
_SHA512_HEX = re.compile(r"[0-9a-f]{128}")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _signature_parts(header: str) -> tuple[int, str]:
    parts = dict(item.strip().partition("=")[::2] for item in header.split(",") if "=" in item)
    stamp, signature = parts.get("t", ""), parts.get("v1", "").lower()
    if not _STAMP.fullmatch(stamp) or not _SHA512_HEX.fullmatch(signature):
        raise WebhookRejected("bad signature", status=401)
    return int(stamp), signature


def _sorted_by_key(value: object, *, into_lists: bool) -> object:
    """sortObjDataByKey of Casso's samples: an object's keys sorted, nested objects too. The
    Node and Python samples leave objects inside arrays as they came; the PHP one sorts them."""
    if isinstance(value, dict):
        return {
            key: _sorted_by_key(value[key], into_lists=into_lists)
            for key in sorted(value, key=_js_key_order)
        }
    if isinstance(value, list) and into_lists:
        return [_sorted_by_key(item, into_lists=into_lists) for item in value]
    return value


def _js_key_order(key: str) -> tuple[int, int, bytes]:
    """Where JSON.stringify writes `key` in an object built in sorted order: array-index keys
    ("7", "10") first and by number, the others by UTF-16 code unit, as Array.sort compares."""
    if _ARRAY_INDEX.fullmatch(key) and int(key) < 2**32 - 1:
        return (0, int(key), b"")
    return (1, 0, key.encode("utf-16-be"))


def _js_number(value: int | Decimal) -> str:
    """Number.prototype.toString of the double JSON.parse makes of `value`: the shortest digits
    that round-trip (as Python's repr), written without an exponent from 1e-7 up to 1e21."""
    if isinstance(value, int) and abs(value) < 2**53:
        return str(value)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        return "null"  # JSON.parse makes Infinity of 1e400, and JSON.stringify writes null
    if number == 0:
        return "0"
    digits, exponent = _shortest_digits(abs(number))
    sign = "-" if number < 0 else ""
    point = len(digits) + exponent  # where the decimal point falls among the digits
    if 0 < point <= 21:
        if exponent >= 0:
            return sign + digits + "0" * exponent
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if point > 0 else '-'}{abs(point - 1)}"


def _shortest_digits(number: float) -> tuple[str, int]:
    _, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    return "".join(map(str, digits)), int(exponent)


def _js_json(value: object) -> str:
    """JSON.stringify: compact, text as UTF-8 (no \\u escapes), "/" left alone."""
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{_js_json(key)}:{_js_json(item)}" for key, item in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_js_json(item) for item in value) + "]"
    if isinstance(value, str):
        # Well-formed JSON.stringify escapes a lone surrogate; every other character stays.
        return _LONE_SURROGATE.sub(
            lambda match: f"\\u{ord(match.group()):04x}", json.dumps(value, ensure_ascii=False)
        )
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | Decimal):
        return _js_number(value)
    raise WebhookRejected("malformed body")


def _signed_texts(body: bytes) -> list[str]:
    """The sorted data as each of Casso's reference signers writes it. They differ only where
    text is not plain ASCII or holds a "/": Node's JSON.stringify keeps "nạp" as UTF-8,
    Python's json.dumps and PHP's json_encode write "n\\u1ea1p", and PHP also writes "\\/"."""
    try:
        node = _js_json(_sorted_by_key(json.loads(body, parse_float=Decimal), into_lists=False))
        data = json.loads(body)
        python = json.dumps(_sorted_by_key(data, into_lists=False), separators=(",", ":"))
        php = json.dumps(_sorted_by_key(data, into_lists=True), separators=(",", ":"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WebhookRejected("malformed body") from exc
    return list(dict.fromkeys((node, python, php.replace("/", "\\/"))))


class CassoGateway(PaymentGateway):
    gateway = Gateway.CASSO
    label = Gateway.CASSO.label
    method = Method.BANK
    name = "Casso"
    key_field = "casso_checksum_key"
    method_label = Method.BANK.label
    secret_fields = (
        SecretField(
            "casso_checksum_key",
            gettext_lazy("Casso checksum key"),
            setting="PANEL_CASSO_CHECKSUM_KEY",
        ),
    )
    required_secrets = ("casso_checksum_key",)
    required_settings = bank.REQUIRED_ACCOUNT_FIELDS
    settings_fields = bank.ACCOUNT_FIELDS

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
            payer_account=text_field(item, "counterAccountNumber").strip(),
            payer_name=payer_name_normalize(text_field(item, "counterAccountName")),
        )
        return bank.receive(transfer=transfer, account=account, config=config)
