"""The gateways the panel knows, one line each. Adding a gateway is its module (a
`base.PaymentGateway` with its facts) plus its line here: the admin's settings form, the
add-funds page, the webhook URL and the deposit choices are derived from this list
(`payments.registry` holds what is derived; this module fills it when the app is ready)."""

from payments.gateways.casso import CassoGateway
from payments.gateways.cryptomus import CryptomusGateway
from payments.gateways.sepay import SePayGateway
from payments.gateways.stripe import StripeGateway
from payments.registry import register

register(
    SePayGateway(),
    CassoGateway(),
    StripeGateway(),
    CryptomusGateway(),
)
