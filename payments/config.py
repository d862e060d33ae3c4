"""The settings in force for each method: the admin's row over the PANEL_* environment values.

A method is offered only when it has everything it needs (credentials, a rate); a half-set
gateway is simply not shown, never half-working."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings

from payments.models import GatewaySettings, Method

# What each method needs before it is offered.
REQUIRED_SECRETS = {
    Method.BANK: (),
    Method.STRIPE: ("secret_key", "webhook_secret"),
    Method.CRYPTOMUS: ("merchant_id", "payment_key"),
}
SECRET_FIELDS = {
    Method.BANK: ("sepay_api_key", "casso_checksum_key"),
    Method.STRIPE: ("secret_key", "webhook_secret"),
    Method.CRYPTOMUS: ("merchant_id", "payment_key"),
}
DEFAULT_API_BASE = {
    Method.STRIPE: "https://api.stripe.com",
    Method.CRYPTOMUS: "https://api.cryptomus.com",
}
API_BASE_SETTING = {
    Method.STRIPE: "PANEL_STRIPE_API_BASE",
    Method.CRYPTOMUS: "PANEL_CRYPTOMUS_API_BASE",
}


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

    def secret(self, name: str) -> str:
        return self.secrets.get(name, "")

    @property
    def api_base(self) -> str:
        """From the environment only: the secret key goes with every call there, and staff who
        may edit gateway settings must not be able to send it to a server of their own."""
        method = Method(self.method)
        if method not in API_BASE_SETTING:
            return ""
        return getattr(settings, API_BASE_SETTING[method]) or DEFAULT_API_BASE[method]

    @property
    def is_offered(self) -> bool:
        if not self.is_enabled or self.rate is None or not self.currency:
            return False
        if any(not self.secret(name) for name in REQUIRED_SECRETS[Method(self.method)]):
            return False
        if self.method == Method.BANK:
            has_reporter = bool(self.secret("sepay_api_key") or self.secret("casso_checksum_key"))
            return (
                bool(self.bank_bin and self.bank_account and self.transfer_prefix) and has_reporter
            )
        return True


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
    if method == Method.BANK:
        return _bank_config(row)
    currency = (row.currency if row else "") or settings.PANEL_CURRENCY
    return GatewayConfig(
        method=method,
        is_enabled=row.is_enabled if row else False,
        currency=currency.upper(),
        rate=(row.rate if row and row.rate else None) or _default_rate(currency),
        min_amount=row.min_amount if row else None,
        max_amount=row.max_amount if row else None,
        secrets=row.secrets if row else {},
    )


def _bank_config(row: GatewaySettings | None) -> GatewayConfig:
    stored = row.secrets if row else {}
    secrets = {
        "sepay_api_key": stored.get("sepay_api_key") or settings.PANEL_SEPAY_API_KEY,
        "casso_checksum_key": stored.get("casso_checksum_key") or settings.PANEL_CASSO_CHECKSUM_KEY,
    }
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
        secrets={name: value for name, value in secrets.items() if value},
    )


def offered_methods() -> list[GatewayConfig]:
    configs = [gateway_config(method=method) for method in Method.values]
    return [config for config in configs if config.is_offered]
