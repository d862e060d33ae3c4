"""Each gateway is a small module behind one interface (`base.PaymentGateway`): start a payment,
verify a webhook, map it to a deposit. `GATEWAYS` names them by their webhook URL segment."""

from payments.config import GatewayConfig
from payments.gateways.base import PaymentGateway, StartFailed, Webhook, WebhookRejected
from payments.gateways.casso import CassoGateway
from payments.gateways.cryptomus import CryptomusGateway
from payments.gateways.sepay import SePayGateway
from payments.gateways.stripe import StripeGateway
from payments.models import Method

GATEWAYS: dict[str, PaymentGateway] = {
    gateway.gateway: gateway
    for gateway in (SePayGateway(), CassoGateway(), StripeGateway(), CryptomusGateway())
}


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
