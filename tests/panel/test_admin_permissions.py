"""The admin is a permission-checked caller of services: every action and every view an admin
class adds declares the permission it needs, and a staff user who may only view changes nothing."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.models import ApiKey, BalanceTransaction, User
from core.permissions import ATTRIBUTE
from orders.models import DispatchState, Order, OrderStatus
from orders.services import order_place
from providers.client import transport
from providers.models import Provider, Service, ServiceType
from tests.factories import ProviderFactory, UserFactory

DEFAULT_VIEWS = ("changelist", "add", "history", "delete", "change")


def _admins() -> list[tuple[str, admin.ModelAdmin]]:
    # Every site: the parent's and a child panel's own (panel.child_panels.owner_admin).
    return [
        (f"{site.name}:{model._meta.label}", model_admin)
        for site in sorted(admin.sites.all_sites, key=lambda site: site.name)
        for model, model_admin in site._registry.items()
    ]


def _custom_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    info = model_admin.opts.app_label, model_admin.opts.model_name
    defaults = {f"{info[0]}_{info[1]}_{view}" for view in DEFAULT_VIEWS}
    return [
        pattern
        for pattern in model_admin.get_urls()
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name not in defaults
    ]


def _unwrapped(view: Callable[..., Any]) -> Callable[..., Any]:
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return getattr(view, "__func__", view)


# --- Every action and custom view declares its permission ------------------------------------


@pytest.mark.parametrize(("label", "model_admin"), _admins())
def test_every_admin_action_declares_its_permissions(
    label: str, model_admin: admin.ModelAdmin
) -> None:
    undeclared = [
        name
        for function, name, _description in model_admin._get_base_actions()
        if not getattr(function, "allowed_permissions", None)
    ]
    assert undeclared == [], f"{label}: actions without permissions=[...]"


@pytest.mark.parametrize(("label", "model_admin"), _admins())
def test_every_custom_admin_url_checks_a_permission(
    label: str, model_admin: admin.ModelAdmin
) -> None:
    unchecked = [
        pattern.name
        for pattern in _custom_urls(model_admin)
        # Django's own extra views (the user password form) check permissions themselves.
        if not _unwrapped(pattern.callback).__module__.startswith("django.")
        and not getattr(pattern.callback, ATTRIBUTE, None)
    ]
    assert unchecked == [], f"{label}: custom admin views without @requires_permission"


def test_the_walk_finds_the_custom_views() -> None:
    names = {pattern.name for _label, ma in _admins() for pattern in _custom_urls(ma)}
    assert {
        "accounts_user_adjust_balance",
        "orders_order_resolve",
        "orders_order_bulk_attach",
    } <= names


# --- A staff user with only view rights ----------------------------------------------------


@pytest.fixture
def viewer(client: Client, db: None) -> Client:
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


@pytest.fixture
def order(customer: User, catalog: Provider) -> Order:
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    return order_place(
        user=customer, service_id=service.pk, fields={"link": "@a", "quantity": str(service.min)}
    )


def _act(client: Client, changelist: str, action: str, pk: int) -> Any:
    return client.post(reverse(changelist), {"action": action, "_selected_action": [pk]})


def test_viewer_sees_the_lists_but_is_offered_no_action(viewer: Client, order: Order) -> None:
    for changelist in (
        "admin:accounts_user_changelist",
        "admin:orders_order_changelist",
        "admin:providers_provider_changelist",
    ):
        response = viewer.get(reverse(changelist))
        assert response.status_code == 200
        assert response.context["action_form"] is None, changelist


def test_viewer_mints_no_api_key(viewer: Client, customer: User) -> None:
    _act(viewer, "admin:accounts_user_changelist", "generate_api_key", customer.pk)
    assert not ApiKey.objects.filter(user=customer).exists()


def test_viewer_adjusts_no_balance(viewer: Client, customer: User) -> None:
    url = reverse("admin:accounts_user_adjust_balance", args=[customer.pk])
    assert viewer.get(url).status_code == 403
    response = viewer.post(url, {"amount": "50", "kind": "deposit", "memo": "gift"})
    assert response.status_code == 403
    assert BalanceTransaction.objects.filter(user=customer).count() == 1  # the opening deposit


def test_viewer_places_no_order(viewer: Client, customer: User, catalog: Provider) -> None:
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    response = viewer.post(
        reverse("admin:orders_order_add"),
        {"user": customer.pk, "service": service.pk, "link": "@a", "quantity": service.min},
    )
    assert response.status_code == 403
    assert viewer.get(reverse("admin:orders_order_add")).status_code == 403
    assert not Order.objects.exists()


def test_viewer_resolves_no_review(viewer: Client, order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=DispatchState.NEEDS_REVIEW, review_reason="add_unknown"
    )

    found = viewer.post(
        reverse("admin:orders_order_resolve", args=[order.pk]),
        {"resolution": "attach", "upstream_id": "77"},
    )
    attached = viewer.post(reverse("admin:orders_order_bulk_attach"), {"lines": f"{order.pk}, 77"})
    for action in ("cancel_and_refund", "send_again", "resume_polling"):
        _act(viewer, "admin:orders_order_changelist", action, order.pk)

    assert found.status_code == attached.status_code == 403
    order.refresh_from_db()
    assert (order.dispatch_state, order.status, order.refunded, order.upstream_id) == (
        DispatchState.NEEDS_REVIEW,
        OrderStatus.PENDING,
        Decimal(0),
        None,
    )


def test_viewer_syncs_no_catalog(viewer: Client, catalog: Provider) -> None:
    catalog.refresh_from_db()
    synced_at = catalog.last_synced_at
    _act(viewer, "admin:providers_provider_changelist", "sync_catalog", catalog.pk)
    catalog.refresh_from_db()
    assert catalog.last_synced_at == synced_at


def test_a_staff_user_with_the_permission_may_adjust(client: Client, customer: User) -> None:
    cashier = UserFactory(is_staff=True)
    cashier.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "add_balancetransaction"])
    )
    client.force_login(cashier)

    client.post(
        reverse("admin:accounts_user_adjust_balance", args=[customer.pk]),
        {"amount": "5", "kind": "deposit", "memo": "goodwill"},
    )

    customer.refresh_from_db()
    assert customer.balance == Decimal(105)


# --- API keys are shown once, on a page ------------------------------------------------------


def test_a_minted_key_is_shown_on_the_page_and_never_put_in_messages(
    client: Client, staff: User, customer: User
) -> None:
    client.force_login(staff)

    response = _act(client, "admin:accounts_user_changelist", "generate_api_key", customer.pk)

    html = response.content.decode()
    key = re.search(r"<code>([^<]+)</code>", html).group(1)
    assert response.status_code == 200 and "shown only on this page" in html
    assert "no-store" in response["Cache-Control"]
    assert key not in str(response.cookies)
    assert key not in client.get(reverse("admin:accounts_user_changelist")).content.decode()
    from accounts.services import api_key_authenticate

    assert api_key_authenticate(key=key) == customer


def test_the_account_page_shows_a_new_key_once_and_then_only_its_prefix(
    client: Client, customer: User
) -> None:
    client.force_login(customer)

    minted = client.post(reverse("api_key_generate"))
    key = re.search(r'id="new-key">([^<]+)<', minted.content.decode()).group(1)
    later = client.get(reverse("account")).content.decode()

    assert "no-store" in minted["Cache-Control"] and key not in str(minted.cookies)
    assert key not in later and key[:8] in later


# --- Provider credentials and transactions ---------------------------------------------------


def test_provider_list_shows_the_host_without_credentials(
    client: Client, staff: User, db: None
) -> None:
    ProviderFactory(api_url="https://reseller:s3cret-pass@upstream.example:8443/api/v2")
    client.force_login(staff)

    html = client.get(reverse("admin:providers_provider_changelist")).content.decode()

    assert "upstream.example:8443" in html
    assert "s3cret-pass" not in html and "reseller:" not in html


@pytest.fixture
def upstream_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether a database transaction was open at each call to a provider."""
    calls: list[bool] = []
    real_post = transport.post

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(connection.in_atomic_block)
        return real_post(*args, **kwargs)

    monkeypatch.setattr(transport, "post", spy)
    return calls


@pytest.mark.django_db(transaction=True)
def test_admin_calls_providers_with_no_transaction_open(
    client: Client, catalog: Provider, upstream_calls: list[bool]
) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = reverse("admin:providers_provider_change", args=[catalog.pk])
    form = {
        "name": catalog.name,
        "api_url": catalog.api_url,
        "api_key": "",
        "currency": catalog.currency,
        "exchange_rate": catalog.exchange_rate,
        "is_enabled": "on",
        "markup_percent": "30",
        "markup_fixed": catalog.markup_fixed,
        "low_balance_threshold": catalog.low_balance_threshold or "",
    }

    saved = client.post(change, form, follow=True)
    for action in ("sync_catalog", "check_balance"):
        _act(client, "admin:providers_provider_changelist", action, catalog.pk)

    assert "answers: balance" in saved.content.decode()  # the check ran, after the save
    assert len(upstream_calls) >= 3
    assert not any(upstream_calls), "a provider was called inside a database transaction"
