"""The public catalog pages: services (search, category filter, pages), updates, products."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from providers.models import CatalogChange, Category, Product, Service, ServiceType
from providers.views import SERVICES_PER_PAGE
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
)


def _service_ids(response: object) -> list[int]:
    return [service["id"] for group in response.context["groups"] for service in group["services"]]


@pytest.fixture
def followers(db: None) -> Service:
    return ServiceFactory(
        category=CategoryFactory(name="Instagram Followers", sort_order=1),
        name="Instagram Followers [Real]",
        rate=Decimal("2.5"),
        min=200,
        max=10000,
        has_refill=True,
        has_cancel=False,
        has_dripfeed=True,
        description="Start 0-1h\nSpeed 5k/day",
    )


@pytest.fixture
def views(db: None) -> Service:
    return ServiceFactory(
        category=CategoryFactory(name="YouTube Views", sort_order=2),
        name="YouTube Views [Fast]",
        rate=Decimal("1.2"),
        has_refill=False,
        has_cancel=True,
    )


def test_services_page_lists_on_sale_services_grouped_by_category(
    client: Client, followers: Service, views: Service
) -> None:
    hidden = ServiceFactory(category=followers.category, name="Switched off", is_enabled=False)
    gone = ServiceFactory(category=followers.category, name="Gone upstream", is_available=False)
    off_provider = ServiceFactory(
        category=followers.category, name="Provider off", provider=ProviderFactory(is_enabled=False)
    )

    response = client.get(reverse("services"))

    assert response.status_code == 200
    assert [group["name"] for group in response.context["groups"]] == [
        "Instagram Followers",
        "YouTube Views",
    ]
    assert _service_ids(response) == [followers.pk, views.pk]
    html = response.content.decode()
    for absent in (hidden, gone, off_provider):
        assert absent.name not in html
    assert "Instagram Followers [Real]" in html
    assert "2.50 USD" in html
    assert '<span class="badge ok">Refill</span>' in html
    assert '<span class="badge">Drip-feed</span>' in html
    assert "<details><summary>Description</summary>" in html
    assert f"{reverse('order_new')}?service={followers.pk}" in html


def test_services_page_shows_a_logged_in_customer_their_discounted_rate(
    client: Client, followers: Service
) -> None:
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(discount_percent=Decimal("20"))
    client.force_login(user)

    response = client.get(reverse("services"))

    assert response.context["groups"][0]["services"][0]["rate"] == "2"


def test_services_page_says_package_rates_are_per_package(client: Client, db: None) -> None:
    ServiceFactory(type=ServiceType.PACKAGE, name="1000 followers pack", rate=Decimal("3"))

    response = client.get(reverse("services"))

    assert response.context["groups"][0]["services"][0]["is_package"] is True
    assert "per package" in response.content.decode()


def test_services_search_matches_an_id_or_text(
    client: Client, followers: Service, views: Service
) -> None:
    by_text = client.get(reverse("services"), {"q": "youtube"})
    by_id = client.get(reverse("services"), {"q": str(followers.pk)})
    by_category = client.get(reverse("services"), {"q": "instagram followers"})
    nothing = client.get(reverse("services"), {"q": "no such thing"})

    assert _service_ids(by_text) == [views.pk]
    assert followers.pk in _service_ids(by_id)
    assert _service_ids(by_category) == [followers.pk]
    assert _service_ids(nothing) == []
    assert "No service matches." in nothing.content.decode()


def test_services_category_filter_shows_one_category(
    client: Client, followers: Service, views: Service
) -> None:
    response = client.get(reverse("services"), {"category": views.category_id})

    assert _service_ids(response) == [views.pk]
    assert f'<option value="{views.category_id}" selected>' in response.content.decode()
    counts = {row["name"]: row["count"] for row in response.context["categories"]}
    assert counts == {"Instagram Followers": 1, "YouTube Views": 1}


def test_services_page_ignores_a_malformed_category(client: Client, followers: Service) -> None:
    response = client.get(reverse("services"), {"category": "abc"})

    assert _service_ids(response) == [followers.pk]


def test_services_page_paginates(client: Client, db: None) -> None:
    provider = ProviderFactory()
    category = CategoryFactory(name="Bulk")
    Service.objects.bulk_create(
        Service(
            provider=provider,
            category=category,
            upstream_id=str(n),
            name=f"Bulk {n}",
            upstream_rate=Decimal(1),
            rate=Decimal(2),
            min=1,
            max=10,
        )
        for n in range(SERVICES_PER_PAGE + 3)
    )

    first = client.get(reverse("services"))
    last = client.get(reverse("services"), {"page": 2, "category": category.pk})

    assert len(_service_ids(first)) == SERVICES_PER_PAGE
    assert len(_service_ids(last)) == 3
    assert "?page=2" in first.content.decode()
    assert f"category={category.pk}" in last.content.decode()  # the filter stays in the page links


def test_services_page_renders_without_services(client: Client, db: None) -> None:
    response = client.get(reverse("services"))

    assert response.status_code == 200
    assert "No services are on sale yet." in response.content.decode()


# --- Updates -------------------------------------------------------------------------------------


@pytest.fixture
def changes(followers: Service, views: Service) -> dict[str, CatalogChange]:
    provider = followers.provider
    return {
        "added": CatalogChange.objects.create(
            provider=provider, service=views, kind=CatalogChange.Kind.ADDED
        ),
        "cheaper": CatalogChange.objects.create(
            provider=provider,
            service=followers,
            kind=CatalogChange.Kind.CHANGED,
            field="rate",
            old_value="3",
            new_value="2.5",
        ),
        "dearer": CatalogChange.objects.create(
            provider=views.provider,
            service=views,
            kind=CatalogChange.Kind.CHANGED,
            field="rate",
            old_value="1",
            new_value="1.2",
        ),
        "removed": CatalogChange.objects.create(
            provider=provider, service=followers, kind=CatalogChange.Kind.REMOVED
        ),
        "private": CatalogChange.objects.create(
            provider=provider,
            service=followers,
            kind=CatalogChange.Kind.CHANGED,
            field="upstream_rate",
            old_value="1",
            new_value="2",
            is_public=False,
        ),
    }


def test_updates_lists_public_changes_newest_first_with_rate_direction(
    client: Client, changes: dict[str, CatalogChange]
) -> None:
    response = client.get(reverse("updates"))

    rows = response.context["rows"]
    assert [(row["kind"], row["field"]) for row in rows] == [
        ("removed", ""),
        ("changed", "rate"),
        ("changed", "rate"),
        ("added", ""),
    ]
    assert [
        (row["old"], row["new"], row["direction"]) for row in rows if row["field"] == "rate"
    ] == [
        ("1", "1.2", "dearer"),
        ("3", "2.5", "cheaper"),
    ]
    html = response.content.decode()
    assert 'class="price-down">▼ cheaper' in html
    assert 'class="price-up">▲ dearer' in html
    assert "upstream_rate" not in html


def test_updates_filter_tabs_show_one_kind(
    client: Client, changes: dict[str, CatalogChange]
) -> None:
    added = client.get(reverse("updates"), {"kind": "added"})
    removed = client.get(reverse("updates"), {"kind": "removed"})
    changed = client.get(reverse("updates"), {"kind": "changed"})
    unknown = client.get(reverse("updates"), {"kind": "bogus"})

    assert [row["kind"] for row in added.context["rows"]] == ["added"]
    assert [row["kind"] for row in removed.context["rows"]] == ["removed"]
    assert [row["kind"] for row in changed.context["rows"]] == ["changed", "changed"]
    assert len(unknown.context["rows"]) == 4
    assert '<a href="?kind=added" class="active">Added</a>' in added.content.decode()


def test_updates_show_rates_with_the_customers_discount(
    client: Client, changes: dict[str, CatalogChange], customer: User
) -> None:
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal("10"))
    client.force_login(customer)

    response = client.get(reverse("updates"), {"kind": "changed"})

    assert [(row["old"], row["new"]) for row in response.context["rows"]] == [
        ("0.9", "1.08"),
        ("2.7", "2.25"),
    ]


def test_updates_include_product_changes(client: Client, db: None) -> None:
    product = ProductFactory(name="Netflix premium")
    CatalogChange.objects.create(
        provider=product.provider, product=product, kind=CatalogChange.Kind.ADDED
    )

    response = client.get(reverse("updates"))

    row = response.context["rows"][0]
    assert (row["is_product"], row["name"], row["is_orderable"]) == (True, "Netflix premium", False)


# --- Products ------------------------------------------------------------------------------------


def test_products_page_lists_products_with_stock_and_order_forms(
    client: Client, customer: User, db: None
) -> None:
    in_stock = ProductFactory(name="Netflix premium", rate=Decimal("2.5"), inventory=40)
    sold_out = ProductFactory(name="Spotify family", inventory=0, require="")
    ProductFactory(name="Not for sale", is_enabled=False)
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal("10"))
    client.force_login(customer)

    response = client.get(reverse("product_list"))

    products = {p["name"]: p for p in response.context["products"]}
    assert set(products) == {"Netflix premium", "Spotify family"}
    assert (products["Netflix premium"]["rate"], products["Netflix premium"]["in_stock"]) == (
        "2.25",
        True,
    )
    assert products["Spotify family"]["in_stock"] is False
    html = response.content.decode()
    assert reverse("product_order_new", args=[in_stock.pk]) in html
    assert reverse("product_order_new", args=[sold_out.pk]) not in html
    assert "Input your account" in html  # the product's require, as the label of its input


def test_products_page_asks_visitors_to_log_in_to_buy(client: Client, db: None) -> None:
    product = ProductFactory()

    response = client.get(reverse("product_list"))

    assert response.status_code == 200
    assert "Log in to buy" in response.content.decode()
    assert reverse("product_order_new", args=[product.pk]) not in response.content.decode()


def test_category_rows_count_only_services_on_sale(client: Client, followers: Service) -> None:
    ServiceFactory(category=followers.category, is_enabled=False)
    Category.objects.create(name="Empty")

    response = client.get(reverse("services"))

    assert [(row["name"], row["count"]) for row in response.context["categories"]] == [
        ("Instagram Followers", 1)
    ]
    assert Product.objects.count() == 0
