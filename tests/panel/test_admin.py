"""Every admin page an operator uses renders, and the admin's money and order actions go
through the services."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import BalanceTransaction, User
from orders.models import DispatchState, Order, OrderStatus
from orders.services import order_place
from providers.models import Provider, Service, ServiceType


@pytest.fixture
def admin_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture
def order(customer: User, catalog: Provider) -> Order:
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    return order_place(
        user=customer, service_id=service.pk, fields={"link": "@a", "quantity": str(service.min)}
    )


@pytest.mark.parametrize(
    "model",
    [
        "accounts/user",
        "accounts/balancetransaction",
        "accounts/apikey",
        "providers/provider",
        "providers/category",
        "providers/service",
        "providers/product",
        "providers/catalogchange",
        "orders/order",
        "orders/productorder",
        "orders/refill",
        "orders/cancelrequest",
    ],
)
def test_every_changelist_renders(admin_client: Client, order: Order, model: str) -> None:
    assert admin_client.get(f"/admin/{model}/").status_code == 200


@pytest.mark.parametrize(
    "view",
    [
        lambda o: reverse("admin:orders_order_change", args=[o.pk]),
        lambda o: reverse("admin:providers_provider_change", args=[o.provider_id]),
        lambda o: reverse("admin:providers_service_change", args=[o.service_id]),
        lambda o: reverse("admin:accounts_user_change", args=[o.user_id]),
        lambda o: reverse("admin:accounts_user_adjust_balance", args=[o.user_id]),
        lambda o: reverse("admin:orders_order_add"),
        lambda o: reverse("admin:orders_order_resolve", args=[o.pk]),
        lambda o: reverse("admin:orders_order_bulk_attach"),
    ],
)
def test_change_pages_render(
    admin_client: Client, order: Order, view: Callable[[Order], str]
) -> None:
    assert admin_client.get(view(order)).status_code == 200


def test_provider_key_is_never_rendered_back(admin_client: Client, provider: Provider) -> None:
    page = admin_client.get(
        reverse("admin:providers_provider_change", args=[provider.pk])
    ).content.decode()
    assert "sandbox-key" not in page and provider.api_key_encrypted not in page


def test_adjust_balance_writes_the_ledger_with_the_admin(
    admin_client: Client, customer: User, staff: User
) -> None:
    url = reverse("admin:accounts_user_adjust_balance", args=[customer.pk])
    admin_client.post(url, {"amount": "-10", "kind": "adjustment", "memo": "chargeback"})
    response = admin_client.post(url, {"amount": "-1000", "kind": "adjustment", "memo": "too much"})

    assert "Not enough funds on balance" in response.content.decode()
    customer.refresh_from_db()
    assert customer.balance == Decimal(90)
    assert BalanceTransaction.objects.get(user=customer, kind="adjustment").created_by == staff


def test_admin_places_an_order_for_a_customer(
    admin_client: Client, customer: User, catalog: Provider
) -> None:
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    admin_client.post(
        reverse("admin:orders_order_add"),
        {"user": customer.pk, "service": service.pk, "link": "@a", "quantity": service.min},
    )
    order = Order.objects.get()
    assert (order.user, order.source) == (customer, "admin")


def test_needs_review_actions(admin_client: Client, order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=DispatchState.NEEDS_REVIEW, review_reason="add_unknown"
    )
    admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_and_refund", "_selected_action": [order.pk]},
    )

    order.refresh_from_db()
    assert (order.status, order.dispatch_state, order.refunded) == (
        OrderStatus.CANCELED,
        DispatchState.FAILED,
        order.charge,
    )


def test_sync_action_reports_the_summary(admin_client: Client, catalog: Provider) -> None:
    response = admin_client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "sync_catalog", "_selected_action": [catalog.pk]},
        follow=True,
    )
    assert "services 0 added, 0 changed" in response.content.decode()


def test_catalog_items_cannot_be_deleted_from_admin(admin_client: Client, order: Order) -> None:
    response = admin_client.get(reverse("admin:providers_service_delete", args=[order.service_id]))
    assert response.status_code == 403
