"""A configured bank gateway (through the PANEL_* settings) and Stripe/Cryptomus settings rows."""

import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import HTTPServer
from typing import Any

import pytest

from payments.models import GatewaySettings, Method
from tests.payments.senders import (
    BANK_ACCOUNT,
    CASSO_KEY,
    CRYPTOMUS_KEY,
    SEPAY_KEY,
    STRIPE_WEBHOOK_SECRET,
    GatewayStub,
)


@pytest.fixture
def bank(settings: object) -> None:
    settings.PANEL_BANK_BIN = "970436"
    settings.PANEL_BANK_ACCOUNT = BANK_ACCOUNT
    settings.PANEL_BANK_ACCOUNT_NAME = "SMM PANEL CO"
    settings.PANEL_TRANSFER_PREFIX = "NAP"
    settings.PANEL_SEPAY_API_KEY = SEPAY_KEY
    settings.PANEL_CASSO_CHECKSUM_KEY = CASSO_KEY
    settings.PANEL_VND_RATE = "25000"


@pytest.fixture
def stripe_gateway(db: None) -> GatewaySettings:
    row = GatewaySettings(method=Method.STRIPE, currency="USD", rate=Decimal(1))
    row.secrets = {"secret_key": "sk_test_123", "webhook_secret": STRIPE_WEBHOOK_SECRET}
    row.save()
    return row


@pytest.fixture
def cryptomus_gateway(db: None) -> GatewaySettings:
    row = GatewaySettings(method=Method.CRYPTOMUS, currency="USD", rate=Decimal(1))
    row.secrets = {"merchant_id": "merchant-uuid", "payment_key": CRYPTOMUS_KEY}
    row.save()
    return row


@pytest.fixture
def stub(settings: Any) -> Iterator[str]:
    """Stripe's and Cryptomus' APIs on loopback (GatewayStub), where the panel calls them."""
    GatewayStub.requests = []
    server = HTTPServer(("127.0.0.1", 0), GatewayStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    # The API base comes from the environment only (PaymentGateway.api_base).
    settings.PANEL_STRIPE_API_BASE = settings.PANEL_CRYPTOMUS_API_BASE = url
    yield url
    server.shutdown()
