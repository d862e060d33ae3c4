"""The customer order pages: placing (one, mass, product), lists, refill and cancel buttons."""

import json
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import BalanceTransaction, User
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    Source,
)
from orders.services import order_place, product_order_place
from providers.models import Product, Provider, Service, ServiceType
from tests.factories import CategoryFactory, ProductFactory, ServiceFactory, UserFactory
from tests.support import unused_pk, with_form_token

LINK = "https://instagram.com/p/abc123"


def _messages(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _place(user: User, service: Service, quantity: int = 1000, link: str = LINK) -> Order:
    return order_place(
        user=user,
        service_id=service.pk,
        fields={"link": link, "quantity": str(quantity)},
        source=Source.WEB,
    )


def _make_sent(order: Order, status: str = OrderStatus.COMPLETED) -> None:
    """Setup: the order as the poller leaves it once upstream reported `status`."""
    Order.objects.filter(pk=order.pk).update(
        status=status,
        dispatch_state=DispatchState.SENT,
        upstream_id=f"up-{order.pk}",
        start_count=10,
        remains=0,
    )


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(name="Instagram Followers [HQ]", rate=Decimal("2.5"), min=100, max=10000)


@pytest.fixture
def logged_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


# --- Login required ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("order_new", []),
        ("order_service_options", []),
        ("order_mass", []),
        ("order_list", []),
        ("order_detail", [1]),
        ("refill_list", []),
        ("product_order_list", []),
    ],
)
def test_order_pages_redirect_anonymous_visitors_to_login(
    client: Client, db: None, name: str, args: list
) -> None:
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name", ["order_refill", "order_cancel", "product_order_new"])
def test_order_actions_redirect_anonymous_visitors_to_login(
    client: Client, db: None, name: str
) -> None:
    response = client.post(reverse(name, args=[1]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- New order -----------------------------------------------------------------------------------


def test_order_new_renders_the_category_services_with_their_data(
    logged_in: Client, service: Service
) -> None:
    response = logged_in.get(reverse("order_new"))

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f'value="{service.pk}" data-type="Default" data-rate="2.5" '
        'data-price="2.50 USD / 1000" data-unit-price="0.0025 USD per unit"' in html
    )
    assert (
        f'data-favorite="" data-category="{service.category.name}" data-platform="other" '
        'data-min="100" data-max="10000"' in html
    )
    assert service.category.name in html
    assert 'id="type-layouts"' in html


def test_order_new_preselects_the_service_given_in_the_query(
    logged_in: Client, service: Service
) -> None:
    other = ServiceFactory(
        category=CategoryFactory(name="YouTube Views"), name="YouTube Views [Fast]"
    )

    response = logged_in.get(reverse("order_new"), with_form_token({"service": other.pk}))

    html = response.content.decode()
    assert f'value="{other.pk}"' in html and "selected>" in html
    assert response.context["selected_id"] == other.pk
    assert response.context["category_id"] == other.category_id
    assert [option["id"] for option in response.context["options"]] == [other.pk]


def test_order_new_without_javascript_lists_a_chosen_category_or_a_search(
    logged_in: Client, service: Service
) -> None:
    other = ServiceFactory(
        category=CategoryFactory(name="YouTube Views"), name="YouTube Views [Fast]"
    )

    by_category = logged_in.get(
        reverse("order_new"), with_form_token({"category": other.category_id})
    )
    by_search = logged_in.get(reverse("order_new"), with_form_token({"q": "followers"}))

    assert [option["id"] for option in by_category.context["options"]] == [other.pk]
    assert [option["id"] for option in by_search.context["options"]] == [service.pk]
    assert "Show services" in by_category.content.decode()  # the no-script submit button


def test_order_new_shows_the_customers_discounted_rate(client: Client, service: Service) -> None:
    user = UserFactory(funds=Decimal("10"))
    User.objects.filter(pk=user.pk).update(discount_percent=Decimal("10"))
    client.force_login(user)

    response = client.get(reverse("order_new"), with_form_token({"service": service.pk}))

    assert response.context["options"][0]["rate"] == "2.25"


def test_order_new_places_the_order_debits_the_ledger_and_redirects(
    logged_in: Client, customer: User, service: Service
) -> None:
    # when
    response = logged_in.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": LINK, "quantity": "1000"}),
    )

    # then
    order = Order.objects.get(user=customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("order_list")
    assert (order.service_id, order.link, order.quantity, order.charge) == (
        service.pk,
        LINK,
        1000,
        Decimal("2.5"),
    )
    assert order.source == Source.WEB
    assert BalanceTransaction.objects.get(order_id=order.pk).amount == Decimal("-2.5")
    customer.refresh_from_db()
    assert customer.balance == Decimal("97.5")
    assert _messages(response) == [f"Order #{order.pk} placed: charged 2.50 USD"]


def test_order_new_shows_a_bad_quantity_beside_the_field_and_changes_nothing(
    logged_in: Client, customer: User, service: Service
) -> None:
    response = logged_in.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": LINK, "quantity": "5"}),
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"quantity": ["The minimum is 100."]}
    html = response.content.decode()
    assert '<ul class="errorlist" id="quantity-error"><li>The minimum is 100.</li></ul>' in html
    assert 'value="https://instagram.com/p/abc123"' in html  # what was typed is kept
    assert not Order.objects.exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal("100")
    assert BalanceTransaction.objects.filter(user=customer).count() == 1  # the opening deposit only


def test_order_new_shows_a_bad_link_beside_the_link_field(
    logged_in: Client, service: Service
) -> None:
    response = logged_in.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": "not a link", "quantity": "500"}),
    )

    assert response.context["form"].errors == {"link": ["Enter a link (https://…) or a username."]}
    assert not Order.objects.exists()


def test_order_new_shows_insufficient_funds_above_the_form(
    client: Client, service: Service
) -> None:
    poor = UserFactory(funds=Decimal("1"))
    client.force_login(poor)

    response = client.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": LINK, "quantity": "1000"}),
    )

    assert response.context["error"] == "Not enough funds on balance"
    assert "Not enough funds on balance" in response.content.decode()
    assert not Order.objects.exists()
    poor.refresh_from_db()
    assert poor.balance == Decimal("1")


def test_order_new_refuses_a_service_that_is_not_on_sale(
    logged_in: Client, service: Service
) -> None:
    Service.objects.filter(pk=service.pk).update(is_enabled=False)

    response = logged_in.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": LINK, "quantity": "1000"}),
    )

    assert response.context["error"] == "Incorrect service ID"
    assert not Order.objects.exists()


def test_order_new_places_a_subscription_with_posts_and_shows_limits_beside_min_and_max(
    logged_in: Client, customer: User
) -> None:
    subscription = ServiceFactory(
        type=ServiceType.SUBSCRIPTIONS,
        rate=Decimal("1"),
        upstream_rate=Decimal("0.8"),  # sold above cost plus the margin (the margin guard)
        min=50,
        max=5000,
    )
    fields = {
        "service": subscription.pk,
        "username": "alice",
        "min": "10",
        "max": "200",
        "posts": "10",
        "delay": "30",
    }

    refused = logged_in.post(reverse("order_new"), with_form_token(fields))
    placed = logged_in.post(reverse("order_new"), with_form_token({**fields, "min": "100"}))

    assert refused.context["form"].errors == {"min": ["The minimum is 50."]}
    order = Order.objects.get(user=customer)
    assert placed.status_code == 302
    assert order.details["posts"] == "10" and order.details["delay"] == "30"
    assert order.charge == Decimal("2")  # rate × max × posts / 1000


def test_order_new_shows_too_few_lines_beside_the_counted_field(logged_in: Client) -> None:
    comments = ServiceFactory(type=ServiceType.CUSTOM_COMMENTS, rate=Decimal("10"), min=5, max=100)

    response = logged_in.post(
        reverse("order_new"),
        with_form_token({"service": comments.pk, "link": LINK, "comments": "one\ntwo"}),
    )

    assert response.context["form"].errors == {"comments": ["The minimum is 5."]}
    assert not Order.objects.exists()


def test_order_new_ignores_the_fields_a_type_does_not_use(
    logged_in: Client, customer: User
) -> None:
    # Without JavaScript every input is sent; the service reads only the type's own.
    comments = ServiceFactory(type=ServiceType.CUSTOM_COMMENTS, rate=Decimal("10"), min=1, max=100)

    response = logged_in.post(
        reverse("order_new"),
        with_form_token(
            {
                "service": comments.pk,
                "link": LINK,
                "quantity": "999",
                "comments": "nice\ngreat\n",
                "username": "x",
                "posts": "",
            }
        ),
    )

    assert response.status_code == 302
    order = Order.objects.get(user=customer)
    assert (order.quantity, order.charge) == (2, Decimal("0.02"))


def test_order_new_renders_and_places_every_service_type_of_a_synced_catalog(
    logged_in: Client, customer: User, catalog: Provider
) -> None:
    samples = {
        "comments": "nice\ngreat",
        "usernames": "alice\nbob",
        "hashtags": "#a\n#b",
        "hashtag": "#summer",
        "username": "alice",
        "media": "https://instagram.com/p/xyz",
        "answer_number": "1",
        "groups": "https://t.me/a\nhttps://t.me/b",
        "keywords": "pizza\nbest pizza",
        "posts": "2",
    }
    for service_type in ServiceType.values:
        service = Service.objects.filter(provider=catalog, type=service_type).order_by("pk").first()
        assert service is not None, service_type
        page = logged_in.get(reverse("order_new"), with_form_token({"service": service.pk}))
        assert page.status_code == 200
        assert f'data-type="{service_type}"' in page.content.decode()
        fields = {"service": service.pk, "link": LINK, "quantity": str(service.min), **samples}
        lines = "\n".join(f"entry{n}" for n in range(service.min))
        fields.update(comments=lines, usernames=lines)
        fields.update(min=str(service.min), max=str(service.min))

        response = logged_in.post(reverse("order_new"), with_form_token(fields))

        assert response.status_code == 302, (
            service_type,
            response.context and response.context["form"].errors,
        )
    assert Order.objects.filter(user=customer).count() == len(ServiceType.values)


def test_service_options_lists_one_category_as_json(logged_in: Client, service: Service) -> None:
    ServiceFactory(category=CategoryFactory(name="Other"), name="Elsewhere")

    response = logged_in.get(reverse("order_service_options"), {"category": service.category_id})

    data = json.loads(response.content)
    assert [row["id"] for row in data["services"]] == [service.pk]
    assert data["services"][0] | {"description": ""} == {
        "id": service.pk,
        "name": "Instagram Followers [HQ]",
        "type": "Default",
        "type_label": "Default",
        "category_id": service.category_id,
        "category": service.category.name,
        "rate": "2.5",
        "min": 100,
        "max": 10000,
        "step": 1,
        "refill": True,
        "refill_badge": "Refill",
        "cancel": True,
        "dripfeed": False,
        "description": "",
        "is_package": False,
        "is_favorite": False,
        "platform": "other",
        "price": "2.50 USD / 1000",
        "unit_price": "0.0025 USD per unit",
        "usual_time": "—",
        "slow_time": "—",
        "partial_rate": "—",
        "refill_rate": "—",
    }


def test_service_options_searches_by_text(logged_in: Client, service: Service) -> None:
    other = ServiceFactory(category=CategoryFactory(name="YouTube"), name="YouTube Views")

    response = logged_in.get(reverse("order_service_options"), {"q": "youtube"})

    assert [row["id"] for row in json.loads(response.content)["services"]] == [other.pk]


# --- Mass order ----------------------------------------------------------------------------------


def test_mass_order_places_good_lines_and_reports_bad_ones(
    logged_in: Client, customer: User, service: Service
) -> None:
    text = "\n".join(
        [
            f"{service.pk} | https://instagram.com/p/one | 1000",
            f"{service.pk} | https://instagram.com/p/two | 5",
            f"{unused_pk(Service)} | https://instagram.com/p/three | 1000",
            "just some words",
            f"{service.pk} | https://instagram.com/p/four | 2000",
        ]
    )

    response = logged_in.post(reverse("order_mass"), with_form_token({"orders": text}))

    results = response.context["results"]
    assert [(line.line_number, line.error) for line in results if line.order is None] == [
        (2, "Quantity less than minimal 100"),
        (3, "Incorrect service ID"),
        (4, "Write service ID | link | quantity"),
    ]
    assert [line.shown_error for line in results if line.order is None] == [
        "The minimum is 100.",
        "Incorrect service ID",
        "Write service ID | link | quantity",
    ]
    assert [line.order.quantity for line in results if line.order] == [1000, 2000]
    assert Order.objects.filter(user=customer, source=Source.MASS).count() == 2
    customer.refresh_from_db()
    assert customer.balance == Decimal("92.5")
    assert "2 orders placed: charged 7.50 USD" in _messages(response)
    # The failed lines stay in the box, to fix and send again.
    assert response.context["form"].initial["orders"].splitlines() == text.splitlines()[1:4]
    assert "Incorrect service ID" in response.content.decode()


# --- Lists and actions ---------------------------------------------------------------------------


def test_order_list_shows_only_the_users_own_orders(
    logged_in: Client, customer: User, service: Service
) -> None:
    mine = _place(customer, service)
    theirs = _place(
        UserFactory(funds=Decimal("10")), service, link="https://instagram.com/p/theirs"
    )

    response = logged_in.get(reverse("order_list"))

    assert [row["order"].pk for row in response.context["rows"]] == [mine.pk]
    assert "instagram.com/p/theirs" not in response.content.decode()
    assert theirs.pk != mine.pk


def test_order_list_filters_by_status_tab_and_searches_id_or_link(
    logged_in: Client, customer: User, service: Service
) -> None:
    first = _place(customer, service, link="https://instagram.com/p/first")
    second = _place(customer, service, link="https://instagram.com/p/second")
    _make_sent(first)

    completed = logged_in.get(reverse("order_list"), {"status": "Completed"})
    by_link = logged_in.get(reverse("order_list"), {"q": "p/second"})
    by_id = logged_in.get(reverse("order_list"), {"q": str(first.pk)})

    assert [row["order"].pk for row in completed.context["rows"]] == [first.pk]
    assert [row["order"].pk for row in by_link.context["rows"]] == [second.pk]
    assert first.pk in [row["order"].pk for row in by_id.context["rows"]]


def test_order_list_shows_net_charge_with_the_refund_and_the_right_buttons(
    logged_in: Client, customer: User, service: Service
) -> None:
    queued = _place(customer, service)
    completed = _place(customer, service, link=f"{LINK}/2")  # one open order per link
    _make_sent(completed)
    Order.objects.filter(pk=completed.pk).update(
        refunded=Decimal("0.5"), status=OrderStatus.PARTIAL
    )

    response = logged_in.get(reverse("order_list"))

    rows = {row["order"].pk: row for row in response.context["rows"]}
    assert (rows[completed.pk]["charge"], rows[completed.pk]["refunded"]) == (2, Decimal("0.5"))
    assert (rows[completed.pk]["can_refill"], rows[completed.pk]["can_cancel"]) == (True, False)
    assert (rows[queued.pk]["can_refill"], rows[queued.pk]["can_cancel"]) == (False, True)
    html = response.content.decode()
    assert reverse("order_refill", args=[completed.pk]) in html
    assert reverse("order_cancel", args=[queued.pk]) in html
    assert reverse("order_refill", args=[queued.pk]) not in html


def test_order_list_paginates_by_fifty(logged_in: Client, customer: User, service: Service) -> None:
    for number in range(51):
        _place(customer, service, quantity=100, link=f"{LINK}/{number}")

    first = logged_in.get(reverse("order_list"))
    second = logged_in.get(reverse("order_list"), {"page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 1


def test_order_detail_shows_the_order_and_its_history(
    logged_in: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)

    response = logged_in.get(reverse("order_detail", args=[order.pk]))

    assert response.status_code == 200
    assert [(event.field, event.new_value) for event in response.context["events"]] == [
        ("status", "Pending")
    ]
    assert LINK in response.content.decode()


def test_another_users_order_detail_is_not_found(logged_in: Client, service: Service) -> None:
    theirs = _place(UserFactory(funds=Decimal("10")), service)

    response = logged_in.get(reverse("order_detail", args=[theirs.pk]))

    assert response.status_code == 404


def test_refill_button_requests_a_refill_and_returns_to_the_list(
    logged_in: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)
    _make_sent(order)
    back = f"{reverse('order_list')}?status=Completed"

    response = logged_in.post(reverse("order_refill", args=[order.pk]), {"next": back})

    refill = Refill.objects.get(order=order)
    assert (refill.user_id, refill.source) == (customer.pk, Source.WEB)
    assert response["Location"] == back
    assert _messages(response) == [f"Refill #{refill.pk} requested for order #{order.pk}."]


def test_refill_button_shows_the_service_message_when_refill_is_not_available(
    logged_in: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)  # still pending

    response = logged_in.post(reverse("order_refill", args=[order.pk]))

    assert response["Location"] == reverse("order_list")
    assert _messages(response) == [
        f"Order #{order.pk}: It can be refilled once the order is Completed or Partial."
    ]
    assert not Refill.objects.exists()


def test_refill_list_shows_only_the_users_refills(
    logged_in: Client, customer: User, service: Service
) -> None:
    mine = _place(customer, service)
    _make_sent(mine)
    logged_in.post(reverse("order_refill", args=[mine.pk]))
    other = UserFactory(funds=Decimal("10"))
    theirs = _place(other, service)
    _make_sent(theirs)
    Refill.objects.create(order=theirs, user=other, provider=theirs.provider)

    response = logged_in.get(reverse("refill_list"))

    assert [refill.order_id for refill in response.context["page"].object_list] == [mine.pk]


def test_cancel_button_cancels_a_queued_order_and_refunds_it(
    logged_in: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)

    response = logged_in.post(reverse("order_cancel", args=[order.pk]))

    order.refresh_from_db()
    customer.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.CANCELED, Decimal("2.5"))
    assert customer.balance == Decimal("100")
    assert _messages(response) == [f"Order #{order.pk} canceled: 2.50 USD refunded."]


def test_cancel_button_of_a_sent_order_asks_the_provider(
    logged_in: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)
    _make_sent(order, status=OrderStatus.IN_PROGRESS)

    response = logged_in.post(reverse("order_cancel", args=[order.pk]))
    listing = logged_in.get(reverse("order_list"))

    assert order.cancel_requests.count() == 1
    assert "the refund follows" in _messages(response)[0]
    row = listing.context["rows"][0]
    assert (row["can_cancel"], row["cancel_waiting"]) == (False, True)


def test_another_users_order_cannot_be_canceled_or_refilled(
    logged_in: Client, service: Service
) -> None:
    other = UserFactory(funds=Decimal("10"))
    theirs = _place(other, service)

    cancel = logged_in.post(reverse("order_cancel", args=[theirs.pk]))
    refill = logged_in.post(reverse("order_refill", args=[theirs.pk]))

    theirs.refresh_from_db()
    other.refresh_from_db()
    assert theirs.status == OrderStatus.PENDING
    assert other.balance == Decimal("7.5")
    assert _messages(cancel) == [f"Order #{theirs.pk}: Incorrect order ID"]
    assert _messages(refill)[-1] == f"Order #{theirs.pk}: Incorrect order ID"


def test_order_actions_refuse_get(logged_in: Client, customer: User, service: Service) -> None:
    order = _place(customer, service)

    assert logged_in.get(reverse("order_cancel", args=[order.pk])).status_code == 405
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_an_unsafe_next_url_is_ignored(logged_in: Client, customer: User, service: Service) -> None:
    order = _place(customer, service)

    response = logged_in.post(
        reverse("order_cancel", args=[order.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("order_list")


# --- Products ------------------------------------------------------------------------------------


@pytest.fixture
def product(db: None) -> Product:
    return ProductFactory(name="Netflix premium", rate=Decimal("2.5"), min=1, max=10, inventory=40)


def test_product_order_places_the_order_and_redirects_with_a_message(
    logged_in: Client, customer: User, product: Product
) -> None:
    response = logged_in.post(
        reverse("product_order_new", args=[product.pk]), {"quantity": "2", "require": "me@x.com"}
    )

    order = ProductOrder.objects.get(user=customer)
    assert (order.quantity, order.require, order.charge) == (2, "me@x.com", Decimal("5"))
    assert response["Location"] == reverse("product_order_list")
    assert _messages(response) == [f"Product order #{order.pk} placed: charged 5.00 USD"]
    customer.refresh_from_db()
    assert customer.balance == Decimal("95")


def test_product_order_without_the_required_text_is_refused(
    logged_in: Client, customer: User, product: Product
) -> None:
    response = logged_in.post(
        reverse("product_order_new", args=[product.pk]), {"quantity": "1", "require": " "}
    )

    assert response["Location"] == f"{reverse('product_list')}#product-{product.pk}"
    assert _messages(response) == [f"Product #{product.pk}: Required: Input your account"]
    assert not ProductOrder.objects.exists()


def test_product_order_of_an_out_of_stock_product_is_refused(
    logged_in: Client, product: Product
) -> None:
    Product.objects.filter(pk=product.pk).update(inventory=0)

    response = logged_in.post(
        reverse("product_order_new", args=[product.pk]), {"quantity": "1", "require": "me"}
    )

    assert _messages(response) == [f"Product #{product.pk}: Product is out of stock"]
    assert not ProductOrder.objects.exists()


def test_product_order_list_shows_the_delivered_result_to_its_owner_only(
    client: Client, customer: User, product: Product
) -> None:
    order = product_order_place(user=customer, product_id=product.pk, quantity=1, require="me")
    ProductOrder.objects.filter(pk=order.pk).update(
        status=ProductOrderStatus.COMPLETED, result="user:secret-password"
    )
    other = UserFactory(funds=Decimal("10"))

    client.force_login(customer)
    own = client.get(reverse("product_order_list"))
    client.force_login(other)
    foreign = client.get(reverse("product_order_list"))

    assert "user:secret-password" in own.content.decode()
    assert 'data-copy="#result-' in own.content.decode()
    assert "user:secret-password" not in foreign.content.decode()
    assert list(foreign.context["rows"]) == []


def test_product_order_list_shows_the_note_of_a_canceled_order(
    logged_in: Client, customer: User, product: Product
) -> None:
    order = product_order_place(user=customer, product_id=product.pk, quantity=1, require="me")
    ProductOrder.objects.filter(pk=order.pk).update(
        status=ProductOrderStatus.CANCELED, note="Sold out upstream", refunded=order.charge
    )

    response = logged_in.get(reverse("product_order_list"))

    assert "Sold out upstream" in response.content.decode()
    assert response.context["rows"][0]["charge"] == 0


def test_order_pages_render_for_a_customer_with_orders(
    logged_in: Client, customer: User, service: Service, product: Product
) -> None:
    _place(customer, service)
    product_order_place(user=customer, product_id=product.pk, quantity=1, require="me")

    for name in ("order_new", "order_mass", "order_list", "refill_list", "product_order_list"):
        response = logged_in.get(reverse(name))
        assert response.status_code == 200, name
        assert b"<main>" in response.content


def test_order_new_works_for_a_customer_with_no_services_on_sale(logged_in: Client) -> None:
    response = logged_in.get(reverse("order_new"))

    assert response.status_code == 200
    assert "No services found" in response.content.decode()
