"""The settings in force for each method: the admin's row over the PANEL_* environment values.

A method is offered only when one of its gateways has everything it needs (credentials, a bank
account) and the method has a rate; a half-set gateway is simply not shown, never half-working.
What each gateway needs is the gateway's own fact (payments.gateways.registry)."""

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from django.conf import settings

from payments.models import GatewaySettings, Method
from payments.registry import gateways_for, method_labels, secret_fields


@dataclass(frozen=True)
class GatewayConfig:
    method: str
    is_enabled: bool
    currency: str
    rate: Decimal | None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    bank_bin: str = ""
    bank_account: str = ""
    bank_account_name: str = ""
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


def _default_rate(currency: str) -> Decimal | None:
    if currency and currency.upper() == settings.PANEL_CURRENCY.upper():
        return Decimal(1)
    if currency.upper() == "VND":
        return _env_rate(settings.PANEL_VND_RATE)
    return None


def gateway_config(*, method: str) -> GatewayConfig:
    row = GatewaySettings.objects.filter(method=method).first()
    stored = row.secrets if row else {}
    # A credential the admin left empty falls back to its PANEL_* setting, where it has one.
    secrets = {
        secret.name: stored.get(secret.name)
        or (getattr(settings, secret.setting) if secret.setting else "")
        for secret in secret_fields(method)
    }
    config = _bank_config(row) if method == Method.BANK else _config(method, row)
    config = replace(config, secrets={name: value for name, value in secrets.items() if value})
    ready = tuple(gateway.gateway for gateway in gateways_for(method) if gateway.is_ready(config))
    return replace(config, ready_gateways=ready)


def _config(method: str, row: GatewaySettings | None) -> GatewayConfig:
    currency = (row.currency if row else "") or settings.PANEL_CURRENCY
    return GatewayConfig(
        method=method,
        is_enabled=row.is_enabled if row else False,
        currency=currency.upper(),
        rate=(row.rate if row and row.rate else None) or _default_rate(currency),
        min_amount=row.min_amount if row else None,
        max_amount=row.max_amount if row else None,
    )


def _bank_config(row: GatewaySettings | None) -> GatewayConfig:
    return GatewayConfig(
        method=Method.BANK,
        is_enabled=row.is_enabled if row else True,
        currency="VND",
        rate=(row.rate if row and row.rate else None) or _default_rate("VND"),
        min_amount=row.min_amount if row else None,
        max_amount=row.max_amount if row else None,
        bank_bin=(row.bank_bin if row else "") or settings.PANEL_BANK_BIN,
        bank_account=(row.bank_account if row else "") or settings.PANEL_BANK_ACCOUNT,
        bank_account_name=(row.bank_account_name if row else "")
        or settings.PANEL_BANK_ACCOUNT_NAME,
        transfer_prefix=(
            (row.transfer_prefix if row else "") or settings.PANEL_TRANSFER_PREFIX
        ).upper(),
    )


def offered_methods() -> list[GatewayConfig]:
    configs = [gateway_config(method=method) for method in method_labels()]
    return [config for config in configs if config.is_offered]
