"""Site-wide pages: landing, dashboard, API documentation (two languages)."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import api_key_create
from orders.models import Order, OrderStatus, Source
from orders.services import order_place
from providers.models import ServiceType
from tests.factories import ServiceFactory, UserFactory

ACTIONS = (
    "services",
    "add",
    "status",
    "balance",
    "refill",
    "refill_status",
    "cancel",
    "products",
    "add_product_order",
    "product_order_status",
)
ERRORS = (
    "Invalid API key",
    "Incorrect request",
    "Incorrect service ID",
    "Quantity less than minimal 200",
    "Quantity more than maximal 10000",
    "Quantity must be a multiple of 100",
    "Incorrect link",
    "Not enough funds on balance",
    "Incorrect order ID",
    "Incorrect refill ID",
    "Refill is not available for this order",
    "Cancel is not available for this order",
    "Incorrect product ID",
    "Product is out of stock",
    "Too many IDs (limit 100)",
    "Too many requests",
)


def test_home_shows_the_landing_page_to_visitors(client: Client, db: None) -> None:
    response = client.get(reverse("home"))

    html = response.content.decode()
    assert response.status_code == 200
    for name in ("login", "services", "updates", "api_docs"):
        assert f'href="{reverse(name)}"' in html
    assert "SMM Panel" in html


def test_home_sends_a_logged_in_customer_to_the_dashboard(client: Client, customer: User) -> None:
    client.force_login(customer)

    response = client.get(reverse("home"))

    assert response["Location"] == reverse("dashboard")


def test_dashboard_needs_a_login(client: Client, db: None) -> None:
    response = client.get(reverse("dashboard"))

    assert response["Location"] == f"{reverse('login')}?next={reverse('dashboard')}"


def test_dashboard_shows_balance_figures_and_the_five_latest_orders(
    client: Client, customer: User
) -> None:
    service = ServiceFactory(rate=Decimal("2"), upstream_rate=Decimal("1.6"), min=10)
    orders = [
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": f"https://x.com/{n}", "quantity": "100"},
            source=Source.WEB,
        )
        for n in range(6)
    ]
    Order.objects.filter(pk=orders[0].pk).update(status=OrderStatus.COMPLETED)
    client.force_login(customer)

    response = client.get(reverse("dashboard"))

    assert response.context["figures"] == {
        "orders": 6,
        "active": 5,
        "completed": 1,
        "spent": Decimal("1.2"),
    }
    assert [row["order"].pk for row in response.context["latest"]] == [
        o.pk for o in reversed(orders[1:])
    ]
    html = response.content.decode()
    assert "98.8" in html  # the balance after six charges of 0.2
    assert 'class="badge status-Completed"' not in html  # the completed one is the sixth newest
    assert 'class="badge status-Pending"' in html
    for name in ("order_new", "order_mass"):
        assert reverse(name) in html
    assert f"{reverse('account')}#api-key" in html


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_api_docs_document_every_action_type_and_error(client: Client, db: None, lang: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    response = client.get(reverse("api_docs"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "http://testserver/api/v2" in html
    for action in ACTIONS:
        assert f"<code>{action}</code>" in html, action
    for service_type in ServiceType.values:
        assert f"<strong>{service_type}</strong>" in html, service_type
    for message in ERRORS:
        assert f"<code>{message}</code>" in html, message
    assert "client_ref" in html and "64" in html
    assert "rate × max × posts / 1000" in html
    for sample in ("curl -s -X POST", "curl_init(", "import requests"):
        assert sample in html
    assert '"refill": {"error": "Incorrect order ID"}' in html  # multi refill
    assert (
        '{"refill": 3, "status": {"error": "Incorrect refill ID"}}' in html
    )  # multi refill_status


def test_api_docs_are_one_template_in_the_reader_language(client: Client, db: None) -> None:
    english = client.get(reverse("api_docs")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    vietnamese = client.get(reverse("api_docs")).content.decode()

    assert "API documentation" in english and '<html lang="en">' in english
    assert "Tài liệu API" in vietnamese and '<html lang="vi">' in vietnamese
    assert "Đặt đơn" in vietnamese and "Số dư tài khoản" in vietnamese
    assert "Tài liệu API" not in english


def test_api_docs_give_a_per_type_add_example_from_the_order_rules(
    client: Client, db: None
) -> None:
    response = client.get(reverse("api_docs"))

    examples = {example["type"]: example for example in response.context["add_examples"]}
    assert examples["Default"]["optional"] == ["runs", "interval"]
    assert examples["Subscriptions"]["required"] == ["username", "min", "max"]
    assert examples["Subscriptions"]["optional"] == ["posts", "old_posts", "delay", "expiry"]
    assert examples["Custom Comments"]["counted"] == "comments"
    assert "comments=Great+post%21%0ALove+this" in examples["Custom Comments"]["body"]
    assert "quantity" not in examples["Package"]["required"]


def test_api_docs_never_show_a_stored_key(client: Client, customer: User) -> None:
    key = api_key_create(user=customer)
    client.force_login(customer)

    response = client.get(reverse("api_docs"))

    html = response.content.decode()
    assert key not in html
    assert f"<code>{key[:12]}…</code>" in html
    assert reverse("account") in html


def test_api_docs_point_a_user_without_a_key_to_the_account_page(client: Client, db: None) -> None:
    client.force_login(UserFactory(language="vi"))

    response = client.get(reverse("api_docs"))

    assert "tạo key trong trang tài khoản" in response.content.decode()


def test_every_customer_page_renders_for_a_logged_in_customer(
    client: Client, customer: User
) -> None:
    client.force_login(customer)
    names = (
        "dashboard",
        "order_new",
        "order_mass",
        "order_list",
        "refill_list",
        "product_list",
        "product_order_list",
        "services",
        "updates",
        "account",
        "balance_history",
        "api_docs",
        "password_change",
    )

    for name in names:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        # The page belongs to the layout: the navigation marks the page as active.
        if name in ("dashboard", "order_new", "services", "account"):
            assert re.search(
                rf'href="{re.escape(reverse(name))}" class="active"', response.content.decode()
            ), name


def test_public_pages_render_for_visitors(client: Client, db: None) -> None:
    for name in ("home", "services", "updates", "product_list", "api_docs", "login"):
        assert client.get(reverse(name)).status_code == 200, name
