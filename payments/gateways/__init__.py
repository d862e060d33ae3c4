"""Each gateway is a small module behind one interface (`base.PaymentGateway`): start a payment,
verify a webhook, map it to a deposit. `GATEWAYS` names them by their webhook URL segment."""

from payments.gateways.base import PaymentGateway, StartFailed, Webhook, WebhookRejected
from payments.gateways.casso import CassoGateway
from payments.gateways.cryptomus import CryptomusGateway
from payments.gateways.sepay import SePayGateway
from payments.gateways.stripe import StripeGateway

GATEWAYS: dict[str, PaymentGateway] = {
    gateway.gateway: gateway
    for gateway in (SePayGateway(), CassoGateway(), StripeGateway(), CryptomusGateway())
}

__all__ = ["GATEWAYS", "PaymentGateway", "StartFailed", "Webhook", "WebhookRejected"]
