"""The settings in force for each method: the admin's row over the PANEL_* environment values.

A method is offered only when one of its gateways has everything it needs (credentials, a bank
account) and the method has a rate; a half-set gateway is simply not shown, never half-working.
What each gateway needs is the gateway's own fact (payments.gateways.registry)."""

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from django.conf import settings

from core.money import panel_currency
from core.tenancy import current_panel_id
from payments.banks import Bank, bank_for
from payments.models import BankAccount, GatewaySettings, Method
from payments.registry import gateways_for, method_labels, secret_fields

# The key of the account the PANEL_BANK_* settings name (the admin's rows use their ids).
ENV_ACCOUNT_KEY = "env"


@dataclass(frozen=True)
class ReceivingAccount:
    """A bank account customers transfer to, as the add-funds page shows it."""

    key: str
    bank_bin: str
    number: str
    holder: str

    @property
    def bank(self) -> Bank | None:
        return bank_for(self.bank_bin)


@dataclass(frozen=True)
class GatewayConfig:
    method: str
    is_enabled: bool
    currency: str
    rate: Decimal | None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    # The accounts shown to customers, first tab first; and every account number a reported
    # transfer may arrive in (the hidden ones too).
    bank_accounts: tuple[ReceivingAccount, ...] = ()
    receiving_numbers: frozenset[str] = frozenset()
    transfer_prefix: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    # The method's gateways (by Deposit.gateway value) that have all they need.
    ready_gateways: tuple[str, ...] = ()

    def secret(self, name: str) -> str:
        return self.secrets.get(name, "")

    @property
    def is_offered(self) -> bool:
        return bool(self.is_enabled and self.rate is not None and self.currency) and bool(
            self.ready_gateways
        )


def _env_rate(text: str) -> Decimal | None:
    try:
        rate = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return rate if rate.is_finite() and rate > 0 else None


def vnd_rate() -> Decimal | None:
    """PANEL_VND_RATE: đồng per one unit of PANEL_CURRENCY; None when unset or not a rate."""
    return _env_rate(settings.PANEL_VND_RATE)


def _default_rate(currency: str) -> Decimal | None:
    # The served panel's currency: a child panel in đồng takes a transfer at 1 đồng a đồng.
    own = panel_currency().upper()
    if currency and currency.upper() == own:
        return Decimal(1)
    if currency.upper() == "VND" and own == settings.PANEL_CURRENCY.upper():
        return vnd_rate()
    return None


def gateway_config(*, method: str) -> GatewayConfig:
    """The settings of the panel being served (core.tenancy): the parent's, or a child panel's
    own (its owner's account and keys). A child panel never falls back to the parent's PANEL_*
    credentials or account: its customers pay its owner, or nobody."""
    panel_id = current_panel_id()
    row = GatewaySettings.objects.filter(method=method, child_panel_id=panel_id).first()
    stored = row.secrets if row else {}
    # A credential the admin left empty falls back to its PANEL_* setting, where it has one.
    secrets = {
        secret.name: stored.get(secret.name)
        or (getattr(settings, secret.setting) if secret.setting and panel_id is None else "")
        for secret in secret_fields(method)
    }
    config = _bank_config(row) if method == Method.BANK else _config(method, row)
    config = replace(config, secrets={name: value for name, value in secrets.items() if value})
    ready = tuple(gateway.gateway for gateway in gateways_for(method) if gateway.is_ready(config))
    return replace(config, ready_gateways=ready)


def _config(method: str, row: GatewaySettings | None) -> GatewayConfig:
    currency = (row.currency if row else "") or panel_currency()
    return GatewayConfig(
        method=method,
        is_enabled=row.is_enabled if row else False,
        currency=currency.upper(),
        rate=(row.rate if row and row.rate else None) or _default_rate(currency),
        min_amount=row.min_amount if row else None,
        max_amount=row.max_amount if row else None,
    )


def _receiving_accounts() -> tuple[tuple[ReceivingAccount, ...], frozenset[str]]:
    """The admin's accounts; with none at all, the one the PANEL_BANK_* settings name."""
    panel_id = current_panel_id()
    rows = list(BankAccount.objects.filter(child_panel_id=panel_id))
    if rows:
        shown = tuple(
            ReceivingAccount(
                key=str(row.pk),
                bank_bin=row.bank_bin,
                number=row.account_number,
                holder=row.holder,
            )
            for row in rows
            if row.is_active
        )
        return shown, frozenset(row.account_number for row in rows)
    if panel_id is not None or not (settings.PANEL_BANK_BIN and settings.PANEL_BANK_ACCOUNT):
        return (), frozenset()
    account = ReceivingAccount(
        key=ENV_ACCOUNT_KEY,
        bank_bin=settings.PANEL_BANK_BIN,
        number=settings.PANEL_BANK_ACCOUNT,
        holder=settings.PANEL_BANK_ACCOUNT_NAME,
    )
    return (account,), frozenset({account.number})


def _bank_config(row: GatewaySettings | None) -> GatewayConfig:
    accounts, numbers = _receiving_accounts()
    return GatewayConfig(
        method=Method.BANK,
        is_enabled=row.is_enabled if row else True,
        currency="VND",
        rate=(row.rate if row and row.rate else None) or _default_rate("VND"),
        min_amount=row.min_amount if row else None,
        max_amount=row.max_amount if row else None,
        bank_accounts=accounts,
        receiving_numbers=numbers,
        transfer_prefix=(
            (row.transfer_prefix if row else "") or settings.PANEL_TRANSFER_PREFIX
        ).upper(),
    )


def offered_methods() -> list[GatewayConfig]:
    configs = [gateway_config(method=method) for method in method_labels()]
    return [config for config in configs if config.is_offered]
