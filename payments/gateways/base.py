"""The interface every gateway module implements, and the helpers they share."""

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings

from core.money import parse_money
from core.text import is_storable
from payments.config import GatewayConfig
from payments.models import Deposit
from payments.registry import SecretField
from payments.services import DepositOutcome
from payments.services.transfers import BankKey

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class WebhookRejected(Exception):
    """A webhook the panel refuses: the caller gets `status` and the short `reason`, nothing is
    recorded. The reason never contains a secret."""

    def __init__(self, reason: str, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


class StartFailed(Exception):
    """The gateway did not create a session or invoice; nothing was charged."""


@dataclass(frozen=True)
class Webhook:
    body: bytes
    headers: Mapping[str, str]


class Finality:
    """How long a credited payment can still be taken back, as a gateway declares it: a bank
    transfer can be recalled or refunded for a while, a card payment disputed within its
    network's window, a confirmed crypto payment never. Read by the affiliates' hold
    (docs/affiliates.md)."""

    TRANSFER = "transfer"
    CARD = "card"
    FINAL = "final"


class PaymentGateway:
    """One gateway and every fact about it, as Saleor's payment plugins carry theirs: the admin's
    form, the add-funds page and the webhook URL are derived from these (registry.py lists the
    gateways). A method (what the customer chooses, one settings row) may have several gateways:
    a bank transfer is reported by SePay or Casso."""

    gateway: str  # the Deposit.gateway value and the webhook URL segment
    label: "StrOrPromise"
    name: str  # the service's own name, as operators know it
    key_field: str = ""  # the stored secret its webhooks are checked with
    method: str  # the settings row it reads
    method_label: "StrOrPromise"
    secret_fields: tuple[SecretField, ...] = ()
    # What must be set before the gateway works: credentials, and settings fields (a bank
    # account). A method is offered when one of its gateways has all of them.
    required_secrets: tuple[str, ...] = ()
    required_settings: tuple[str, ...] = ()
    # The settings row's fields the admin fills in for it beyond the common ones.
    settings_fields: tuple[str, ...] = ()
    # Where the panel calls the gateway's API, and the PANEL_* setting that moves it (test
    # servers only; never the admin: the secret key goes with every call).
    default_api_base: str = ""
    api_base_setting: str = ""
    # How a payment starts: True, the customer starts it on the add-funds page (start() makes
    # the session or invoice); False, the gateway reports money that arrived on its own.
    starts_payments: bool = False
    # How long after a payment starts the gateway may still report it paid (its session or
    # invoice expired, a delayed method settled): a deposit still pending after that was
    # abandoned, its "expired" report lost (gateways.closing.deposits_close_expired). None: no
    # such bound is known, and only the gateway or an admin closes a pending deposit.
    payable_for: timedelta | None = None
    finality: str = Finality.TRANSFER
    success_body: Mapping[str, object] = {"success": True}

    def is_ready(self, config: GatewayConfig) -> bool:
        return all(config.secret(name) for name in self.required_secrets) and all(
            getattr(config, name) for name in self.required_settings
        )

    def api_base(self) -> str:
        override = getattr(settings, self.api_base_setting) if self.api_base_setting else ""
        return str(override or self.default_api_base)

    def start(
        self, *, deposit: Deposit, config: GatewayConfig, return_url: str, callback_url: str
    ) -> str:
        """Create the payment at the gateway; returns the URL to send the customer to."""
        raise NotImplementedError(f"{self.gateway} payments are not started from the panel")

    def expire(self, *, deposit: Deposit, config: GatewayConfig) -> bool:
        """Close the deposit's session or invoice at the gateway so it can no longer be paid;
        False when the gateway's API has no such call or the call failed (a payment that still
        comes lands in Deposit.Status.PAID_LATE). Never raises."""
        return False

    def verify(self, *, webhook: Webhook, config: GatewayConfig) -> dict:
        """The authenticated webhook body; raises WebhookRejected."""
        raise NotImplementedError

    def apply(self, *, data: dict, config: GatewayConfig) -> DepositOutcome | None:
        """Record what the webhook reports; None when it reports nothing to record."""
        raise NotImplementedError


def webhook_secret(config: GatewayConfig, name: str) -> str:
    """The secret a webhook is checked with; without it the webhook URL answers 404 as if the
    gateway did not exist. A gateway switched off (or no longer offered) still has its
    secret checked and its report recorded: switching off stops new payments, while money a
    customer already sent, or a session already open, must still be credited or reviewed."""
    secret = config.secret(name)
    if not secret:
        raise WebhookRejected("gateway not configured", status=404)
    return secret


def json_object(body: bytes) -> dict:
    """The body as a JSON object with exact decimals; raises WebhookRejected otherwise."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WebhookRejected("malformed body") from exc
    if not isinstance(data, dict):
        raise WebhookRejected("malformed body")
    return data


def require_storable(data: object) -> None:
    """Refuse a payload with text the database cannot keep (a NUL byte, a lone surrogate):
    its raw copy is stored on the deposit, and a caller's bytes must never cause a 500."""
    if isinstance(data, str):
        if not is_storable(data):
            raise WebhookRejected("malformed body")
    elif isinstance(data, dict):
        for key, value in data.items():
            require_storable(key)
            require_storable(value)
    elif isinstance(data, list):
        for value in data:
            require_storable(value)


def positive_amount(value: object) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise WebhookRejected("bad amount")
    try:
        amount = parse_money(value)
    except ValueError as exc:
        raise WebhookRejected("bad amount") from exc
    if amount <= 0 or amount > Decimal(10) ** 13:
        raise WebhookRejected("bad amount")
    return amount


def external_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise WebhookRejected("missing transaction id")
    text = str(value).strip()
    if len(text) > 128:
        raise WebhookRejected("bad transaction id")
    return text


def text_field(data: Mapping[str, object], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise WebhookRejected(f"bad {name}")
    return str(value)


def payer_name_normalize(name: str) -> str:
    """A bank account holder's name as one spelling: upper case, accents and spacing dropped
    ("Nguyễn  Văn A" and "NGUYEN VAN A" are one payer)."""
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.upper().split())[:128]


def stored_payload(data: dict) -> dict:
    """The payload as stored on the deposit: exact decimals written as text."""
    return json.loads(json.dumps(data, default=str))


def bank_key(*, account: str, reference: str, when: str) -> BankKey | None:
    """What the bank says about a transfer, as both SePay and Casso pass it through: the
    receiving account, the bank's transaction reference and the day of the transaction (the
    first ten characters, `YYYY-MM-DD`, of their local-time stamp). None when any is missing:
    such a transfer is then kept once per reporter only."""
    account, reference = account.strip(), " ".join(reference.split()).upper()
    if not account or not reference or len(account) > 32 or len(reference) > 128:
        return None
    try:
        day = date.fromisoformat(when.strip()[:10])
    except ValueError:
        return None
    return BankKey(account=account, reference=reference, day=day)
