"""The proof of issue 20, end to end with a real Celery worker (and its beat) on Redis: a child
panel's customer tops up through the child's own bank-transfer webhook (SePay, then Casso
reporting the same transfer), orders on the child, the worker forwards it to the parent's
/api/v2 as the owner, the parent's order goes to the sandbox, ends Partial, and each level is
refunded exactly in its own currency (the child in đồng, the parent in dollars); check_ledger is
clean for every account of both levels."""

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from pytest_django.live_server_helper import LiveServer

from accounts.models import BalanceTransaction, ChildPanelState, User
from core.tenancy import panel_scope
from orders.models import Order, OrderStatus
from orders.pricing import partial_refund
from orders.services import order_place
from panel.child_panels.payments import child_panel_payments_set
from panel.child_panels.services import child_panel_create, child_panel_move
from payments.models import Deposit, TransferReport
from providers.models import Provider, Service, ServiceType
from providers.services import catalog_sync, provider_create
from sandbox import SandboxConfig, SandboxServer
from tests.e2e.processes import (
    FAST_PANEL,
    Process,
    celery_worker,
    flush_run_broker,
    manage,
    shared_database_url,
    wait_until,
)
from tests.factories import UserFactory
from tests.payments.senders import casso_body, casso_signature, sepay_body

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHILD = "shop.example.vn"
ACCOUNT = "1903555566667"
SEPAY_KEY, CASSO_KEY = "child-sepay-key-e2e", "child-casso-key-e2e"
VND_PER_USD = Decimal(25000)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        key="sandbox-key",
        services=12,
        products=0,
        seed=7,
        pending_seconds=0.5,
        run_seconds=1.5,
        partial_rate=1,
        cancel_rate=0,
    )
    with SandboxServer(config, port=0) as server:
        yield server


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        **FAST_PANEL,
    }
    process = celery_worker(env)
    yield process
    process.stop()


def _post(live_server: LiveServer, gateway: str, body: dict, headers: dict[str, str]) -> int:
    """A webhook as the reporter sends it: real HTTP, to the child panel's host."""
    return requests.post(
        f"{live_server.url}/payments/webhooks/{gateway}/",
        data=json.dumps(body).encode(),
        headers={"Host": CHILD, "Content-Type": "application/json", **headers},
        timeout=10,
    ).status_code


def test_a_child_customer_tops_up_through_the_childs_webhook_orders_and_every_level_is_refunded_exactly(
    sandbox: SandboxServer, live_server: LiveServer, worker: Process
) -> None:
    # given: the parent in dollars selling the sandbox, and a child panel in đồng
    settings.PANEL_CHILD_PANEL_API_URL = f"{live_server.url}/api/v2"
    settings.PANEL_VND_RATE = str(VND_PER_USD)
    provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    owner = UserFactory(username="owner", funds=Decimal(100))
    child = child_panel_create(
        domain=CHILD, owner=owner, name="Shop", currency="VND", markup_percent=Decimal(20)
    )
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    link = Provider.objects.get(child_panel=child)
    catalog_sync(provider=link)
    child_panel_payments_set(
        owner=owner,
        child_panel_id=child.pk,
        bank_bin="970422",
        account_number=ACCOUNT,
        holder="NGUYEN VAN CHU",
        transfer_prefix="SHOP",
        keys={"sepay_api_key": SEPAY_KEY, "casso_checksum_key": CASSO_KEY},
    )
    with panel_scope(child.pk, currency=child.currency):
        carol: User = UserFactory(username="carol", child_panel=child)

    # when: she transfers 500,000 đồng to the owner's account; SePay reports it twice (a
    # replay), Casso once, all to the child's host
    bank = {"referenceCode": "FT26340999", "transactionDate": "2026-12-06 09:30:00"}
    sepay = sepay_body(
        transfer_id=70001,
        amount=500000,
        content=f"SHOP{carol.pk} nap tien",
        accountNumber=ACCOUNT,
        **bank,
    )
    casso = casso_body(transfer_id=80001, amount=500000, description=f"SHOP{carol.pk} nap tien")
    casso["data"].update(
        accountNumber=ACCOUNT, reference="FT26340999", transactionDateTime="2026-12-06 09:30:04"
    )
    for _ in range(2):
        assert _post(live_server, "sepay", sepay, {"Authorization": f"Apikey {SEPAY_KEY}"}) == 200
    signature = casso_signature(casso, key=CASSO_KEY)
    assert _post(live_server, "casso", casso, {"X-Casso-Signature": signature}) == 200

    # then: credited once, on her ledger, in đồng; the owner's balance untouched
    deposit = Deposit.objects.get()
    assert (deposit.child_panel_id, deposit.user_id) == (child.pk, carol.pk)
    assert TransferReport.objects.get().deposit_id == deposit.pk
    carol.refresh_from_db(), owner.refresh_from_db()
    assert (carol.balance, carol.currency) == (Decimal(500000), "VND")
    assert owner.balance == Decimal(100)

    # when: she orders on the child; the worker forwards it up the chain to the sandbox
    parent_service = (
        Service.objects.filter(provider=provider, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    assert parent_service is not None
    child_service = Service.objects.get(provider=link, upstream_id=str(parent_service.pk))
    with panel_scope(child.pk, currency=child.currency):
        placed = order_place(
            user=carol,
            service_id=child_service.pk,
            fields={
                "link": "https://instagram.com/p/e2e-child",
                "quantity": str(child_service.min * 2),
            },
        )
    logs = [worker]
    bought = wait_until(
        lambda: Order.objects.filter(user=owner).first(),
        timeout=60,
        what="the parent's order bought as the owner",
        logs=logs,
    )
    assert isinstance(bought, Order)
    wait_until(
        lambda: (
            Order.objects.filter(pk__in=[placed.pk, bought.pk], status=OrderStatus.PARTIAL).count()
            == 2
        ),
        timeout=120,
        interval=0.5,
        what="both levels to end Partial",
        logs=logs,
    )

    # then: each level refunded exactly at its own price, in its own currency
    mine, bought = Order.objects.get(pk=placed.pk), Order.objects.get(pk=bought.pk)
    assert Order.objects.get(pk=placed.pk).upstream_id == str(bought.pk)
    # the child's cost is what the owner finally paid (his charge less his refund), in đồng
    assert mine.cost == (bought.charge - bought.refunded) * VND_PER_USD
    assert bought.refunded == partial_refund(
        charge=bought.charge, remains=bought.remains, total_quantity=bought.total_quantity
    )
    assert mine.refunded == partial_refund(
        charge=mine.charge, remains=mine.remains, total_quantity=mine.total_quantity
    )
    assert mine.refunded > 0 and bought.refunded > 0
    carol.refresh_from_db(), owner.refresh_from_db()
    assert carol.balance == Decimal(500000) - mine.charge + mine.refunded
    assert owner.balance == Decimal(100) - bought.charge + bought.refunded

    def lines(user: User) -> list[tuple[str, Decimal]]:
        rows = BalanceTransaction.objects.filter(user=user).order_by("id")
        return list(rows.values_list("kind", "amount"))

    assert lines(carol) == [
        ("deposit", Decimal(500000)),
        ("charge", -mine.charge),
        ("refund", mine.refunded),
    ]
    assert lines(owner)[1:] == [("charge", -bought.charge), ("refund", bought.refunded)]
    # check_ledger, the operators' command, over every account of both levels
    assert "ledger ok" in manage(
        {"DJANGO_SETTINGS_MODULE": "panel.settings_test", "DATABASE_URL": shared_database_url()},
        "check_ledger",
    )
