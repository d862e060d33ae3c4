"""A gateway carries its own facts (credentials, API, how a payment starts) and the registry
lists it once: the settings form, the add-funds page, the start and webhook URLs and the deposit
choices follow, with nothing else to edit."""

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils.translation import gettext_lazy

from accounts.models import User
from payments import registry
from payments.config import GatewayConfig, gateway_config
from payments.gateways.base import PaymentGateway, SecretField, Webhook, WebhookRejected
from payments.models import Deposit, GatewaySettings, gateway_choices, method_choices
from payments.services import DepositOutcome, deposit_attach_external, deposit_confirm_paid

pytestmark = pytest.mark.django_db


class ToyPayGateway(PaymentGateway):
    """A made-up card gateway: what a new gateway's module holds, and nothing more."""

    gateway = "toypay"
    label = gettext_lazy("Card (ToyPay)")
    method = "toypay"
    method_label = gettext_lazy("Card (ToyPay)")
    secret_fields = (SecretField("toy_key", gettext_lazy("ToyPay key")),)
    required_secrets = ("toy_key",)
    default_api_base = "https://api.toypay.example"
    starts_payments = True

    def start(
        self, *, deposit: Deposit, config: GatewayConfig, return_url: str, callback_url: str
    ) -> str:
        deposit_attach_external(deposit_id=deposit.pk, external_id=f"toy_{deposit.pk}")
        return f"{self.api_base()}/pay/toy_{deposit.pk}"

    def verify(self, *, webhook: Webhook, config: GatewayConfig) -> dict:
        if webhook.headers.get("X-Toy-Key") != config.secret("toy_key"):
            raise WebhookRejected("bad key", status=401)
        return json.loads(webhook.body)

    def apply(self, *, data: dict, config: GatewayConfig) -> DepositOutcome | None:
        return deposit_confirm_paid(
            gateway=self.gateway,
            external_id=data["id"],
            reference="",
            amount=Decimal(data["amount"]),
            currency=config.currency,
            payload=data,
        )


@pytest.fixture
def toypay(monkeypatch: Any) -> PaymentGateway:
    gateway = ToyPayGateway()
    # The one line a new gateway adds to registry.REGISTERED.
    monkeypatch.setattr(registry, "REGISTERED", (*registry.REGISTERED, gateway))
    monkeypatch.setitem(registry.GATEWAYS, gateway.gateway, gateway)
    return gateway


def test_a_registered_gateway_is_offered_started_and_credited(
    client: Client, customer: User, staff: User, toypay: PaymentGateway
) -> None:
    # given: the admin sets it up through the ordinary settings form
    admin = Client()
    admin.force_login(staff)
    add_page = admin.get("/admin/payments/gatewaysettings/add/").content.decode()
    assert 'name="toy_key"' in add_page and "ToyPay key" in add_page
    response = admin.post(
        "/admin/payments/gatewaysettings/add/",
        {"method": "toypay", "is_enabled": "on", "currency": "USD", "rate": "1", "toy_key": "k1"},
    )
    assert response.status_code == 302
    assert GatewaySettings.objects.get(method="toypay").secrets == {"toy_key": "k1"}
    assert gateway_config(method="toypay").is_offered

    # when: the customer pays with it and its webhook reports the payment
    client.force_login(customer)
    assert "Card (ToyPay)" in client.get("/add-funds/").content.decode()
    started = client.post("/add-funds/toypay/start/", {"amount": "12.50"})
    deposit = Deposit.objects.get(gateway="toypay")
    paid = Client().post(
        "/payments/webhooks/toypay/",
        data=json.dumps({"id": deposit.external_id, "amount": "12.50"}),
        content_type="application/json",
        HTTP_X_TOY_KEY="k1",
    )

    # then
    assert started["Location"] == f"https://api.toypay.example/pay/toy_{deposit.pk}"
    assert paid.status_code == 200
    deposit.refresh_from_db()
    assert (deposit.status, deposit.credited_amount) == ("credited", Decimal("12.5"))
    assert deposit.get_gateway_display() == "Card (ToyPay)"
    assert ("toypay", "Card (ToyPay)") in gateway_choices()
    assert ("toypay", "Card (ToyPay)") in method_choices()


def test_a_gateway_missing_a_required_secret_is_not_offered(toypay: PaymentGateway) -> None:
    GatewaySettings.objects.create(method="toypay", currency="USD", rate=Decimal(1))
    assert not gateway_config(method="toypay").is_offered


def test_the_builtin_gateways_facts() -> None:
    """What the settings form, the add-funds page and the webhooks are derived from."""
    assert list(registry.GATEWAYS) == ["sepay", "casso", "stripe", "cryptomus"]
    assert list(registry.method_labels()) == ["bank", "stripe", "cryptomus"]
    assert [g.gateway for g in registry.gateways_for("bank")] == ["sepay", "casso"]
    assert registry.starting_gateway("bank") is None
    assert registry.starting_gateway("stripe") is registry.GATEWAYS["stripe"]
    assert [s.name for s in registry.secret_fields("bank")] == [
        "sepay_api_key",
        "casso_checksum_key",
    ]
    assert registry.GATEWAYS["stripe"].default_api_base == "https://api.stripe.com"


@pytest.mark.usefixtures("bank")
def test_a_bank_transfer_is_offered_with_either_reporter(settings: Any) -> None:
    settings.PANEL_CASSO_CHECKSUM_KEY = ""
    assert gateway_config(method="bank").ready_gateways == ("sepay",)
    assert gateway_config(method="bank").is_offered
    settings.PANEL_SEPAY_API_KEY = ""
    assert not gateway_config(method="bank").is_offered
