"""Each gateway is a small module behind one interface (`base.PaymentGateway`): its facts (the
credentials it needs, its API, how a payment starts), then start a payment, verify a webhook,
map it to a deposit. `registry.GATEWAYS` lists them by their webhook URL segment."""

from payments.gateways.base import PaymentGateway, StartFailed, Webhook, WebhookRejected
from payments.gateways.registry import GATEWAYS

__all__ = ["GATEWAYS", "PaymentGateway", "StartFailed", "Webhook", "WebhookRejected"]
