"""Each gateway is a small module behind one interface (`base.PaymentGateway`): its facts (the
credentials it needs, its API, how a payment starts), then start a payment, verify a webhook,
map it to a deposit. `payments.registry.GATEWAYS` lists them by their webhook URL segment."""

import payments.gateways.registry  # noqa: F401  (fills payments.registry before it is read below)
from payments.config import GatewayConfig
from payments.gateways.base import PaymentGateway, StartFailed, Webhook, WebhookRejected
from payments.models import Method
from payments.registry import GATEWAYS

BANK_REPORTERS = tuple(gateway for gateway in GATEWAYS.values() if gateway.method == Method.BANK)


def bank_reporters(config: GatewayConfig) -> list[PaymentGateway]:
    """The services that report bank transfers to this panel: those whose webhook key is set
    (in the admin or the environment). One is the rule; two each report every transfer."""
    return [gateway for gateway in BANK_REPORTERS if config.secret(gateway.key_field)]


__all__ = [
    "BANK_REPORTERS",
    "GATEWAYS",
    "PaymentGateway",
    "StartFailed",
    "Webhook",
    "WebhookRejected",
    "bank_reporters",
]
