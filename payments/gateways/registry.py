"""The gateways the panel knows, one line each. Adding a gateway is its module (a
`base.PaymentGateway` with its facts) plus its line here: the admin's settings form, the
add-funds page, the webhook URL and the deposit choices are derived from this list."""

from typing import TYPE_CHECKING

from payments.gateways.base import PaymentGateway, SecretField
from payments.gateways.casso import CassoGateway
from payments.gateways.cryptomus import CryptomusGateway
from payments.gateways.sepay import SePayGateway
from payments.gateways.stripe import StripeGateway

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

REGISTERED: tuple[PaymentGateway, ...] = (
    SePayGateway(),
    CassoGateway(),
    StripeGateway(),
    CryptomusGateway(),
)

# By webhook URL segment (the Deposit.gateway value).
GATEWAYS: dict[str, PaymentGateway] = {gateway.gateway: gateway for gateway in REGISTERED}


def gateways_for(method: str) -> tuple[PaymentGateway, ...]:
    return tuple(gateway for gateway in REGISTERED if gateway.method == method)


def method_labels() -> dict[str, "StrOrPromise"]:
    """Every method (settings row), in registry order, with how a customer reads it."""
    return {gateway.method: gateway.method_label for gateway in REGISTERED}


def starting_gateway(method: str) -> PaymentGateway | None:
    """The gateway a customer starts a payment of `method` with, if payments start here."""
    return next((g for g in gateways_for(method) if g.starts_payments), None)


def secret_fields(method: str | None = None) -> tuple[SecretField, ...]:
    """The credentials of one method's gateways (of all of them with no method), each once."""
    chosen = gateways_for(method) if method is not None else REGISTERED
    fields = {field.name: field for gateway in chosen for field in gateway.secret_fields}
    return tuple(fields.values())


def settings_fields(method: str) -> tuple[str, ...]:
    """The settings row's fields a method's gateways use beyond the common ones (a bank account)."""
    names = [name for gateway in gateways_for(method) for name in gateway.settings_fields]
    return tuple(dict.fromkeys(names))
