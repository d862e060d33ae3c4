"""The panel's own /api/v2, driven as real reseller clients drive it (docs/protocol.md "Actions")."""

import json
import logging
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, User
from accounts.services import api_key_create
from orders.models import Order, OrderStatus, ProductOrder, Refill
from orders.services import order_forward, order_place, product_order_place
from providers.models import Product, Provider, Service, ServiceType
from sandbox import SandboxServer
from tests.support import sandbox_control, unused_pk

URL = "/api/v2"
T = ServiceType


@pytest.fixture
def call(client: Client, reseller_key: str) -> Callable[..., Any]:
    """POST form-encoded, the canonical way; checks the transport rules on every answer."""

    def _call(action: str, key: str | None = None, **fields: Any) -> Any:
        response = client.post(
            URL, {"key": reseller_key if key is None else key, "action": action, **fields}
        )
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        return json.loads(response.content, parse_float=Decimal)

    return _call


# --- Transport -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/"])
def test_both_paths_answer_directly_without_redirect(
    client: Client, reseller_key: str, path: str
) -> None:
    response = client.post(path, {"key": reseller_key, "action": "balance"})
    assert response.status_code == 200 and json.loads(response.content)["currency"] == "USD"


def test_get_with_a_query_string_works(client: Client, reseller_key: str) -> None:
    response = client.get(URL, {"key": reseller_key, "action": "balance"})
    assert json.loads(response.content) == {"balance": "100.00", "currency": "USD"}


def test_json_body_and_multipart_work(client: Client, reseller_key: str) -> None:
    as_json = client.post(
        URL,
        data=json.dumps({"key": reseller_key, "action": "balance"}),
        content_type="application/json",
    )
    multipart = client.post(
        URL, {"key": reseller_key, "action": "balance"}
    )  # the test client's default is multipart
    assert (
        json.loads(as_json.content)["balance"]
        == json.loads(multipart.content)["balance"]
        == "100.00"
    )


def test_form_urlencoded_post_works(client: Client, reseller_key: str) -> None:
    response = client.post(
        URL,
        data=f"key={reseller_key}&action=balance",
        content_type="application/x-www-form-urlencoded",
    )
    assert json.loads(response.content)["balance"] == "100.00"


def test_bearer_header_carries_the_key(client: Client, reseller_key: str) -> None:
    response = client.post(URL, {"action": "balance"}, HTTP_AUTHORIZATION=f"Bearer {reseller_key}")
    assert "balance" in json.loads(response.content)


@pytest.mark.parametrize("key", ["", "wrong", "smm_" + "x" * 40])
def test_bad_keys_get_invalid_api_key(call: Callable[..., Any], key: str) -> None:
    assert call("balance", key=key) == {"error": "Invalid API key"}


def test_disabled_account_key_stops_at_once(call: Callable[..., Any], reseller: User) -> None:
    assert "balance" in call("balance")
    User.objects.filter(pk=reseller.pk).update(is_active=False)
    assert call("balance") == {"error": "Invalid API key"}


@pytest.mark.parametrize("action", ["", "nonsense", "SERVICES_X"])
def test_unknown_action_is_incorrect_request(call: Callable[..., Any], action: str) -> None:
    assert call(action) == {"error": "Incorrect request"}


def test_action_names_are_case_insensitive(call: Callable[..., Any]) -> None:
    assert "balance" in call("Balance")


def test_malformed_json_is_a_json_error_not_a_page(client: Client, reseller_key: str) -> None:
    response = client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "Incorrect request"}


def test_other_methods_get_a_json_error(client: Client, reseller_key: str) -> None:
    response = client.put(
        URL,
        data=f"key={reseller_key}&action=balance",
        content_type="application/x-www-form-urlencoded",
    )
    assert response["Content-Type"] == "application/json" and "error" in json.loads(
        response.content
    )


def test_accept_text_html_still_gets_json(client: Client, reseller_key: str) -> None:
    response = client.post(URL, {"key": reseller_key, "action": "balance"}, HTTP_ACCEPT="text/html")
    assert response["Content-Type"] == "application/json"


def test_the_key_is_never_logged(
    client: Client, reseller_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.get(URL, {"key": reseller_key, "action": "nonsense"})
        client.get("/api/v2/missing", {"key": reseller_key})
    assert reseller_key not in caplog.text


# --- services, balance -----------------------------------------------------------------------------


def test_services_lists_what_is_on_sale_with_protocol_types(
    call: Callable[..., Any], catalog: Provider
) -> None:
    hidden = Service.objects.order_by("pk").first()
    Service.objects.filter(pk=hidden.pk).update(is_enabled=False)

    services = call("services")

    assert len(services) == Service.objects.filter(is_enabled=True).count() == 39
    assert hidden.pk not in {s["service"] for s in services}
    first = services[0]
    assert set(first) >= {
        "service",
        "name",
        "type",
        "category",
        "rate",
        "min",
        "max",
        "refill",
        "cancel",
    }
    assert (
        isinstance(first["service"], int)
        and isinstance(first["rate"], str)
        and isinstance(first["min"], str)
    )
    assert isinstance(first["refill"], bool) and isinstance(first["dripfeed"], bool)
    by_id = {s["service"]: s for s in services}
    some = Service.objects.filter(is_enabled=True).order_by("pk").first()
    assert Decimal(by_id[some.pk]["rate"]) == some.rate
    assert {s["type"] for s in services} == set(T.values)


def test_services_rate_is_the_customers_price_after_discount(
    call: Callable[..., Any], reseller: User, catalog: Provider
) -> None:
    User.objects.filter(pk=reseller.pk).update(discount_percent=Decimal(20))
    some = Service.objects.order_by("pk").first()
    rate = {s["service"]: s["rate"] for s in call("services")}[some.pk]
    assert Decimal(rate) == (some.rate * Decimal("0.8")).quantize(Decimal("0.000001"))


def test_balance_shows_the_charge_right_after_add(
    call: Callable[..., Any], catalog: Provider
) -> None:
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    order_id = call("add", service=service.pk, link="https://x.com/a", quantity=service.min)[
        "order"
    ]

    charge = Order.objects.get(pk=order_id).charge
    assert Decimal(call("balance")["balance"]) == Decimal(100) - charge


# --- add -------------------------------------------------------------------------------------------

TYPE_FIELDS: dict[str, dict[str, str]] = {
    T.DEFAULT: {"link": "https://instagram.com/p/1", "quantity": "{min}"},
    T.PACKAGE: {"link": "https://t.me/c"},
    T.CUSTOM_COMMENTS: {"link": "https://instagram.com/p/1", "comments": "{lines}"},
    T.CUSTOM_COMMENTS_PACKAGE: {"link": "https://instagram.com/p/1", "comments": "nice\ngreat"},
    T.MENTIONS: {"link": "https://instagram.com/p/1", "quantity": "{min}", "usernames": "a\nb"},
    T.MENTIONS_WITH_HASHTAGS: {
        "link": "https://instagram.com/p/1",
        "quantity": "{min}",
        "usernames": "a\nb",
        "hashtags": "#x\n#y",
    },
    T.MENTIONS_CUSTOM_LIST: {"link": "https://instagram.com/p/1", "usernames": "{lines}"},
    T.MENTIONS_HASHTAG: {
        "link": "https://instagram.com/p/1",
        "quantity": "{min}",
        "hashtag": "#summer",
    },
    T.MENTIONS_USER_FOLLOWERS: {
        "link": "https://instagram.com/p/1",
        "quantity": "{min}",
        "username": "someone",
    },
    T.MENTIONS_MEDIA_LIKERS: {
        "link": "https://instagram.com/p/1",
        "quantity": "{min}",
        "media": "https://instagram.com/p/2",
    },
    T.COMMENT_LIKES: {
        "link": "https://instagram.com/p/1",
        "quantity": "{min}",
        "username": "someone",
    },
    T.POLL: {"link": "https://t.me/c/1", "quantity": "{min}", "answer_number": "2"},
    T.INVITES_FROM_GROUPS: {
        "link": "https://t.me/c",
        "quantity": "{min}",
        "groups": "https://t.me/g1\nhttps://t.me/g2",
    },
    T.SEO: {
        "link": "https://example.com/",
        "quantity": "{min}",
        "keywords": "smm panel\ncheap followers",
    },
    T.SUBSCRIPTIONS: {
        "username": "someone",
        "min": "{min}",
        "max": "{min}",
        "posts": "2",
        "delay": "30",
    },
}


@pytest.mark.parametrize("service_type", list(TYPE_FIELDS))
def test_add_works_for_every_service_type_and_the_order_reaches_the_sandbox(
    call: Callable[..., Any], catalog: Provider, sandbox: SandboxServer, service_type: str
) -> None:
    service = Service.objects.filter(type=service_type).order_by("pk").first()
    lines = "\n".join(f"entry {i}" for i in range(service.min))
    fields = {
        name: value.format(min=service.min, lines=lines)
        for name, value in TYPE_FIELDS[service_type].items()
    }

    answer = call("add", service=service.pk, **fields)

    assert set(answer) == {"order"} and isinstance(answer["order"], int)
    assert (
        order_forward(order_id=answer["order"]) == "sent"
    )  # the sandbox accepts exactly these fields


def test_add_with_undefined_optional_fields_ignores_them(
    call: Callable[..., Any], catalog: Provider
) -> None:
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    answer = call(
        "add",
        service=service.pk,
        link="@someone",
        quantity=service.min,
        runs="undefined",
        interval="null",
    )
    assert Order.objects.get(pk=answer["order"]).runs is None


def test_add_with_dripfeed(call: Callable[..., Any], catalog: Provider) -> None:
    service = Service.objects.filter(type=T.DEFAULT, has_dripfeed=True).order_by("pk").first()
    order = Order.objects.get(
        pk=call("add", service=service.pk, link="@a", quantity=service.min, runs=3, interval=10)[
            "order"
        ]
    )
    assert (order.runs, order.total_quantity) == (3, service.min * 3)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"service": "999999", "link": "@a", "quantity": "100"}, "Incorrect service ID"),
        ({"service": "abc", "link": "@a", "quantity": "100"}, "Incorrect service ID"),
        ({"link": "@a", "quantity": "100"}, "Incorrect request"),
        ({"service": "{id}", "link": "not a link", "quantity": "{min}"}, "Incorrect link"),
        ({"service": "{id}", "quantity": "{min}"}, "Incorrect link"),
        (
            {"service": "{id}", "link": "@a", "quantity": "{below}"},
            "Quantity less than minimal {min}",
        ),
        (
            {"service": "{id}", "link": "@a", "quantity": "{above}"},
            "Quantity more than maximal {max}",
        ),
        ({"service": "{id}", "link": "@a"}, "Incorrect request"),
        ({"service": "{id}", "link": "@a", "quantity": "ten"}, "Incorrect request"),
    ],
)
def test_add_errors_use_the_exact_protocol_strings_and_change_nothing(
    call: Callable[..., Any], catalog: Provider, reseller: User, fields: dict, error: str
) -> None:
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    values = {
        "id": service.pk,
        "min": service.min,
        "max": service.max,
        "below": service.min - 1,
        "above": service.max + 1,
    }

    answer = call("add", **{name: value.format(**values) for name, value in fields.items()})

    assert answer == {"error": error.format(**values)}
    assert (
        not Order.objects.exists() and BalanceTransaction.objects.filter(user=reseller).count() == 1
    )


def test_add_without_enough_funds(call: Callable[..., Any], catalog: Provider) -> None:
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    Service.objects.filter(pk=service.pk).update(rate=Decimal(999999))
    assert call("add", service=service.pk, link="@a", quantity=service.min) == {
        "error": "Not enough funds on balance"
    }


def test_add_is_two_queries_and_at_most_one_redis_round_trip(
    client: Client, reseller_key: str, catalog: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key with its user and the service with its provider, and the order with its event,
    its debit and its ledger row; the throttle is one script call to Redis when the process
    has no count of the key's left from the block it took ahead, none when it has
    (panel.api.throttle); no task is published."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from redis.connection import AbstractConnection

    from panel.api import throttle

    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    add = {"key": reseller_key, "action": "add", "service": service.pk, "link": "@a"}
    add["quantity"] = service.min
    client.post(URL, add)  # the first use of the key writes its last_used_at
    sent: list[object] = []
    original = AbstractConnection.send_packed_command
    monkeypatch.setattr(
        AbstractConnection,
        "send_packed_command",
        lambda self, command, check_health=True: (
            sent.append(command) or original(self, command, check_health)
        ),
    )

    with CaptureQueriesContext(connection) as queries:
        answer = client.post(URL, {**add, "link": "@b"})  # "@a" has its open order

    assert "order" in json.loads(answer.content)
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # (the test's own transaction turns the request's into a savepoint)
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == ["SELECT", "WITH"]
    assert sent == []  # counted from the block the first add took

    monkeypatch.setattr(throttle, "_ahead", throttle._Ahead())  # as in another process
    answer = client.post(URL, {**add, "link": "@c"})
    assert "order" in json.loads(answer.content) and len(sent) == 1


def test_add_answers_the_bytes_drfs_renderer_wrote(
    client: Client, reseller_key: str, catalog: Provider
) -> None:
    """The `add` answer is written by hand (panel.api.handlers.add): byte for byte what DRF's
    JSON renderer wrote, with the same headers."""
    from rest_framework.renderers import JSONRenderer

    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    add = {"key": reseller_key, "action": "add", "service": service.pk, "quantity": service.min}
    answer = client.post(URL, {**add, "link": "@bytes"})

    order = Order.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert answer.status_code == 200
    assert answer.content == JSONRenderer().render({"order": order})
    assert answer["Content-Type"] == "application/json" and answer["Cache-Control"] == "no-store"


def test_add_with_client_ref_is_idempotent(
    call: Callable[..., Any], catalog: Provider, reseller: User
) -> None:
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    first = call("add", service=service.pk, link="@a", quantity=service.min, client_ref="r-1")
    again = call("add", service=service.pk, link="@a", quantity=service.min, client_ref="r-1")

    assert first == again
    assert BalanceTransaction.objects.filter(user=reseller, kind="charge").count() == 1


# --- status ------------------------------------------------------------------------------------------


@pytest.fixture
def orders(reseller: User, catalog: Provider) -> list[Order]:
    service = (
        Service.objects.filter(type=T.DEFAULT, has_refill=True, has_cancel=True)
        .order_by("pk")
        .first()
    )
    return [
        order_place(
            user=reseller,
            service_id=service.pk,
            fields={"link": f"@o{i}", "quantity": str(service.min)},
        )
        for i in range(3)
    ]


def test_status_of_one_order(call: Callable[..., Any], orders: list[Order]) -> None:
    order = orders[0]
    assert call("status", order=order.pk) == {
        "charge": str(order.charge.normalize()),
        "start_count": "0",
        "status": "Pending",
        "remains": str(order.total_quantity),
        "currency": "USD",
    }


def test_status_of_many_orders_is_keyed_by_id_as_a_string(
    call: Callable[..., Any], orders: list[Order], other_reseller: User
) -> None:
    foreign = order_place(
        user=other_reseller,
        service_id=orders[0].service_id,
        fields={"link": "@f", "quantity": str(orders[0].quantity)},
    )

    unknown = str(unused_pk(Order))
    answer = call("status", orders=f" {orders[0].pk} ,{orders[1].pk},{unknown},{foreign.pk},abc")

    assert set(answer) == {str(orders[0].pk), str(orders[1].pk), unknown, str(foreign.pk), "abc"}
    assert answer[str(orders[0].pk)]["status"] == "Pending"
    assert (
        answer[unknown]
        == answer[str(foreign.pk)]
        == answer["abc"]
        == {"error": "Incorrect order ID"}
    )


def test_someone_elses_order_is_incorrect_order_id(
    call: Callable[..., Any], orders: list[Order], other_reseller: User
) -> None:
    other_key = api_key_create(user=other_reseller)
    assert call("status", key=other_key, order=orders[0].pk) == {"error": "Incorrect order ID"}


def test_more_than_100_ids_is_refused(call: Callable[..., Any], orders: list[Order]) -> None:
    ids = ",".join(str(n) for n in range(1, 102))
    for action, name in (
        ("status", "orders"),
        ("refill", "orders"),
        ("refill_status", "refills"),
        ("cancel", "orders"),
        ("product_order_status", "orders"),
    ):
        assert call(action, **{name: ids}) == {"error": "Too many IDs (limit 100)"}


def test_status_charge_is_net_of_refunds(
    call: Callable[..., Any], orders: list[Order], reseller: User
) -> None:
    from orders.services import order_cancel

    order_cancel(user=reseller, order_id=orders[0].pk)
    assert call("status", order=orders[0].pk)["charge"] == "0"
    assert call("status", order=orders[0].pk)["status"] == "Canceled"


# --- refill, cancel ------------------------------------------------------------------------------------


def _complete(order: Order, sandbox: SandboxServer) -> None:
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED, remains=0)


def test_refill_single_and_multi(
    call: Callable[..., Any], orders: list[Order], sandbox: SandboxServer
) -> None:
    for order in orders[:2]:
        _complete(order, sandbox)

    single = call("refill", order=orders[0].pk)
    unknown = unused_pk(Order)
    multi = call("refill", orders=f"{orders[1].pk},{orders[2].pk},{unknown}")

    assert single == {"refill": str(Refill.objects.get(order=orders[0]).pk)}
    assert multi == [
        {"order": orders[1].pk, "refill": Refill.objects.get(order=orders[1]).pk},
        {"order": orders[2].pk, "refill": {"error": "Refill is not available for this order"}},
        {"order": unknown, "refill": {"error": "Incorrect order ID"}},
    ]
    assert call("refill", order=orders[0].pk) == {
        "error": "Refill is not available for this order"
    }  # one at a time


def test_refill_status_single_and_multi(
    call: Callable[..., Any], orders: list[Order], sandbox: SandboxServer
) -> None:
    _complete(orders[0], sandbox)
    refill_id = int(call("refill", order=orders[0].pk)["refill"])
    unknown = unused_pk(Refill)

    assert call("refill_status", refill=refill_id) == {"status": "Pending"}
    assert call("refill_status", refills=f"{refill_id},{unknown}") == [
        {"refill": refill_id, "status": "Pending"},
        {"refill": unknown, "status": {"error": "Incorrect refill ID"}},
    ]
    assert call("refill_status", refill=unknown) == {"error": "Incorrect refill ID"}


def test_cancel_answers_a_list_for_one_or_many(
    call: Callable[..., Any], orders: list[Order], reseller: User
) -> None:
    unknown = unused_pk(Order)
    assert call("cancel", order=orders[0].pk) == [{"order": orders[0].pk, "cancel": 1}]
    assert call("cancel", orders=f"{orders[1].pk},{orders[0].pk},{unknown}") == [
        {"order": orders[1].pk, "cancel": 1},
        {"order": orders[0].pk, "cancel": {"error": "Cancel is not available for this order"}},
        {"order": unknown, "cancel": {"error": "Incorrect order ID"}},
    ]
    reseller.refresh_from_db()
    assert (
        reseller.balance == Decimal(100) - orders[2].charge
    )  # the two queued orders were refunded at once


# --- products ------------------------------------------------------------------------------------------


def test_products_list_with_seed_types(call: Callable[..., Any], catalog: Provider) -> None:
    products = call("products")

    assert len(products) == Product.objects.count()
    auto = next(p for p in products if p["type"] == "Auto" and "inventory" in p)
    assert isinstance(auto["product"], int) and isinstance(auto["rate"], int | Decimal)
    assert isinstance(auto["min"], int) and isinstance(auto["inventory"], int)
    assert {p["status"] for p in products} == {"In stock", "Out of stock"}


def test_product_order_and_its_status(
    call: Callable[..., Any],
    catalog: Provider,
    sandbox: SandboxServer,
    reseller: User,
    other_reseller: User,
) -> None:
    from orders.services import product_order_forward
    from orders.services.polling import PRODUCT_ORDERS, poll

    product = Product.objects.filter(is_in_stock=True).exclude(require="").order_by("pk").first()
    order_id = call(
        "add_product_order", product=product.pk, quantity=product.min, require="me@example.com"
    )["order"]
    other = product_order_place(
        user=reseller, product_id=product.pk, quantity=product.min, require="x"
    )
    product_order_forward(product_order_id=order_id)
    upstream_id = int(ProductOrder.objects.get(pk=order_id).upstream_id)
    sandbox_control(
        sandbox, "force", product_order=upstream_id, status="Completed", result="CODE-123"
    )
    ProductOrder.objects.update(next_poll_at="2000-01-01T00:00:00Z")
    poll(PRODUCT_ORDERS, catalog)

    answer = call("product_order_status", order=order_id)
    assert answer == {
        "charge": float(product.rate * product.min)
        if product.rate * product.min % 1
        else int(product.rate * product.min),
        "status": "Completed",
        "result": "CODE-123",
    }
    # Ids that cannot be this reseller's: another reseller's order, and one past every id used.
    theirs = product_order_place(
        user=other_reseller, product_id=product.pk, quantity=product.min, require="y"
    )
    unused = theirs.pk + 1_000_000
    multi = call("product_order_status", orders=f"{order_id},{other.pk},{theirs.pk},{unused}")
    assert multi[str(other.pk)] == {
        "charge": multi[str(other.pk)]["charge"],
        "status": "Pending",
        "result": "",
    }
    assert multi[str(theirs.pk)] == multi[str(unused)] == {"error": "Incorrect order ID"}


def test_add_product_order_errors(call: Callable[..., Any], catalog: Provider) -> None:
    out_of_stock = Product.objects.filter(is_in_stock=False).first()
    assert call("add_product_order", product=out_of_stock.pk, quantity=1, require="x") == {
        "error": "Product is out of stock"
    }
    assert call("add_product_order", product=unused_pk(Product), quantity=1) == {
        "error": "Incorrect product ID"
    }


# --- throttling ----------------------------------------------------------------------------------------


def test_requests_over_the_per_key_rate_get_429(
    client: Client, reseller_key: str, settings: Any
) -> None:
    settings.PANEL_API_RATE = "3/min"
    codes = [
        client.post(URL, {"key": reseller_key, "action": "balance"}).status_code for _ in range(5)
    ]

    assert codes == [200, 200, 200, 429, 429]
    response = client.post(URL, {"key": reseller_key, "action": "balance"})
    assert (
        json.loads(response.content) == {"error": "Too many requests"}
        and int(response["Retry-After"]) > 0
    )


def test_bad_keys_are_throttled_per_address_but_good_keys_still_work(
    client: Client, reseller_key: str, settings: Any
) -> None:
    settings.PANEL_API_BAD_KEY_RATE = "2/min"
    codes = [client.post(URL, {"key": "guess", "action": "balance"}).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    response = client.post(
        URL, {"key": reseller_key, "action": "balance"}
    )  # a reseller on the same address
    assert response.status_code == 200 and "balance" in json.loads(response.content)


def test_the_client_address_behind_a_proxy_is_the_entry_the_proxy_added(
    client: Client, settings: Any, db: None
) -> None:
    settings.PANEL_API_BAD_KEY_RATE = "1/min"
    settings.PANEL_REAL_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    client.post(
        URL, {"key": "guess", "action": "balance"}, HTTP_X_FORWARDED_FOR="1.1.1.1, 10.0.0.5"
    )

    spoofed = client.post(
        URL, {"key": "guess", "action": "balance"}, HTTP_X_FORWARDED_FOR="9.9.9.9, 10.0.0.5"
    )
    other = client.post(URL, {"key": "guess", "action": "balance"}, HTTP_X_FORWARDED_FOR="10.0.0.6")
    assert spoofed.status_code == 429 and other.status_code == 200


def test_a_rejected_host_header_still_gets_json(client: Client, reseller_key: str) -> None:
    response = client.post(
        URL, {"key": reseller_key, "action": "balance"}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "Incorrect request"}


def test_the_api_skips_the_pages_middleware_and_pages_keep_it(
    client: Client, reseller_key: str
) -> None:
    api = client.post(URL, {"key": reseller_key, "action": "balance"})
    page = client.get("/login/")

    assert api["X-Content-Type-Options"] == page["X-Content-Type-Options"] == "nosniff"
    for header in ("Content-Security-Policy", "Permissions-Policy"):
        assert header not in api and header in page
    assert api["X-Frame-Options"] == page["X-Frame-Options"] == "DENY"
    assert not api.cookies  # no session, no CSRF cookie
    assert "csrftoken" in page.cookies


def test_unknown_paths_under_the_api_get_json(client: Client) -> None:
    response = client.get("/api/v2/nothing/here")
    assert response.status_code == 404 and json.loads(response.content) == {
        "error": "Incorrect request"
    }


def test_services_answer_follows_catalog_changes_at_once(
    call: Callable[..., Any], catalog: Provider, sandbox: SandboxServer
) -> None:
    from providers.services import catalog_set_on_sale

    first = call("services")
    service = Service.objects.order_by("pk").first()
    service.rate = Decimal("7.77")
    service.save()
    assert {s["service"]: s["rate"] for s in call("services")}[service.pk] == "7.77"

    catalog_set_on_sale(items=Service.objects.filter(pk=service.pk), on_sale=False)
    assert len(call("services")) == len(first) - 1

    sandbox_control(
        sandbox, "remove", services=[int(Service.objects.order_by("pk").last().upstream_id)]
    )
    from providers.services import catalog_sync

    catalog_sync(provider=catalog)
    assert len(call("services")) == len(first) - 2


@pytest.mark.parametrize("huge", ["100000000000000000000", "9223372036854775808", "-1", "0"])
def test_ids_beyond_the_database_range_are_just_incorrect(
    call: Callable[..., Any], catalog: Provider, huge: str
) -> None:
    assert call("status", order=huge) == {"error": "Incorrect order ID"}
    assert call("status", orders=huge) == {huge: {"error": "Incorrect order ID"}}
    assert call("add", service=huge, link="@a", quantity="100") == {"error": "Incorrect service ID"}
    assert call("refill", order=huge) == {"error": "Incorrect order ID"}


def test_too_many_fields_is_an_incorrect_request_not_a_fault(
    client: Client, reseller_key: str
) -> None:
    body = "&".join(f"f{n}=1" for n in range(1200)) + f"&key={reseller_key}&action=balance"
    response = client.post(URL, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and json.loads(response.content) == {
        "error": "Incorrect request"
    }


# --- Outside the request's transaction ------------------------------------------------------------
# `/api/v2` runs outside ATOMIC_REQUESTS: `add` places its order with one statement that is its
# own transaction, every other action runs in a transaction of its own (panel.api.views). Only a
# test with transactions of its own sees that (inside a test's, every block is a savepoint).


def _atomic_at_each_statement(run: Callable[[], Any]) -> tuple[Any, list[tuple[bool, str]]]:
    """What `run` answers, and for each statement it sent, whether a transaction block was
    open (Django's) and the statement's first words."""
    from django.db import connection

    seen: list[tuple[bool, str]] = []

    def record(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        seen.append((connection.in_atomic_block, " ".join(sql.split()[:3])))
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        answer = run()
    return answer, seen


def _placed(user: User, link: str) -> Order:
    """An order of the first plain service, placed for `user` on `link`."""
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    return order_place(
        user=user, service_id=service.pk, fields={"link": link, "quantity": str(service.min)}
    )


@pytest.mark.django_db(transaction=True)
def test_add_places_its_order_in_a_statement_that_is_its_own_transaction(
    call: Callable[..., Any], catalog: Provider, reseller: User
) -> None:
    from django.db import connection

    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()

    answer, seen = _atomic_at_each_statement(
        lambda: call("add", service=service.pk, link="@own", quantity=service.min)
    )

    order = Order.objects.get(pk=answer["order"])
    # the key's read (and the key's last use, a once-a-minute write) and the order's statement
    assert seen[-1][1] == "WITH placed AS" and not any(atomic for atomic, _ in seen)
    assert connection.connection.info.transaction_status == 0  # idle: nothing left open
    charge = BalanceTransaction.objects.get(order_id=order.pk)
    assert charge.amount == -order.charge and order.events.count() == 1
    reseller.refresh_from_db()
    assert reseller.balance == Decimal("100") - order.charge == charge.balance_after


@pytest.mark.django_db(transaction=True)
def test_add_short_of_funds_outside_a_transaction_writes_nothing_and_frees_the_link(
    call: Callable[..., Any], catalog: Provider, reseller: User
) -> None:
    from orders.models import OrderEvent, OrderOpenLink

    # given a service that takes one open order per link, a cent dearer than the balance
    service = Service.objects.filter(type=T.DEFAULT).order_by("pk").first()
    Service.objects.filter(pk=service.pk).update(is_one_order_per_link=True)
    ledger = BalanceTransaction.objects.count()

    # when the order is refused for want of funds
    Service.objects.filter(pk=service.pk).update(rate=Decimal(999999))
    refused = call("add", service=service.pk, link="@mine", quantity=service.min)

    # then the exact protocol error, and nothing at all was written: no order, no event, no
    # ledger row, no balance moved, no hold on the link
    assert refused == {"error": "Not enough funds on balance"}
    assert not Order.objects.exists() and not OrderEvent.objects.exists()
    assert not OrderOpenLink.objects.exists() and BalanceTransaction.objects.count() == ledger
    reseller.refresh_from_db()
    assert reseller.balance == Decimal("100")

    # and the same link takes the order the balance covers
    Service.objects.filter(pk=service.pk).update(rate=service.rate)
    placed = call("add", service=service.pk, link="@mine", quantity=service.min)
    assert Order.objects.get().pk == placed["order"]


@pytest.mark.django_db(transaction=True)
def test_every_other_action_that_writes_runs_in_a_transaction_of_its_own(
    call: Callable[..., Any], catalog: Provider, reseller: User
) -> None:
    order = _placed(reseller, "@x")

    answer, seen = _atomic_at_each_statement(lambda: call("cancel", orders=str(order.pk)))

    assert answer == [{"order": order.pk, "cancel": 1}]
    # the key's read (and its last use) outside; every statement of the action's own inside
    own = [
        atomic
        for atomic, sql in seen
        if "accounts_apikey" not in sql and not sql.startswith("SELECT u.")
    ]
    assert own and all(own)


@pytest.mark.django_db(transaction=True)
def test_the_reading_actions_run_outside_any_transaction_and_write_nothing(
    call: Callable[..., Any], catalog: Provider, reseller: User
) -> None:
    from panel.api.handlers import HANDLERS, READS

    order = _placed(reseller, "@r")
    fields = {
        "status": {"orders": f"{order.pk},{unused_pk(Order)}"},
        "refill_status": {"refill": "1"},
        "product_order_status": {"order": str(unused_pk(ProductOrder))},
    }
    assert READS < HANDLERS.keys() and "add" not in READS
    call("balance")  # the key's last use written once, before the actions measured

    for action in sorted(READS):
        answer, seen = _atomic_at_each_statement(partial(call, action, **fields.get(action, {})))
        assert answer, action
        assert not any(atomic for atomic, _ in seen), action
        writes = [sql for _, sql in seen if sql.split()[0] in {"INSERT", "UPDATE", "DELETE"}]
        assert writes == [], (action, writes)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("method", "body", "content_type", "error"),
    [
        ("post", {"key": "smm_" + "x" * 40, "action": "balance"}, None, "Invalid API key"),
        ("post", {"action": "nonsense"}, None, "Incorrect request"),
        ("post", "{not json", "application/json", "Incorrect request"),
        ("put", "", "application/x-www-form-urlencoded", "Incorrect request"),
        ("post", {"action": "add", "service": "1", "link": "@a", "quantity": "x"}, None, None),
    ],
    ids=["bad key", "unknown action", "malformed json", "method", "service error"],
)
def test_errors_outside_a_transaction_answer_and_leave_the_connection_usable(
    client: Client,
    reseller_key: str,
    reseller: User,
    method: str,
    body: Any,
    content_type: str | None,
    error: str | None,
) -> None:
    """With no request transaction, an error answers as ever: no rollback flag to set (Django
    refuses one outside a block), nothing written, the connection fine for the next request."""
    from django.db import connection

    if isinstance(body, dict) and "key" not in body:
        body = {**body, "key": reseller_key}
    send = getattr(client, method)
    response = send(URL, body, content_type=content_type) if content_type else send(URL, body)

    answer = json.loads(response.content)
    assert response.status_code == 200 and "error" in answer
    assert error is None or answer == {"error": error}
    assert not connection.in_atomic_block and not connection.needs_rollback
    assert not Order.objects.exists()
    assert "balance" in client.post(URL, {"key": reseller_key, "action": "balance"}).json()
