"""SePay: a JSON POST per bank transaction, `Authorization: Apikey <key>`; only `transferType`
"in" to the configured account counts; `id` is the transaction's unique id; the answer it
expects is `{"success": true}` with a 2xx. `code` is the payment code SePay itself found in the
text (by the structure set in its dashboard), null when none; `referenceCode`, `accountNumber`,
`transferAmount` and `transactionDate` are the bank's, the same a Casso report carries."""

import hmac

from django.utils.translation import gettext_lazy

from payments.config import GatewayConfig
from payments.gateways import bank
from payments.gateways.base import (
    PaymentGateway,
    SecretField,
    Webhook,
    WebhookRejected,
    bank_key,
    external_id,
    json_object,
    positive_amount,
    stored_payload,
    text_field,
    webhook_secret,
)
from payments.models import Gateway, Method
from payments.services import DepositOutcome
from payments.services.transfers import Transfer


class SePayGateway(PaymentGateway):
    gateway = Gateway.SEPAY
    label = Gateway.SEPAY.label
    method = Method.BANK
    name = "SePay"
    key_field = "sepay_api_key"
    method_label = Method.BANK.label
    secret_fields = (
        SecretField("sepay_api_key", gettext_lazy("SePay API key"), setting="PANEL_SEPAY_API_KEY"),
    )
    required_secrets = ("sepay_api_key",)
    required_settings = bank.REQUIRED_ACCOUNT_FIELDS
    settings_fields = bank.ACCOUNT_FIELDS

    def verify(self, *, webhook: Webhook, config: GatewayConfig) -> dict:
        key = webhook_secret(config, self.key_field)
        scheme, _, given = webhook.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "apikey" or not hmac.compare_digest(
            given.strip().encode(), key.encode()
        ):
            raise WebhookRejected("bad api key", status=401)
        return json_object(webhook.body)

    def apply(self, *, data: dict, config: GatewayConfig) -> DepositOutcome | None:
        transfer_id = external_id(data.get("id"))
        if text_field(data, "transferType").lower() != "in":
            return None  # money going out is not a deposit; SePay only needs the 2xx
        amount = positive_amount(data.get("transferAmount"))
        code, account = text_field(data, "code"), text_field(data, "accountNumber")
        transfer = Transfer(
            gateway=self.gateway,
            external_id=transfer_id,
            amount=amount,
            content=" ".join(part for part in (code, text_field(data, "content")) if part),
            payload=stored_payload(data),
            code=code,
            bank=bank_key(
                account=account,
                reference=text_field(data, "referenceCode"),
                when=text_field(data, "transactionDate"),
            ),
        )
        return bank.receive(transfer=transfer, account=account, config=config)
