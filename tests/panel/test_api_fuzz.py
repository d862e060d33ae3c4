"""Arbitrary parameters never make /api/v2 answer a 5xx or something that is not JSON, and never
move money without an order."""

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import BalanceTransaction, User
from accounts.selectors import ledger_mismatches
from orders.models import Order, ProductOrder
from providers.models import Provider

ACTIONS = [
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
]
FIELDS = [
    "service",
    "link",
    "quantity",
    "runs",
    "interval",
    "comments",
    "usernames",
    "hashtags",
    "hashtag",
    "username",
    "media",
    "answer_number",
    "groups",
    "keywords",
    "min",
    "max",
    "posts",
    "old_posts",
    "delay",
    "expiry",
    "order",
    "orders",
    "refill",
    "refills",
    "product",
    "require",
    "client_ref",
]

numbers = st.one_of(
    st.integers(min_value=-10, max_value=10**20).map(str),
    st.sampled_from(["1e9", "0x10", "1.5", "NaN", "-0", "٣"]),
)
ids = st.lists(st.integers(min_value=-5, max_value=10**6).map(str), max_size=120).map(",".join)
texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "undefined", "null", "https://x.com/a", "@user", "a\nb\nc", " , ,"]),
)
values = st.one_of(numbers, ids, texts)
json_values = st.one_of(
    values,
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.fixture
def world(db: None, catalog: Provider, settings: Any) -> dict[str, Any]:
    from accounts.services import api_key_create
    from tests.factories import UserFactory

    settings.PANEL_API_BAD_KEY_RATE = "100000/min"
    settings.PANEL_API_RATE = "100000/min"
    user = UserFactory(username="fuzzer", funds=Decimal(50))
    return {"key": api_key_create(user=user), "user": user}


def _check(response: Any) -> None:
    assert response.status_code in (200, 429), (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


def _money_is_accounted_for() -> None:
    assert ledger_mismatches() == []
    charges = BalanceTransaction.objects.filter(kind__in=["charge", "refund"])
    order_ids = set(charges.exclude(order_id=None).values_list("order_id", flat=True))
    product_ids = set(
        charges.exclude(product_order_id=None).values_list("product_order_id", flat=True)
    )
    assert order_ids <= set(Order.objects.values_list("pk", flat=True))
    assert product_ids <= set(ProductOrder.objects.values_list("pk", flat=True))
    assert not charges.filter(order_id=None, product_order_id=None).exists()


@hypothesis_settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.one_of(st.sampled_from(ACTIONS), st.text(max_size=20)),
    params=st.dictionaries(
        st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), values, max_size=8
    ),
    good_key=st.booleans(),
    method=st.sampled_from(["post", "get"]),
)
def test_form_and_query_fuzz_never_faults(
    client: Client, world: dict[str, Any], action: str, params: dict, good_key: bool, method: str
) -> None:
    data = {
        **params,
        "action": action,
        "key": world["key"] if good_key else params.get("key", "nope"),
    }
    data = {
        k: v.replace("\x00", "") for k, v in data.items() if "\x00" not in k
    }  # NUL cannot travel in a form
    _check(getattr(client, method)("/api/v2", data))
    _money_is_accounted_for()


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.one_of(st.sampled_from(ACTIONS), json_values),
    params=st.dictionaries(
        st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), json_values, max_size=8
    ),
)
def test_json_fuzz_never_faults(
    client: Client, world: dict[str, Any], action: object, params: dict
) -> None:
    body = json.dumps({**params, "action": action, "key": world["key"]})
    _check(client.post("/api/v2", data=body, content_type="application/json"))
    _money_is_accounted_for()


@pytest.mark.parametrize(
    "body",
    [b"[1,2]", b'"text"', b"null", b"\xff\xfe", b'{"key": ' + b"[" * 5000 + b"]" * 5000 + b"}"],
)
def test_odd_json_bodies_are_incorrect_requests(
    client: Client, world: dict[str, Any], body: bytes
) -> None:
    response = client.post("/api/v2", data=body, content_type="application/json")
    _check(response)
    assert "error" in json.loads(response.content)
    assert User.objects.get(pk=world["user"].pk).balance == Decimal(50)
