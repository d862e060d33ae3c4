"""The payment gateways the panel knows, and what is derived from them (the methods a customer
chooses, the admin's credential fields, the deposit choices).

The list itself is `payments/gateways/registry.py`, one line per gateway; it fills this module
when the app is ready (`PaymentsConfig.ready`). Models, config and views read from here, a
module that imports none of the gateways it describes, so the app has no import cycle."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from payments.gateways.base import PaymentGateway


@dataclass(frozen=True)
class SecretField:
    """A credential the admin enters (write-only, encrypted at rest)."""

    name: str
    label: "StrOrPromise"
    # A PANEL_* setting that supplies it when the admin's settings leave it empty.
    setting: str = ""


REGISTERED: "tuple[PaymentGateway, ...]" = ()
# By webhook URL segment (the Deposit.gateway value).
GATEWAYS: "dict[str, PaymentGateway]" = {}


def register(*gateways: "PaymentGateway") -> None:
    """Make `gateways` the panel's, in this order (called once, by the gateways' list)."""
    global REGISTERED
    REGISTERED = tuple(gateways)
    GATEWAYS.clear()
    GATEWAYS.update((gateway.gateway, gateway) for gateway in REGISTERED)


def gateways_for(method: str) -> "tuple[PaymentGateway, ...]":
    return tuple(gateway for gateway in REGISTERED if gateway.method == method)


def method_labels() -> "dict[str, StrOrPromise]":
    """Every method (settings row), in registry order, with how a customer reads it."""
    return {gateway.method: gateway.method_label for gateway in REGISTERED}


def starting_gateway(method: str) -> "PaymentGateway | None":
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
