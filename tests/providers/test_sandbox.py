"""The sandbox provider, exercised as real clients use it: over HTTP on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import SandboxConfig, SandboxServer, SandboxState
from sandbox.catalog import Service
from sandbox.faults import LEAKED_KEYS
from tests.providers.sandbox_helpers import (
    SANDBOX_KEY,
    FakeClock,
    sandbox_call,
    sandbox_control,
)

SERVICE_TYPES = (
    "Default",
    "Package",
    "Custom Comments",
    "Custom Comments Package",
    "Mentions",
    "Mentions with Hashtags",
    "Mentions Custom List",
    "Mentions Hashtag",
    "Mentions User Followers",
    "Mentions Media Likers",
    "Comment Likes",
    "Poll",
    "Invites from Groups",
    "SEO",
    "Subscriptions",
)
ROOT = Path(__file__).resolve().parents[2]
UUID_LINE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sandbox(clock: FakeClock) -> Iterator[Any]:
    """Start sandboxes with a fake clock and predictable fates unless told otherwise."""
    servers: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        settings: dict[str, Any] = {"clock": clock, "partial_rate": 0, "cancel_rate": 0}
        settings["refill_rejected_rate"] = 0
        settings.update(overrides)
        server = SandboxServer(SandboxConfig(**settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: Any) -> SandboxServer:
    return make_sandbox()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    # Shared: building an httpx client (its TLS context) costs more than a sandbox.
    with httpx.Client(timeout=5) as http:
        yield http


def find_service(server: SandboxServer, kind: str, **attrs: Any) -> Service:
    for service in server.state.services.values():
        if service.type == kind and all(getattr(service, k) == v for k, v in attrs.items()):
            return service
    raise AssertionError(f"no {kind} service with {attrs}")


def place(client: httpx.Client, server: SandboxServer, service: Service, **fields: Any) -> Any:
    return sandbox_call(client, server, action="add", service=service.service, **fields)


def order_status(client: httpx.Client, server: SandboxServer, order_id: int) -> dict[str, Any]:
    return sandbox_call(client, server, action="status", order=order_id)


def balance(client: httpx.Client, server: SandboxServer) -> Decimal:
    return Decimal(sandbox_call(client, server, action="balance")["balance"])


# Transport -------------------------------------------------------------------


def test_api_answers_form_post_with_json_content_type(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    response = client.post(sandbox.url, data={"key": SANDBOX_KEY, "action": "balance"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"balance": "100000", "currency": "USD"}


def test_api_path_with_trailing_slash_is_answered_without_redirect(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    response = client.post(sandbox.url + "/", data={"key": SANDBOX_KEY, "action": "balance"})

    assert response.status_code == 200
    assert "balance" in response.json()


def test_api_accepts_get_query_json_body_multipart_and_bearer(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    by_get = client.get(sandbox.url, params={"key": SANDBOX_KEY, "action": "balance"})
    by_json = client.post(sandbox.url, json={"key": SANDBOX_KEY, "action": "balance"})
    by_multipart = client.post(
        sandbox.url, data={"key": SANDBOX_KEY, "action": "balance"}, files={"x": ("x", b"")}
    )
    by_bearer = client.post(
        sandbox.url, data={"action": "balance"}, headers={"Authorization": f"Bearer {SANDBOX_KEY}"}
    )

    for response in (by_get, by_json, by_multipart, by_bearer):
        assert response.json() == {"balance": "100000", "currency": "USD"}


def test_json_body_numbers_and_lists_are_read_as_protocol_text(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False, refill=True)
    order = client.post(
        sandbox.url,
        json={
            "key": SANDBOX_KEY,
            "action": "add",
            "service": service.service,
            "link": "https://x.com/a",
            "quantity": 100,
        },
    ).json()["order"]

    answer = client.post(
        sandbox.url, json={"key": SANDBOX_KEY, "action": "status", "orders": [order]}
    ).json()

    assert answer[str(order)]["status"] == "Pending"


def test_malformed_json_body_is_incorrect_request(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    response = client.post(
        sandbox.url, content=b'{"key": nope', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json() == {"error": "Incorrect request"}


@pytest.mark.parametrize("key", ["wrong-key", ""])
def test_wrong_or_missing_key_is_invalid_api_key(
    sandbox: SandboxServer, client: httpx.Client, key: str
) -> None:
    response = client.post(sandbox.url, data={"key": key, "action": "services"})

    assert response.status_code == 200
    assert response.json() == {"error": "Invalid API key"}


def test_unknown_path_answers_404_json(sandbox: SandboxServer, client: httpx.Client) -> None:
    response = client.post(sandbox.base_url + "/api/v1", data={"key": SANDBOX_KEY})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "error" in response.json()


@pytest.mark.parametrize("action", ["", "launch_rockets"])
def test_missing_or_unknown_action_is_incorrect_request(
    sandbox: SandboxServer, client: httpx.Client, action: str
) -> None:
    assert sandbox_call(client, sandbox, action=action) == {"error": "Incorrect request"}


def test_keep_alive_connection_serves_many_requests(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    for _ in range(20):
        sandbox_call(client, sandbox, action="balance")

    assert sandbox.state.requests["balance"] == 20


# Catalog ---------------------------------------------------------------------


def test_services_have_protocol_shape_and_types(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    services = sandbox_call(client, sandbox, action="services")

    assert len(services) == 40
    for service in services:
        assert isinstance(service["service"], int)
        assert isinstance(service["name"], str)
        assert service["name"]
        assert isinstance(service["category"], str)
        assert service["category"]
        assert isinstance(service["rate"], str)
        assert Decimal(service["rate"]) > 0
        assert service["min"].isdigit()
        assert service["max"].isdigit()
        assert int(service["min"]) <= int(service["max"])
        for flag in ("refill", "cancel", "dripfeed"):
            assert isinstance(service[flag], bool)
        assert isinstance(service["desc"], str)
        assert "error" not in service
    assert len({service["service"] for service in services}) == 40


def test_curated_services_cover_every_service_type(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    services = sandbox_call(client, sandbox, action="services")
    types = {service["type"] for service in services}

    assert set(SERVICE_TYPES) <= types
    assert any(s["type"] == "Default" and s["dripfeed"] for s in services)
    assert {s["refill"] for s in services} == {True, False}
    assert {s["cancel"] for s in services} == {True, False}


def test_catalog_is_the_same_for_a_seed_and_differs_across_seeds() -> None:
    def catalog(seed: int) -> list[dict[str, Any]]:
        state = SandboxState(SandboxConfig(seed=seed, services=60))
        return json.loads(state.services_body())

    assert catalog(1) == catalog(1)
    assert catalog(1) != catalog(2)


def test_ten_thousand_services_build_with_unique_ids() -> None:
    state = SandboxState(SandboxConfig(services=10_000))

    services = json.loads(state.services_body())

    assert len(services) == 10_000
    assert len({service["service"] for service in services}) == 10_000


def test_products_have_seed_shape_with_numbers(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    products = sandbox_call(client, sandbox, action="products")

    assert len(products) == 6
    netflix = products[0]
    assert netflix == {
        "product": 1,
        "name": "Netflix premium 1 month",
        "require": "Input your account",
        "rate": Decimal("2.5"),
        "min": 1,
        "max": 10,
        "category": "Netflix",
        "status": "In stock",
        "inventory": 40,
        "type": "Auto",
    }
    assert {product["type"] for product in products} == {"Auto", "Service"}
    assert any(product["status"] == "Out of stock" for product in products)
    assert any("require" not in product and "inventory" not in product for product in products)


# Add: validation per type ----------------------------------------------------

LINK = "https://instagram.com/p/abc"
COMMENTS_12 = "\n".join(f"Nice post {n}" for n in range(12))
USERNAMES_10 = "\n".join(f"user{n}" for n in range(10))

VALID_ADDS: dict[str, dict[str, str]] = {
    "Default": {"link": LINK, "quantity": "1000"},
    "Package": {"link": LINK, "quantity": "5000"},
    "Custom Comments": {"link": LINK, "comments": COMMENTS_12, "quantity": "999"},
    "Custom Comments Package": {"link": LINK, "comments": COMMENTS_12},
    "Mentions": {"link": LINK, "quantity": "200", "usernames": USERNAMES_10},
    "Mentions with Hashtags": {
        "link": LINK,
        "quantity": "200",
        "usernames": USERNAMES_10,
        "hashtags": "#a\n#b",
    },
    "Mentions Custom List": {"link": LINK, "usernames": USERNAMES_10},
    "Mentions Hashtag": {"link": LINK, "quantity": "200", "hashtag": "#summer"},
    "Mentions User Followers": {"link": LINK, "quantity": "200", "username": "natgeo"},
    "Mentions Media Likers": {
        "link": LINK,
        "quantity": "200",
        "media": "https://instagram.com/p/xyz",
    },
    "Comment Likes": {"link": LINK, "quantity": "200", "username": "commenter"},
    "Poll": {"link": LINK, "quantity": "200", "answer_number": "2"},
    "Invites from Groups": {
        "link": LINK,
        "quantity": "200",
        "groups": "https://t.me/a\nhttps://t.me/b",
    },
    "SEO": {"link": LINK, "quantity": "1000", "keywords": "buy shoes\ncheap shoes"},
    "Subscriptions": {
        "username": "natgeo",
        "min": "100",
        "max": "200",
        "posts": "5",
        "delay": "30",
        "expiry": "31/12/2030",
    },
}
EXPECTED_QUANTITY = {
    "Default": 1000,
    "Package": 1,
    "Custom Comments": 12,
    "Custom Comments Package": 1,
    "Mentions Custom List": 10,
    "SEO": 1000,
    "Subscriptions": 200 * 5,
}
PACKAGE_TYPES = ("Package", "Custom Comments Package")


@pytest.mark.parametrize("kind", SERVICE_TYPES)
def test_add_accepts_each_service_type_and_charges_per_thousand_or_flat(
    sandbox: SandboxServer, client: httpx.Client, kind: str
) -> None:
    # given
    service = find_service(sandbox, kind)
    before = balance(client, sandbox)
    quantity = EXPECTED_QUANTITY.get(kind, 200)
    expected_charge = service.rate if kind in PACKAGE_TYPES else service.rate * quantity / 1000

    # when
    answer = place(client, sandbox, service, **VALID_ADDS[kind])

    # then
    assert set(answer) == {"order"}
    assert isinstance(answer["order"], int)
    status = order_status(client, sandbox, answer["order"])
    assert Decimal(status["charge"]) == expected_charge
    assert status["remains"] == str(quantity)
    assert before - balance(client, sandbox) == expected_charge


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("Custom Comments", "comments"),
        ("Custom Comments Package", "comments"),
        ("Mentions", "usernames"),
        ("Mentions with Hashtags", "hashtags"),
        ("Mentions Custom List", "usernames"),
        ("Mentions Hashtag", "hashtag"),
        ("Mentions User Followers", "username"),
        ("Mentions Media Likers", "media"),
        ("Comment Likes", "username"),
        ("Poll", "answer_number"),
        ("Invites from Groups", "groups"),
        ("SEO", "keywords"),
        ("Subscriptions", "username"),
        ("Subscriptions", "min"),
        ("Subscriptions", "max"),
        ("Default", "quantity"),
        ("Mentions", "quantity"),
    ],
)
def test_add_without_a_required_field_is_incorrect_request(
    sandbox: SandboxServer, client: httpx.Client, kind: str, missing: str
) -> None:
    fields = {name: value for name, value in VALID_ADDS[kind].items() if name != missing}

    answer = place(client, sandbox, find_service(sandbox, kind), **fields)

    assert answer == {"error": "Incorrect request"}
    assert sandbox.state.orders == {}


@pytest.mark.parametrize("kind", [k for k in SERVICE_TYPES if k != "Subscriptions"])
@pytest.mark.parametrize("link", [None, "", "undefined", "https://x.com/a b"])
def test_add_without_a_usable_link_is_incorrect_link(
    sandbox: SandboxServer, client: httpx.Client, kind: str, link: str | None
) -> None:
    fields = {name: value for name, value in VALID_ADDS[kind].items() if name != "link"}
    if link is not None:
        fields["link"] = link

    assert place(client, sandbox, find_service(sandbox, kind), **fields) == {
        "error": "Incorrect link"
    }


@pytest.mark.parametrize("service_field", [None, "", "999999", "abc"])
def test_add_with_unknown_service_is_incorrect_service_id(
    sandbox: SandboxServer, client: httpx.Client, service_field: str | None
) -> None:
    fields = {"action": "add", "link": LINK, "quantity": "1000"}
    if service_field is not None:
        fields["service"] = service_field

    assert sandbox_call(client, sandbox, **fields) == {"error": "Incorrect service ID"}


def test_add_outside_quantity_limits_names_the_limit(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", min=200, max=10000)

    too_low = place(client, sandbox, service, link=LINK, quantity="199")
    too_high = place(client, sandbox, service, link=LINK, quantity="10001")
    not_a_number = place(client, sandbox, service, link=LINK, quantity="12.5")

    assert too_low == {"error": "Quantity less than minimal 200"}
    assert too_high == {"error": "Quantity more than maximal 10000"}
    assert not_a_number == {"error": "Incorrect request"}


def test_custom_comments_quantity_is_the_number_of_lines(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Custom Comments")

    too_few = place(
        client, sandbox, service, link=LINK, comments="one\ntwo\n\nthree", quantity="5000"
    )

    assert too_few == {"error": f"Quantity less than minimal {service.min}"}


def test_dripfeed_charges_and_limits_quantity_times_runs(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=True, min=200, max=10000)

    order = place(client, sandbox, service, link=LINK, quantity="1000", runs="5", interval="10")[
        "order"
    ]
    too_many = place(client, sandbox, service, link=LINK, quantity="1000", runs="11", interval="10")
    no_interval = place(client, sandbox, service, link=LINK, quantity="1000", runs="5")

    status = order_status(client, sandbox, order)
    assert Decimal(status["charge"]) == service.rate * 5
    assert status["remains"] == "5000"
    assert too_many == {"error": "Quantity more than maximal 10000"}
    assert no_interval == {"error": "Incorrect request"}


def test_dripfeed_runs_on_a_service_without_dripfeed_is_incorrect_request(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False)

    answer = place(client, sandbox, service, link=LINK, quantity="1000", runs="3", interval="5")

    assert answer == {"error": "Incorrect request"}


@pytest.mark.parametrize("absent", ["", "undefined", "null"])
def test_empty_undefined_or_null_optional_fields_count_as_absent(
    sandbox: SandboxServer, client: httpx.Client, absent: str
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False)

    answer = place(
        client, sandbox, service, link=LINK, quantity="1000", runs=absent, interval=absent
    )

    assert "order" in answer


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"min": "10"}, "Quantity less than minimal 50"),
        ({"max": "9000"}, "Quantity more than maximal 5000"),
        ({"min": "300", "max": "200"}, "Incorrect request"),
        ({"delay": "7"}, "Incorrect request"),
        ({"expiry": "2030-12-31"}, "Incorrect request"),
        ({"posts": "-1"}, "Incorrect request"),
    ],
)
def test_subscription_fields_are_validated(
    sandbox: SandboxServer, client: httpx.Client, changes: dict[str, str], error: str
) -> None:
    service = find_service(sandbox, "Subscriptions")

    answer = place(client, sandbox, service, **{**VALID_ADDS["Subscriptions"], **changes})

    assert answer == {"error": error}


def test_poll_answer_number_must_be_a_positive_number(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Poll")

    for answer_number in ("0", "first"):
        answer = place(
            client, sandbox, service, link=LINK, quantity="200", answer_number=answer_number
        )
        assert answer == {"error": "Incorrect request"}


def test_add_beyond_the_balance_is_not_enough_funds_and_changes_nothing(
    make_sandbox: Any, client: httpx.Client
) -> None:
    sandbox = make_sandbox(balance=Decimal("2"))
    service = find_service(sandbox, "Default", dripfeed=False, rate=Decimal("2.5"))

    answer = place(client, sandbox, service, link=LINK, quantity="1000")

    assert answer == {"error": "Not enough funds on balance"}
    assert balance(client, sandbox) == Decimal("2")
    assert sandbox.state.orders == {}


def test_order_ids_start_at_a_seeded_offset_and_follow_on(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False)

    first = place(client, sandbox, service, link=LINK, quantity="1000")["order"]
    second = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    assert first >= 100_000
    assert second == first + 1


# Status and time -------------------------------------------------------------


def test_order_goes_pending_in_progress_completed_by_the_clock(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False, rate=Decimal("2.5"))
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    pending = order_status(client, sandbox, order)
    clock.advance(2 + 5)
    halfway = order_status(client, sandbox, order)
    clock.advance(5)
    done = order_status(client, sandbox, order)

    assert pending == {
        "charge": "2.5",
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }
    assert halfway["status"] == "In progress"
    assert halfway["remains"] == "500"
    assert halfway["start_count"].isdigit()
    assert done["status"] == "Completed"
    assert done["remains"] == "0"
    assert done["charge"] == "2.5"
    assert done["start_count"] == halfway["start_count"]


def test_partial_fate_keeps_some_remains_charges_the_delivered_share_and_refunds(
    make_sandbox: Any, client: httpx.Client, clock: FakeClock
) -> None:
    sandbox = make_sandbox(partial_rate=1)
    service = find_service(sandbox, "Default", dripfeed=False, rate=Decimal("2.5"))
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    clock.advance(12)
    status = order_status(client, sandbox, order)

    remains = int(status["remains"])
    assert status["status"] == "Partial"
    assert 100 <= remains <= 600
    assert Decimal(status["charge"]) == Decimal("2.5") * (1000 - remains) / 1000
    assert balance(client, sandbox) == Decimal("100000") - Decimal(status["charge"])


def test_canceled_fate_has_full_remains_zero_charge_and_a_full_refund(
    make_sandbox: Any, client: httpx.Client, clock: FakeClock
) -> None:
    sandbox = make_sandbox(cancel_rate=1)
    service = find_service(sandbox, "Default", dripfeed=False)
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    clock.advance(12)
    status = order_status(client, sandbox, order)

    assert (status["status"], status["remains"], status["charge"]) == ("Canceled", "1000", "0")
    assert balance(client, sandbox) == Decimal("100000")


def test_multi_status_is_keyed_by_id_string_with_errors_for_unknown_ids(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False)
    first = place(client, sandbox, service, link=LINK, quantity="1000")["order"]
    second = place(client, sandbox, service, link=LINK, quantity="2000")["order"]

    answer = sandbox_call(client, sandbox, action="status", orders=f"{first}, {second} ,123,abc")

    assert list(answer) == [str(first), str(second), "123", "abc"]
    assert answer[str(second)]["remains"] == "2000"
    assert answer["123"] == {"error": "Incorrect order ID"}
    assert answer["abc"] == {"error": "Incorrect order ID"}


@pytest.mark.parametrize("order", [None, "", "42", "nope"])
def test_single_status_of_unknown_order_is_incorrect_order_id(
    sandbox: SandboxServer, client: httpx.Client, order: str | None
) -> None:
    fields = {"action": "status"} if order is None else {"action": "status", "order": order}

    assert sandbox_call(client, sandbox, **fields) == {"error": "Incorrect order ID"}


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ("status", "orders"),
        ("refill", "orders"),
        ("refill_status", "refills"),
        ("cancel", "orders"),
        ("product_order_status", "orders"),
    ],
)
def test_more_than_100_ids_is_too_many(
    sandbox: SandboxServer, client: httpx.Client, action: str, field: str
) -> None:
    hundred = ",".join(str(n) for n in range(1, 101))

    assert sandbox_call(client, sandbox, action=action, **{field: hundred + ",101"}) == {
        "error": "Too many IDs (limit 100)"
    }
    assert "error" not in sandbox_call(client, sandbox, action=action, **{field: hundred})


# Refills ---------------------------------------------------------------------


def completed_order(
    client: httpx.Client, server: SandboxServer, clock: FakeClock, service: Service
) -> int:
    order = place(client, server, service, link=LINK, quantity=str(max(service.min, 1000)))["order"]
    clock.advance(12)
    return order


def test_refill_of_a_completed_refillable_order_progresses_to_completed(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    order = completed_order(client, sandbox, clock, find_service(sandbox, "Default", refill=True))

    answer = sandbox_call(client, sandbox, action="refill", order=order)
    refill = answer["refill"]
    statuses = [sandbox_call(client, sandbox, action="refill_status", refill=refill)]
    for step in (3, 10):
        clock.advance(step)
        statuses.append(sandbox_call(client, sandbox, action="refill_status", refill=refill))

    assert isinstance(refill, str)
    assert refill.isdigit()
    assert statuses == [{"status": "Pending"}, {"status": "In progress"}, {"status": "Completed"}]


def test_refill_can_end_rejected(make_sandbox: Any, client: httpx.Client, clock: FakeClock) -> None:
    sandbox = make_sandbox(refill_rejected_rate=1)
    order = completed_order(client, sandbox, clock, find_service(sandbox, "Default", refill=True))

    refill = sandbox_call(client, sandbox, action="refill", order=order)["refill"]
    clock.advance(12)

    assert sandbox_call(client, sandbox, action="refill_status", refill=refill) == {
        "status": "Rejected"
    }


def test_refill_is_unavailable_before_completion_or_without_refill(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    refillable = find_service(sandbox, "Default", refill=True)
    pending = place(client, sandbox, refillable, link=LINK, quantity="1000")["order"]
    no_refill = completed_order(
        client, sandbox, clock, find_service(sandbox, "Default", refill=False)
    )

    unavailable = {"error": "Refill is not available for this order"}
    assert sandbox_call(client, sandbox, action="refill", order=no_refill) == unavailable
    assert order_status(client, sandbox, pending)["status"] == "Completed"  # the clock moved
    fresh = place(client, sandbox, refillable, link=LINK, quantity="1000")["order"]
    assert sandbox_call(client, sandbox, action="refill", order=fresh) == unavailable
    # An id past every order the sandbox has made (a literal could be one of them).
    unknown = int(fresh) + 1_000_000
    assert sandbox_call(client, sandbox, action="refill", order=str(unknown)) == {
        "error": "Incorrect order ID"
    }


def test_multi_refill_answers_a_list_with_errors_in_place(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    order = completed_order(client, sandbox, clock, find_service(sandbox, "Default", refill=True))

    unknown = int(order) + 1_000_000  # past every order the sandbox has made
    answer = sandbox_call(client, sandbox, action="refill", orders=f"{order},{unknown}")

    assert answer[0]["order"] == order
    assert isinstance(answer[0]["refill"], int)
    assert answer[1] == {"order": unknown, "refill": {"error": "Incorrect order ID"}}


def test_multi_refill_status_answers_a_list_with_errors_in_place(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    order = completed_order(client, sandbox, clock, find_service(sandbox, "Default", refill=True))
    refill = int(sandbox_call(client, sandbox, action="refill", order=order)["refill"])

    answer = sandbox_call(client, sandbox, action="refill_status", refills=f"{refill},3")
    single_unknown = sandbox_call(client, sandbox, action="refill_status", refill="3")

    assert answer == [
        {"refill": refill, "status": "Pending"},
        {"refill": 3, "status": {"error": "Incorrect refill ID"}},
    ]
    assert single_unknown == {"error": "Incorrect refill ID"}


# Cancel ----------------------------------------------------------------------


def test_cancel_of_a_pending_order_ends_it_canceled_with_a_full_refund(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", cancel=True, dripfeed=False)
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    answer = sandbox_call(client, sandbox, action="cancel", orders=str(order))

    assert answer == [{"order": order, "cancel": 1}]
    status = order_status(client, sandbox, order)
    assert (status["status"], status["remains"], status["charge"]) == ("Canceled", "1000", "0")
    assert balance(client, sandbox) == Decimal("100000")


def test_cancel_of_a_running_order_ends_it_partial_with_remains_at_that_moment(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    service = find_service(sandbox, "Default", cancel=True, dripfeed=False, rate=Decimal("2.5"))
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]
    clock.advance(2 + 3)

    answer = sandbox_call(client, sandbox, action="cancel", order=order)
    clock.advance(100)
    status = order_status(client, sandbox, order)

    assert answer == [{"order": order, "cancel": 1}]
    assert (status["status"], status["remains"], status["charge"]) == ("Partial", "700", "0.75")
    assert balance(client, sandbox) == Decimal("100000") - Decimal("0.75")


def test_cancel_is_unavailable_for_final_orders_and_services_without_cancel(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    no_cancel = find_service(sandbox, "Default", cancel=False)
    running = place(client, sandbox, no_cancel, link=LINK, quantity=str(no_cancel.min))["order"]
    done = completed_order(client, sandbox, clock, find_service(sandbox, "Default", cancel=True))

    answer = sandbox_call(client, sandbox, action="cancel", orders=f"{running},{done},5")

    unavailable = {"error": "Cancel is not available for this order"}
    assert answer == [
        {"order": running, "cancel": unavailable},
        {"order": done, "cancel": unavailable},
        {"order": 5, "cancel": {"error": "Incorrect order ID"}},
    ]


# Products --------------------------------------------------------------------


def test_product_order_debits_takes_inventory_and_completes_with_one_line_per_unit(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    # when
    answer = sandbox_call(
        client, sandbox, action="add_product_order", product=1, quantity=3, require="me@x.com"
    )
    order = answer["order"]
    pending = sandbox_call(client, sandbox, action="product_order_status", order=order)
    clock.advance(12)
    done = sandbox_call(client, sandbox, action="product_order_status", order=order)

    # then
    assert isinstance(order, int)
    assert pending == {"charge": Decimal("7.5"), "status": "Pending"}
    assert done["charge"] == Decimal("7.5")
    assert done["status"] == "Completed"
    lines = done["result"].splitlines()
    assert len(lines) == 3
    assert all(UUID_LINE.match(line) for line in lines)
    assert sandbox_call(client, sandbox, action="products")[0]["inventory"] == 37
    assert balance(client, sandbox) == Decimal("100000") - Decimal("7.5")


def test_product_orders_have_their_own_id_sequence(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False)
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    product_order = sandbox_call(
        client, sandbox, action="add_product_order", product=3, quantity=1
    )["order"]

    assert product_order not in (order, order + 1)
    assert sandbox_call(client, sandbox, action="status", order=product_order) == {
        "error": "Incorrect order ID"
    }


def test_product_order_errors(sandbox: SandboxServer, client: httpx.Client) -> None:
    def add(**fields: Any) -> Any:
        return sandbox_call(client, sandbox, action="add_product_order", **fields)

    assert add(product=999, quantity=1) == {"error": "Incorrect product ID"}
    assert add(quantity=1) == {"error": "Incorrect product ID"}
    assert add(product=2, quantity=1, require="me") == {"error": "Product is out of stock"}
    assert add(product=1, quantity=11, require="me") == {"error": "Quantity more than maximal 10"}
    assert add(product=1, quantity=0, require="me") == {"error": "Quantity less than minimal 1"}
    assert add(product=1, quantity=1) == {"error": "Incorrect request"}
    assert add(product=1, require="me") == {"error": "Incorrect request"}


def test_selling_out_an_auto_product_puts_it_out_of_stock(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    for _ in range(4):
        sandbox_call(
            client, sandbox, action="add_product_order", product=1, quantity=10, require="me"
        )

    again = sandbox_call(
        client, sandbox, action="add_product_order", product=1, quantity=1, require="me"
    )
    netflix = sandbox_call(client, sandbox, action="products")[0]

    assert again == {"error": "Product is out of stock"}
    assert (netflix["status"], netflix["inventory"]) == ("Out of stock", 0)


def test_product_order_beyond_the_inventory_is_out_of_stock(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    for quantity in (10, 10, 10, 5):
        sandbox_call(
            client, sandbox, action="add_product_order", product=1, quantity=quantity, require="me"
        )

    answer = sandbox_call(
        client, sandbox, action="add_product_order", product=1, quantity=6, require="me"
    )
    smaller = sandbox_call(
        client, sandbox, action="add_product_order", product=1, quantity=5, require="me"
    )

    assert answer == {"error": "Product is out of stock"}
    assert "order" in smaller


def test_multi_product_order_status_and_a_canceled_one_with_a_note(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    order = sandbox_call(client, sandbox, action="add_product_order", product=3, quantity=2)[
        "order"
    ]
    sandbox_control(
        client, sandbox, "force", product_order=order, status="Canceled", note="Out of stock"
    )

    answer = sandbox_call(client, sandbox, action="product_order_status", orders=f"{order},456")

    assert answer == {
        str(order): {"charge": 0, "status": "Canceled", "note": "Out of stock"},
        "456": {"error": "Incorrect order ID"},
    }
    assert balance(client, sandbox) == Decimal("100000")


# Faults ----------------------------------------------------------------------


def stats(client: httpx.Client, server: SandboxServer) -> dict[str, Any]:
    return sandbox_control(client, server, "stats")


def add_form(server: SandboxServer, link: str = LINK) -> dict[str, str]:
    service = find_service(server, "Default", dripfeed=False)
    return {
        "key": SANDBOX_KEY,
        "action": "add",
        "service": str(service.service),
        "link": link,
        "quantity": "1000",
    }


def test_timeout_fault_creates_the_order_but_never_answers(
    make_sandbox: Any, client: httpx.Client
) -> None:
    sandbox = make_sandbox(timeout_rate=1, timeout_seconds=5)

    with pytest.raises(httpx.ReadTimeout):
        client.post(sandbox.url, data=add_form(sandbox), timeout=0.3)

    counters = stats(client, sandbox)
    assert counters["orders"] == 1
    assert counters["adds_per_link"] == {LINK: 1}
    assert counters["add_calls"] == 1


def test_timeout_fault_closes_the_connection_without_an_answer(
    make_sandbox: Any, client: httpx.Client
) -> None:
    sandbox = make_sandbox(timeout_rate=1, timeout_seconds=0.1)

    with pytest.raises(httpx.RemoteProtocolError):
        client.post(sandbox.url, data=add_form(sandbox), timeout=0.9)

    assert len(sandbox.state.orders) == 1


def test_5xx_fault_does_the_work_then_answers_502_html(
    make_sandbox: Any, client: httpx.Client
) -> None:
    sandbox = make_sandbox(error_5xx_rate=1)

    response = client.post(sandbox.url, data=add_form(sandbox))

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text
    assert stats(client, sandbox)["orders"] == 1


def test_non_json_fault_does_the_work_then_answers_an_html_page(
    make_sandbox: Any, client: httpx.Client
) -> None:
    sandbox = make_sandbox(non_json_rate=1)

    response = client.post(sandbox.url, data=add_form(sandbox))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert stats(client, sandbox)["orders"] == 1


def test_leaked_key_fault_refuses_the_add_with_a_raw_message_key(
    make_sandbox: Any, client: httpx.Client
) -> None:
    sandbox = make_sandbox(leaked_key_rate=1)

    answers = [
        client.post(sandbox.url, data=add_form(sandbox, f"{LINK}{n}")).json() for n in range(10)
    ]

    assert all(answer["error"] in LEAKED_KEYS for answer in answers)
    counters = stats(client, sandbox)
    assert counters["orders"] == 0
    assert counters["add_calls"] == 10
    assert counters["balance"] == "100000"


def test_no_funds_fault_refuses_the_add(make_sandbox: Any, client: httpx.Client) -> None:
    sandbox = make_sandbox(no_funds_rate=1)

    answer = client.post(sandbox.url, data=add_form(sandbox)).json()

    assert answer == {"error": "Not enough funds on balance"}
    assert stats(client, sandbox)["orders"] == 0
    assert stats(client, sandbox)["adds_per_link"] == {LINK: 1}


def test_faults_apply_only_to_fault_actions(make_sandbox: Any, client: httpx.Client) -> None:
    sandbox = make_sandbox(error_5xx_rate=1, fault_actions=("status",))

    added = client.post(sandbox.url, data=add_form(sandbox))
    status = client.post(
        sandbox.url, data={"key": SANDBOX_KEY, "action": "status", "order": added.json()["order"]}
    )

    assert added.status_code == 200
    assert status.status_code == 502


def test_latency_is_slept_before_answering(make_sandbox: Any, client: httpx.Client) -> None:
    sandbox = make_sandbox(latency_ms=100)

    started = time.perf_counter()
    sandbox_call(client, sandbox, action="balance")

    assert time.perf_counter() - started >= 0.1


def test_stop_does_not_wait_for_hanging_requests(make_sandbox: Any) -> None:
    sandbox = make_sandbox(timeout_rate=1, timeout_seconds=60, fault_actions=("balance",))
    with httpx.Client() as http, pytest.raises(httpx.TransportError):
        http.post(sandbox.url, data={"key": SANDBOX_KEY, "action": "balance"}, timeout=0.2)

    sandbox.stop()

    assert sandbox.state.requests["balance"] == 1


# Control endpoints -----------------------------------------------------------


def test_stats_counts_requests_adds_per_link_orders_and_balance(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False, rate=Decimal("2.5"))
    place(client, sandbox, service, link=LINK, quantity="1000")
    place(client, sandbox, service, link=LINK, quantity="1")
    sandbox_call(client, sandbox, action="services")

    by_get = client.get(sandbox.control_url("stats"), params={"key": SANDBOX_KEY}).json()

    assert by_get["add_calls"] == 2
    assert by_get["adds_per_link"] == {LINK: 2}
    assert by_get["orders"] == 1
    assert by_get["requests"] == {"add": 2, "services": 1}
    assert by_get["balance"] == "99997.5"


def test_control_endpoints_need_the_key(sandbox: SandboxServer, client: httpx.Client) -> None:
    response = client.post(sandbox.control_url("reset"), json={"key": "nope"})

    assert response.status_code == 403
    assert response.json() == {"error": "Invalid API key"}


def test_config_patch_changes_faults_at_run_time(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    answer = sandbox_control(
        client, sandbox, "config", error_5xx_rate=1, fault_actions="add,status"
    )

    response = client.post(sandbox.url, data=add_form(sandbox))

    assert answer["error_5xx_rate"] == 1
    assert answer["fault_actions"] == ["add", "status"]
    assert "key" not in answer
    assert response.status_code == 502


@pytest.mark.parametrize("change", [{"seed": 3}, {"cancel_rate": 2}, {"latency_ms": "slow"}])
def test_config_patch_rejects_unknown_or_invalid_fields(
    sandbox: SandboxServer, client: httpx.Client, change: dict[str, Any]
) -> None:
    response = client.post(sandbox.control_url("config"), json={"key": SANDBOX_KEY, **change})

    assert response.status_code == 400
    assert "error" in response.json()
    assert sandbox.config.seed == 1
    assert sandbox.config.cancel_rate == 0


def test_reprice_by_factor_or_to_a_rate_shows_in_services(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    by_factor = sandbox_control(client, sandbox, "reprice", services=[1], factor="1.2")
    to_rate = sandbox_control(client, sandbox, "reprice", services=[2, 99999], rate="3.0")

    services = {s["service"]: s for s in sandbox_call(client, sandbox, action="services")}

    assert by_factor == {"changed": [{"service": 1, "old_rate": "2.5", "rate": "3"}], "missing": []}
    assert to_rate["changed"] == [{"service": 2, "old_rate": "0.45", "rate": "3"}]
    assert to_rate["missing"] == [99999]
    assert (services[1]["rate"], services[2]["rate"]) == ("3", "3")


def test_reprice_a_seeded_share_of_the_catalog(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    answer = sandbox_control(client, sandbox, "reprice", share=0.5, factor="2")

    assert len(answer["changed"]) == 20
    for change in answer["changed"]:
        assert Decimal(change["rate"]) == Decimal(change["old_rate"]) * 2


def test_remove_and_add_services_change_the_catalog(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    removed = sandbox_control(client, sandbox, "remove", services=[1, 2, 777])
    added = sandbox_control(client, sandbox, "add_services", count=3)

    ids = [s["service"] for s in sandbox_call(client, sandbox, action="services")]

    assert removed == {"removed": [1, 2], "missing": [777]}
    assert added == {"added": [41, 42, 43]}
    assert 1 not in ids
    assert 2 not in ids
    assert ids[-3:] == [41, 42, 43]
    assert sandbox_call(client, sandbox, action="add", service=1, link=LINK, quantity=1000) == {
        "error": "Incorrect service ID"
    }


def test_seed_orders_creates_consecutive_answerable_orders(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    answer = sandbox_control(client, sandbox, "seed_orders", count=500, service=1, quantity=1000)

    ids = range(answer["first"], answer["last"] + 1)
    statuses = sandbox_call(client, sandbox, action="status", orders=",".join(map(str, ids[:100])))

    assert len(ids) == 500
    assert all(status["status"] == "Pending" for status in statuses.values())
    assert stats(client, sandbox)["orders"] == 500
    assert balance(client, sandbox) == Decimal("100000")


def test_force_sets_an_order_state_outright(sandbox: SandboxServer, client: httpx.Client) -> None:
    service = find_service(sandbox, "Default", dripfeed=False, rate=Decimal("2.5"))
    order = place(client, sandbox, service, link=LINK, quantity="1000")["order"]

    sandbox_control(
        client, sandbox, "force", order=order, status="Partial", remains=10, start_count=5
    )

    assert order_status(client, sandbox, order) == {
        "charge": "2.475",
        "start_count": "5",
        "status": "Partial",
        "remains": "10",
        "currency": "USD",
    }


def test_force_sets_a_refill_status(
    sandbox: SandboxServer, client: httpx.Client, clock: FakeClock
) -> None:
    order = completed_order(client, sandbox, clock, find_service(sandbox, "Default", refill=True))
    refill = sandbox_call(client, sandbox, action="refill", order=order)["refill"]

    sandbox_control(client, sandbox, "force", refill=refill, status="Rejected")

    assert sandbox_call(client, sandbox, action="refill_status", refill=refill) == {
        "status": "Rejected"
    }


def test_force_of_an_unknown_id_or_status_is_a_control_error(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    unknown = client.post(
        sandbox.control_url("force"), json={"key": SANDBOX_KEY, "order": 1, "status": "Completed"}
    )
    bad_status = client.post(
        sandbox.control_url("force"), json={"key": SANDBOX_KEY, "refill": 1, "status": "Done"}
    )

    assert unknown.status_code == 404
    assert bad_status.status_code in (400, 404)


def test_reset_forgets_orders_and_restores_catalog_balance_and_ids(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    service = find_service(sandbox, "Default", dripfeed=False)
    first = place(client, sandbox, service, link=LINK, quantity="1000")["order"]
    sandbox_control(client, sandbox, "remove", services=[service.service])

    assert sandbox_control(client, sandbox, "reset") == {"reset": True}

    assert order_status(client, sandbox, first) == {"error": "Incorrect order ID"}
    assert balance(client, sandbox) == Decimal("100000")
    assert len(sandbox_call(client, sandbox, action="services")) == 40
    assert place(client, sandbox, service, link=LINK, quantity="1000")["order"] == first
    counters = stats(client, sandbox)
    assert counters["add_calls"] == 1
    assert counters["orders"] == 1


def test_the_same_seed_gives_the_same_ids_and_fates(
    make_sandbox: Any, client: httpx.Client, clock: FakeClock
) -> None:
    def run() -> list[Any]:
        sandbox = make_sandbox(partial_rate=0.3, cancel_rate=0.2)
        service = find_service(sandbox, "Default", dripfeed=False)
        orders = [
            place(client, sandbox, service, link=LINK, quantity="1000")["order"] for _ in range(20)
        ]
        return [sandbox.state.orders[order].fate_remains for order in orders] + orders

    assert run() == run()


# Persistence -----------------------------------------------------------------


def test_state_survives_a_restart_through_the_state_file(
    make_sandbox: Any, client: httpx.Client, clock: FakeClock, tmp_path: Path
) -> None:
    # given
    state_file = str(tmp_path / "sandbox" / "state.json")
    first = make_sandbox(state_file=state_file)
    service = find_service(first, "Default", refill=True)
    order = completed_order(client, first, clock, service)
    refill = sandbox_call(client, first, action="refill", order=order)["refill"]
    product_order = sandbox_call(
        client, first, action="add_product_order", product=1, quantity=2, require="me"
    )["order"]
    sandbox_control(client, first, "reprice", services=[1], rate="9")
    sandbox_control(client, first, "remove", services=[2])
    before = {
        "status": order_status(client, first, order),
        "refill": sandbox_call(client, first, action="refill_status", refill=refill),
        "product": sandbox_call(client, first, action="product_order_status", order=product_order),
        "balance": balance(client, first),
        "services": sandbox_call(client, first, action="services"),
        "products": sandbox_call(client, first, action="products"),
    }

    # when
    first.stop()
    second = make_sandbox(state_file=state_file)

    # then
    assert Path(state_file).exists()
    assert order_status(client, second, order) == before["status"]
    assert sandbox_call(client, second, action="refill_status", refill=refill) == before["refill"]
    assert (
        sandbox_call(client, second, action="product_order_status", order=product_order)
        == before["product"]
    )
    assert balance(client, second) == before["balance"]
    assert sandbox_call(client, second, action="services") == before["services"]
    assert sandbox_call(client, second, action="products") == before["products"]
    assert place(client, second, service, link=LINK, quantity="1000")["order"] == order + 1
    assert stats(client, second)["adds_per_link"] == {LINK: 2}


def test_state_file_is_saved_periodically_while_running(
    make_sandbox: Any, client: httpx.Client, tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    sandbox = make_sandbox(state_file=str(state_file), save_interval_seconds=0.05)
    place(
        client,
        sandbox,
        find_service(sandbox, "Default", dripfeed=False),
        link=LINK,
        quantity="1000",
    )

    deadline = time.monotonic() + 5
    while not state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

    saved = json.loads(state_file.read_text())
    assert len(saved["orders"]) == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "state.json"]


# Packaging -------------------------------------------------------------------


def test_sandbox_package_does_not_import_django() -> None:
    code = "import sys, sandbox; print(any(m.startswith('django') for m in sys.modules))"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"


def test_management_command_options_build_the_config() -> None:
    from sandbox.management.commands.sandbox_provider import Command, build_config

    parser = Command().create_parser("manage.py", "sandbox_provider")
    options = vars(
        parser.parse_args(
            [
                "--port",
                "9100",
                "--services",
                "10000",
                "--latency-ms",
                "50",
                "--timeout-rate",
                "0.1",
                "--fault-actions",
                "add,status",
                "--balance",
                "12.5",
                "--state-file",
                "var/sandbox.json",
            ]
        )
    )

    config = build_config(options)

    assert (config.services, config.latency_ms, config.timeout_rate) == (10_000, 50, 0.1)
    assert config.fault_actions == ("add", "status")
    assert config.balance == Decimal("12.5")
    assert config.state_file == "var/sandbox.json"
    assert config.pending_seconds == 2
    assert config.key == "sandbox-key"
    assert len(SandboxState(config).services) == 10_000
