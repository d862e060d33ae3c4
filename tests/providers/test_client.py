"""The upstream client against every provider quirk docs/protocol.md lists, and every error class.

Stubbed answers (httpx.MockTransport) cover the odd cases; a real HTTP server on 127.0.0.1 proves
that real timeouts, refused connections and dropped connections classify the same way.
"""

import json
import logging
import threading
import traceback
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from providers.client import (
    MAX_BATCH,
    MISSING_FROM_ANSWER,
    ItemError,
    ProviderClient,
    UpstreamBalance,
    UpstreamOrderStatus,
    UpstreamProductOrderStatus,
)
from providers.client import transport as wire
from providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderBusy,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from tests.providers.client_helpers import (
    API_KEY,
    API_URL,
    Recorder,
    answering,
    client_for,
    closed_port,
    form_of,
    loopback_server,
    raising,
)

Call = Callable[[ProviderClient], Any]

# Each WRITE action may create something upstream; each READ action is safe to repeat.
WRITE_CALLS = [
    pytest.param(
        lambda c: c.add(service="1", fields={"link": "https://x.example/p", "quantity": "100"}),
        "add",
        id="add",
    ),
    pytest.param(
        lambda c: c.add_product_order(product="1", quantity=1, require="me@example.com"),
        "add_product_order",
        id="add_product_order",
    ),
    pytest.param(lambda c: c.refill("1"), "refill", id="refill"),
    pytest.param(lambda c: c.refills(["1", "2"]), "refill", id="refills"),
    pytest.param(lambda c: c.cancel(["1", "2"]), "cancel", id="cancel"),
]
READ_CALLS = [
    pytest.param(lambda c: c.services(), "services", id="services"),
    pytest.param(lambda c: c.products(), "products", id="products"),
    pytest.param(lambda c: c.balance(), "balance", id="balance"),
    pytest.param(lambda c: c.status("1"), "status", id="status"),
    pytest.param(lambda c: c.statuses(["1", "2"]), "status", id="statuses"),
    pytest.param(lambda c: c.refill_status("1"), "refill_status", id="refill_status"),
    pytest.param(lambda c: c.refill_statuses(["1", "2"]), "refill_status", id="refill_statuses"),
    pytest.param(
        lambda c: c.product_order_status("1"), "product_order_status", id="product_order_status"
    ),
    pytest.param(
        lambda c: c.product_order_statuses(["1", "2"]),
        "product_order_status",
        id="product_order_statuses",
    ),
]


def raw_json(text: str) -> Callable[[httpx.Request], httpx.Response]:
    """Answer with JSON text exactly as written, so numbers stay what a provider would send."""
    return answering(text.encode(), headers={"Content-Type": "application/json"})


# --- what we send ----------------------------------------------------------------------------


def test_requests_are_form_encoded_posts_carrying_key_and_action() -> None:
    recorder = Recorder(answering({"balance": "1", "currency": "USD"}))

    client_for(recorder).balance()

    (request,) = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == API_URL
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {"key": API_KEY, "action": "balance"}
    assert "smm-panel" in request.headers["user-agent"]


def test_add_sends_service_and_fields_exactly_as_given() -> None:
    recorder = Recorder(answering({"order": 99999}))
    fields = {"link": "https://t.me/x?a=1&b=2", "quantity": "100", "runs": "5", "interval": "30"}

    client_for(recorder).add(service="308", fields=fields)

    assert recorder.forms == [{"key": API_KEY, "action": "add", "service": "308", **fields}]


def test_add_keeps_multiline_comments_intact() -> None:
    recorder = Recorder(answering({"order": 1}))

    client_for(recorder).add(service="7", fields={"link": "l", "comments": "nice\nwow\n🔥"})

    assert recorder.forms[0]["comments"] == "nice\nwow\n🔥"


def test_add_refuses_fields_that_would_override_key_action_or_service() -> None:
    recorder = Recorder(answering({"order": 1}))

    for name in ("key", "action", "service"):
        with pytest.raises(ValueError, match=name):
            client_for(recorder).add(service="1", fields={name: "x"})
    assert recorder.requests == []


def test_batch_calls_send_comma_separated_ids_without_spaces_or_duplicates() -> None:
    recorder = Recorder(answering({}))

    client_for(recorder).statuses([" 1", "2 ", "1", "3"])

    assert recorder.forms == [{"key": API_KEY, "action": "status", "orders": "1,2,3"}]


def test_batch_calls_refuse_more_than_100_ids_without_sending() -> None:
    recorder = Recorder(answering({}))
    client = client_for(recorder)

    for call in (client.statuses, client.refills, client.refill_statuses, client.cancel):
        with pytest.raises(ValueError, match="100"):
            call([str(i) for i in range(1, MAX_BATCH + 2)])
    assert recorder.requests == []


def test_batch_of_exactly_100_ids_is_sent() -> None:
    recorder = Recorder(answering({}))

    result = client_for(recorder).statuses([str(i) for i in range(1, 101)])

    assert len(result) == 100
    assert len(recorder.forms[0]["orders"].split(",")) == 100


def test_batch_calls_refuse_a_bare_string_that_would_split_into_characters() -> None:
    with pytest.raises(TypeError):
        client_for(answering({})).statuses("123")  # type: ignore[arg-type]


def test_empty_batch_returns_empty_mapping_without_a_request() -> None:
    recorder = Recorder(answering({}))

    assert client_for(recorder).statuses([]) == {}
    assert recorder.requests == []


# --- services and products -------------------------------------------------------------------


SEED_SERVICES = """[
  {"service": 1, "name": "Youtube views", "type": "Default", "category": "Youtube",
   "rate": "2.5", "min": "200", "max": "10000", "refill": true},
  {"service": 2, "name": "Facebook comments", "type": "Custom Comments", "category": "Facebook",
   "rate": "4", "min": "10", "max": "1500", "refill": false}
]"""


def test_services_parse_the_seed_document() -> None:
    first, second = client_for(raw_json(SEED_SERVICES)).services()

    assert first.upstream_id == "1"
    assert first.name == "Youtube views"
    assert first.category == "Youtube"
    assert type(first.rate) is Decimal
    assert first.rate == Decimal("2.5")
    assert (first.min, first.max) == (200, 10000)
    assert first.refill is True
    assert second.type == "Custom Comments"
    assert second.rate == Decimal("4")
    assert second.refill is False


def test_service_rates_sent_as_json_numbers_become_exact_decimals_never_floats() -> None:
    body = '[{"service": "308", "name": "x", "rate": 0.0801, "min": 10, "max": 100}]'

    (service,) = client_for(raw_json(body)).services()

    assert type(service.rate) is Decimal
    assert service.rate == Decimal("0.0801")
    assert str(service.rate) == "0.0801"
    assert service.upstream_id == "308"


def test_services_default_missing_optional_fields() -> None:
    body = '[{"service": 5, "name": "x", "category": "c", "rate": "1", "min": "1", "max": "9"}]'

    (service,) = client_for(raw_json(body)).services()

    assert service.refill is False
    assert service.cancel is False
    assert service.dripfeed is False
    assert service.description == ""
    assert service.type == "Default"


@pytest.mark.parametrize("value", [True, "1", 1, "true", "yes", "TRUE", "Yes"])
def test_service_flags_accept_truthy_spellings(value: Any) -> None:
    entry = {"service": 1, "rate": "1", "min": 1, "max": 2}
    entry.update(refill=value, cancel=value, dripfeed=value)

    (service,) = client_for(answering([entry])).services()

    assert (service.refill, service.cancel, service.dripfeed) == (True, True, True)


@pytest.mark.parametrize("value", [False, "0", 0, "false", "no", "", None])
def test_service_flags_accept_falsy_spellings(value: Any) -> None:
    entry = {"service": 1, "rate": "1", "min": 1, "max": 2, "refill": value, "cancel": value}

    (service,) = client_for(answering([entry])).services()

    assert (service.refill, service.cancel) == (False, False)


def test_services_read_keys_in_any_capitalisation() -> None:
    body = '[{"Service": "9", "NAME": "n", "Type": "package", "CATEGORY": "c", "Rate": "3.10",\
 "MIN": "1", "Max": "1", "Refill": "1", "Desc": "d", "DripFeed": 1}]'

    (service,) = client_for(raw_json(body)).services()

    assert service.upstream_id == "9"
    assert service.name == "n"
    assert service.type == "Package"
    assert service.rate == Decimal("3.10")
    assert service.refill is True
    assert service.dripfeed is True
    assert service.description == "d"


def test_services_accept_description_instead_of_desc() -> None:
    entry = {"service": 1, "rate": "1", "min": 1, "max": 2, "description": "long text"}

    (service,) = client_for(answering([entry])).services()

    assert service.description == "long text"


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("custom comments", "Custom Comments"), ("MENTIONS_WITH_HASHTAGS", "Mentions with Hashtags")],
)
def test_service_types_are_normalised_to_the_protocol_spelling(
    spelling: str, expected: str
) -> None:
    entry = {"service": 1, "rate": "1", "min": 1, "max": 2, "type": spelling}

    (service,) = client_for(answering([entry])).services()

    assert service.type == expected


@pytest.mark.parametrize("wrapper", ["data", "services", "Data"])
def test_services_unwrap_a_list_wrapped_in_an_object(wrapper: str) -> None:
    entry = {"service": 1, "rate": "1", "min": 1, "max": 2}

    services = client_for(answering({wrapper: [entry]})).services()

    assert [s.upstream_id for s in services] == ["1"]


def test_services_accept_an_object_keyed_by_service_id() -> None:
    body = {"11": {"name": "a", "rate": "1", "min": 1, "max": 2}, "12": {"rate": "2", "max": 5}}

    services = client_for(answering(body)).services()

    assert [(s.upstream_id, s.rate) for s in services] == [("11", Decimal(1)), ("12", Decimal(2))]


def test_services_skip_entries_with_bad_rate_or_missing_id_and_log_the_host_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = {"service": 1, "rate": "1.5", "min": 1, "max": 2}
    entries = [
        good,
        {"service": 2, "rate": "abc", "min": 1, "max": 2},
        {"service": 3, "rate": None, "min": 1, "max": 2},
        {"name": "no id", "rate": "1", "min": 1, "max": 2},
        {"service": 4, "rate": "NaN", "min": 1, "max": 2},
        {"service": 5, "rate": "2,5", "min": 1, "max": 2},
        "not an object",
    ]

    with caplog.at_level(logging.WARNING):
        services = client_for(answering(entries)).services()

    assert [s.upstream_id for s in services] == ["1"]
    assert "provider.example" in caplog.text
    assert API_KEY not in caplog.text
    assert "/api/v2" not in caplog.text


def test_services_that_all_fail_to_parse_are_unavailable_not_an_empty_catalog() -> None:
    with pytest.raises(ProviderUnavailable):
        client_for(answering([{"service": 1, "rate": "x"}, "junk"])).services()


def test_services_answering_an_empty_list_is_an_empty_catalog() -> None:
    assert client_for(answering([])).services() == []


def test_services_answering_something_else_than_a_list_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable, match="expected a list"):
        client_for(answering({"hello": "world"})).services()


SEED_PRODUCTS = """[
  {"product": 1, "name": "Netflix premium 1 month", "require": "Input your account",
   "rate": 2.5, "min": 1, "max": 10, "category": "Netflix", "status": "In stock",
   "inventory": 40, "type": "Auto"},
  {"product": 2, "name": "Youtube premium 1 month", "require": "Input your account",
   "rate": 5, "min": 1, "max": 1, "category": "Youtube", "status": "Out of stock",
   "inventory": 0, "type": "Auto"},
  {"product": 3, "name": "Facebook account 5000 friends", "rate": 0.5, "min": 1, "max": 2,
   "category": "Facebook", "status": "In stock", "type": "Service"}
]"""


def test_products_parse_the_seed_document() -> None:
    netflix, youtube, facebook = client_for(raw_json(SEED_PRODUCTS)).products()

    assert netflix.upstream_id == "1"
    assert type(netflix.rate) is Decimal
    assert netflix.rate == Decimal("2.5")
    assert (netflix.min, netflix.max, netflix.inventory) == (1, 10, 40)
    assert netflix.require == "Input your account"
    assert (netflix.stock_status, netflix.is_in_stock, netflix.type) == ("In stock", True, "Auto")
    assert (youtube.is_in_stock, youtube.inventory) == (False, 0)
    assert facebook.rate == Decimal("0.5")
    assert facebook.require == ""
    assert facebook.inventory is None
    assert facebook.type == "Service"


def test_products_unwrap_a_products_wrapper() -> None:
    entry = {"product": "4", "rate": "1", "min": 1, "max": 1, "status": "in stock"}

    (product,) = client_for(answering({"products": [entry]})).products()

    assert product.upstream_id == "4"
    assert product.is_in_stock is True


def test_products_default_missing_type_and_derive_stock_from_inventory() -> None:
    entries = [
        {"product": 1, "rate": "1", "min": 1, "max": 1, "inventory": 0},
        {"product": 2, "rate": "1", "min": 1, "max": 1},
    ]

    empty, unknown = client_for(answering(entries)).products()

    assert (empty.type, empty.is_in_stock, empty.stock_status) == ("Service", False, "Out of stock")
    assert (unknown.is_in_stock, unknown.inventory) == (True, None)


# --- balance ---------------------------------------------------------------------------------


def test_balance_is_a_decimal_with_its_currency() -> None:
    balance = client_for(answering({"balance": "68.6868", "currency": "USD"})).balance()

    assert balance == UpstreamBalance(balance=Decimal("68.6868"), currency="USD")
    assert type(balance.balance) is Decimal


def test_balance_sent_as_a_json_number_is_an_exact_decimal() -> None:
    balance = client_for(raw_json('{"balance": 12.0100, "currency": "usd"}')).balance()

    assert type(balance.balance) is Decimal
    assert str(balance.balance) == "12.0100"
    assert balance.currency == "USD"


def test_balance_without_a_readable_amount_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable):
        client_for(answering({"currency": "USD"})).balance()


# --- add -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ['{"order": 99999}', '{"order": "99999"}', '{"Order": 99999.0}'])
def test_add_returns_the_upstream_order_id_as_str(body: str) -> None:
    assert client_for(raw_json(body)).add(service="1", fields={"link": "l"}) == "99999"


@pytest.mark.parametrize(
    "payload",
    [{}, {"order": None}, {"order": 0}, {"order": ""}, {"status": "ok"}, [], "ok", 123],
)
def test_add_answer_without_a_usable_order_id_is_ambiguous(payload: Any) -> None:
    with pytest.raises(ProviderAmbiguous) as caught:
        client_for(answering(payload)).add(service="1", fields={"link": "l"})

    assert caught.value.action == "add"


def test_add_answer_with_both_an_error_and_an_order_id_is_ambiguous() -> None:
    with pytest.raises(ProviderAmbiguous):
        client_for(answering({"order": 5, "error": "Incorrect link"})).add(service="1", fields={})


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        ("Quantity less than minimal 200", "Quantity less than minimal 200"),
        ("Quantity more than maximal 10000", "Quantity more than maximal 10000"),
        ("Incorrect link", "Incorrect link"),
        ("Incorrect service ID", "Incorrect service ID"),
        ("Incorrect request", "Incorrect request"),
        ("neworder.error.min_quantity", "Quantity less than minimal"),
        ("neworder.error.max_quantity", "Quantity more than maximal"),
        ("error.incorrect_service_id", "Incorrect service ID"),
        ("neworder.error.link_invalid", "Link invalid"),
        ("error.incorrect_order_id", "Incorrect order ID"),
        ("Too many IDs (limit 100)", "Too many IDs (limit 100)"),
    ],
)
def test_add_error_answers_are_rejections_with_mapped_messages(
    upstream: str, expected: str
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        client_for(answering({"error": upstream})).add(service="1", fields={"link": "l"})

    assert caught.value.message == expected
    assert caught.value.upstream_message == expected
    assert caught.value.action == "add"


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        ("Not enough funds on balance", "Not enough funds on balance"),
        ("neworder.error.not_enough_funds", "Not enough funds on balance"),
        ("Insufficient balance", "Not enough funds on balance"),
        (
            "neworder.error.link_duplicate",
            "You have active order with this link. Please wait until order being completed.",
        ),
        (
            "You have active order with this link. Please wait until order being completed.",
            "You have active order with this link. Please wait until order being completed.",
        ),
        ("Too many requests", "Too many requests"),
    ],
)
def test_add_busy_answers_keep_the_order_queued(upstream: str, expected: str) -> None:
    with pytest.raises(ProviderBusy) as caught:
        client_for(answering({"error": upstream})).add(service="1", fields={"link": "l"})

    assert caught.value.message == expected
    assert caught.value.upstream_message is not None
    assert not isinstance(caught.value, ProviderRejected)


def test_error_objects_and_flags_are_read_as_messages() -> None:
    shapes = [
        {"error": {"message": "Incorrect link"}},
        {"error": True, "message": "Incorrect link"},
        {"status": "error", "message": "Incorrect link"},
        {"Error": "Incorrect link"},
    ]
    for payload in shapes:
        with pytest.raises(ProviderRejected, match="Incorrect link"):
            client_for(answering(payload)).add(service="1", fields={"link": "l"})


def test_null_or_empty_error_key_beside_a_result_is_not_an_error() -> None:
    client = client_for(answering({"order": 7, "error": None}))

    assert client.add(service="1", fields={}) == "7"
    assert client_for(answering({"order": 8, "error": ""})).add(service="1", fields={}) == "8"


# --- credentials -----------------------------------------------------------------------------


AUTH_TEXTS = [
    "Invalid API key",
    "Incorrect API key",
    "invalid key",
    "API key is disabled",
    "IP not allowed",
    "Your IP 1.2.3.4 is not whitelisted",
    "Your account is banned",
    "error.invalid_key",
]


@pytest.mark.parametrize("text", AUTH_TEXTS)
@pytest.mark.parametrize(("call", "action"), [*WRITE_CALLS[:1], *READ_CALLS[2:4]])
def test_credential_errors_are_auth_errors_on_any_action(
    text: str, call: Call, action: str
) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        call(client_for(answering({"error": text})))

    assert caught.value.action == action
    assert caught.value.upstream_message


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize(("call", "action"), [*WRITE_CALLS, *READ_CALLS])
def test_http_401_and_403_are_auth_errors(status: int, call: Call, action: str) -> None:
    with pytest.raises(ProviderAuthError):
        call(client_for(answering("<html>Forbidden</html>", status=status)))
    with pytest.raises(ProviderAuthError, match="Invalid API key"):
        call(client_for(answering({"error": "Invalid API key"}, status=status)))


@pytest.mark.parametrize(("call", "action"), [*WRITE_CALLS, *READ_CALLS])
def test_a_plain_text_ip_not_allowed_body_is_an_auth_error(call: Call, action: str) -> None:
    with pytest.raises(ProviderAuthError, match="IP not allowed"):
        call(client_for(answering("IP not allowed", headers={"Content-Type": "text/plain"})))


# --- transport and body failures: never sent vs. maybe sent ----------------------------------


NEVER_SENT = [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
MAYBE_SENT = [
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.RemoteProtocolError,
]


@pytest.mark.parametrize("exc_type", NEVER_SENT)
@pytest.mark.parametrize(("call", "action"), [*WRITE_CALLS, *READ_CALLS])
def test_failures_before_sending_are_unavailable_for_every_action(
    exc_type: type[httpx.TransportError], call: Call, action: str
) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        call(client_for(raising(exc_type)))

    assert caught.value.action == action
    assert "provider.example" in caught.value.message


@pytest.mark.parametrize("exc_type", MAYBE_SENT)
@pytest.mark.parametrize(("call", "action"), WRITE_CALLS)
def test_failures_after_a_write_may_have_been_sent_are_ambiguous(
    exc_type: type[httpx.TransportError], call: Call, action: str
) -> None:
    with pytest.raises(ProviderAmbiguous) as caught:
        call(client_for(raising(exc_type)))

    assert caught.value.action == action
    assert "outcome is unknown" in caught.value.message


@pytest.mark.parametrize("exc_type", MAYBE_SENT)
@pytest.mark.parametrize(("call", "action"), READ_CALLS)
def test_failures_of_reads_are_always_unavailable(
    exc_type: type[httpx.TransportError], call: Call, action: str
) -> None:
    with pytest.raises(ProviderUnavailable):
        call(client_for(raising(exc_type)))


BAD_ANSWERS = [
    pytest.param(answering({"error": "Internal"}, status=500), id="500-json"),
    pytest.param(answering("<h1>Bad gateway</h1>", status=502), id="502-html"),
    pytest.param(answering(b"", status=503), id="503-empty"),
    pytest.param(
        answering(
            "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf</body>",
            headers={"Content-Type": "text/html"},
        ),
        id="200-html-challenge",
    ),
    pytest.param(answering(b""), id="200-empty"),
    pytest.param(answering(b"   \n"), id="200-blank"),
    pytest.param(answering(b'{"order": 1'), id="200-truncated-json"),
    pytest.param(
        answering(b"", status=301, headers={"Location": "https://new.example/api/v2"}),
        id="301-redirect",
    ),
    pytest.param(
        answering(b"", status=302, headers={"Location": "https://new.example/api/v2/"}),
        id="302-redirect",
    ),
]


@pytest.mark.parametrize("handler", BAD_ANSWERS)
@pytest.mark.parametrize(("call", "action"), WRITE_CALLS)
def test_bad_answers_to_writes_are_ambiguous(handler: Any, call: Call, action: str) -> None:
    with pytest.raises(ProviderAmbiguous):
        call(client_for(handler))


@pytest.mark.parametrize("handler", BAD_ANSWERS)
@pytest.mark.parametrize(("call", "action"), READ_CALLS)
def test_bad_answers_to_reads_are_unavailable(handler: Any, call: Call, action: str) -> None:
    with pytest.raises(ProviderUnavailable):
        call(client_for(handler))


def test_redirects_are_never_followed_and_the_location_is_reported() -> None:
    location = "https://new.example/api/v2/"
    recorder = Recorder(answering(b"", status=301, headers={"Location": location}))

    with pytest.raises(ProviderAmbiguous) as caught:
        client_for(recorder).add(service="1", fields={"link": "l"})

    assert len(recorder.requests) == 1
    assert location in caught.value.message


def test_html_page_title_is_shown_in_the_message() -> None:
    page = "<html><head><title>Attention Required! | Cloudflare</title></head></html>"

    with pytest.raises(ProviderUnavailable, match="Attention Required"):
        client_for(answering(page)).balance()


def test_client_errors_without_an_error_text_mean_nothing_was_done() -> None:
    # A 404 page means the endpoint never ran: retrying later cannot buy anything twice.
    with pytest.raises(ProviderUnavailable, match="404"):
        client_for(answering("<h1>Not Found</h1>", status=404)).add(service="1", fields={})


def test_client_errors_with_json_but_no_error_text_are_unavailable() -> None:
    handler = answering({"message": "Method not allowed"}, status=405)

    with pytest.raises(ProviderUnavailable, match="405"):
        client_for(handler).add(service="1", fields={})


def test_oversized_answers_are_ambiguous_for_writes_and_unavailable_for_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wire, "MAX_BODY_BYTES", 16)
    handler = answering({"order": 1, "padding": "x" * 100})

    with pytest.raises(ProviderAmbiguous, match="larger than"):
        client_for(handler).add(service="1", fields={})
    with pytest.raises(ProviderUnavailable, match="larger than"):
        client_for(handler).balance()


def test_client_errors_with_an_error_text_are_classified_by_the_text() -> None:
    handler = answering({"error": "Incorrect link"}, status=400)

    with pytest.raises(ProviderRejected, match="Incorrect link"):
        client_for(handler).add(service="1", fields={})


@pytest.mark.parametrize(("call", "action"), [*WRITE_CALLS, *READ_CALLS])
def test_http_429_is_busy_on_every_action(call: Call, action: str) -> None:
    handler = answering({"error": "Too many requests"}, status=429, headers={"Retry-After": "7"})

    with pytest.raises(ProviderBusy) as caught:
        call(client_for(handler))

    assert caught.value.message == "Too many requests"
    assert caught.value.retry_after == 7.0
    assert caught.value.action == action


def test_http_429_without_a_body_is_busy() -> None:
    with pytest.raises(ProviderBusy):
        client_for(answering(b"", status=429)).add(service="1", fields={})


def test_every_error_class_is_a_provider_error() -> None:
    for cls in (
        ProviderUnavailable,
        ProviderRejected,
        ProviderBusy,
        ProviderAmbiguous,
        ProviderAuthError,
    ):
        assert issubclass(cls, ProviderError)


# --- order status ----------------------------------------------------------------------------


def test_status_parses_the_seed_answer() -> None:
    body = '{"charge": "2.5", "start_count": "168", "status": "Completed", "remains": "-2"}'

    status = client_for(raw_json(body)).status("1")

    assert status == UpstreamOrderStatus(
        status="Completed",
        charge=Decimal("2.5"),
        start_count=168,
        remains=-2,
        currency=None,
    )
    assert type(status.charge) is Decimal


def test_status_charge_sent_as_a_json_number_is_an_exact_decimal() -> None:
    body = '{"charge": 0.0801, "status": "Completed", "currency": "USD"}'

    status = client_for(raw_json(body)).status("1")

    assert type(status.charge) is Decimal
    assert status.charge == Decimal("0.0801")
    assert status.currency == "USD"


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Cancelled", "Canceled"),
        ("canceled", "Canceled"),
        ("CANCELED", "Canceled"),
        ("in progress", "In progress"),
        ("inprogress", "In progress"),
        ("In Progress", "In progress"),
        ("in_progress", "In progress"),
        ("processing", "Processing"),
        ("pending", "Pending"),
        ("completed", "Completed"),
        ("partial", "Partial"),
        ("PARTIAL", "Partial"),
    ],
)
def test_status_spellings_are_normalised(spelling: str, expected: str) -> None:
    status = client_for(answering({"status": spelling})).status("1")

    assert status.status == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("+12", 12), ("-2", -2), (12, 12), ("12", 12), (" 7 ", 7), ("Unknown", None), ("", None)],
)
def test_remains_and_start_count_accept_signed_strings_and_unknowns(
    value: Any, expected: int | None
) -> None:
    payload = {"status": "In progress", "remains": value, "start_count": value}

    status = client_for(answering(payload)).status("1")

    assert status.remains == expected
    assert status.start_count == expected


def test_status_with_missing_counts_and_charge_has_nones() -> None:
    status = client_for(answering({"status": "Pending"})).status("1")

    assert (status.charge, status.start_count, status.remains) == (None, None, None)


def test_status_error_answer_is_a_rejection() -> None:
    with pytest.raises(ProviderRejected, match="Incorrect order ID") as caught:
        client_for(answering({"error": "Incorrect order ID"})).status("1")

    assert caught.value.action == "status"


def test_status_answered_in_batch_shape_is_read() -> None:
    status = client_for(answering({"77": {"status": "Completed"}})).status("77")

    assert status.status == "Completed"


def test_status_answer_without_a_status_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable):
        client_for(answering({"charge": "1"})).status("1")


def test_statuses_parse_the_seed_answer() -> None:
    body = """{
      "123": {"charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157"},
      "456": {"error": "Incorrect order ID"},
      "789": {"charge": "1.44219", "start_count": "234", "status": "In progress", "remains": "10"}
    }"""

    result = client_for(raw_json(body)).statuses(["123", "456", "789"])

    assert result["123"] == UpstreamOrderStatus("Partial", Decimal("0.27819"), 3572, 157, None)
    assert result["456"] == ItemError("Incorrect order ID")
    assert result["789"].status == "In progress"  # type: ignore[union-attr]
    assert list(result) == ["123", "456", "789"]


def test_statuses_read_bare_string_entries_as_item_errors() -> None:
    payload = {"1": "Incorrect order ID", "2": {"status": "completed"}, "3": "error.not_found"}

    result = client_for(answering(payload)).statuses(["1", "2", "3"])

    assert result["1"] == ItemError("Incorrect order ID")
    assert result["2"].status == "Completed"  # type: ignore[union-attr]
    assert result["3"] == ItemError("Not found")


def test_statuses_read_a_bare_status_word_as_a_status() -> None:
    result = client_for(answering({"1": "completed"})).statuses(["1"])

    assert result["1"] == UpstreamOrderStatus("Completed", None, None, None, None)


def test_statuses_map_leaked_keys_in_entries() -> None:
    payload = {"1": {"error": "error.incorrect_order_id"}}

    assert client_for(answering(payload)).statuses(["1"]) == {"1": ItemError("Incorrect order ID")}


def test_statuses_missing_from_the_answer_are_item_errors() -> None:
    result = client_for(answering({"1": {"status": "Pending"}})).statuses(["1", "2"])

    assert result["2"] == ItemError(MISSING_FROM_ANSWER)
    assert result["2"].is_outcome_unknown  # type: ignore[union-attr]


def test_statuses_accept_ids_answered_as_numbers_or_padded() -> None:
    result = client_for(answering([{"order": 5, "status": "Completed"}])).statuses(["005"])

    assert result["005"].status == "Completed"  # type: ignore[union-attr]


def test_statuses_for_one_id_accept_the_single_shape() -> None:
    result = client_for(answering({"status": "Completed", "charge": "1"})).statuses(["9"])

    assert result["9"].charge == Decimal("1")  # type: ignore[union-attr]


def test_statuses_top_level_error_raises() -> None:
    with pytest.raises(ProviderRejected, match="Incorrect request"):
        client_for(answering({"error": "Incorrect request"})).statuses(["1", "2"])


def test_statuses_top_level_auth_error_raises_auth_error() -> None:
    with pytest.raises(ProviderAuthError):
        client_for(answering({"error": "Invalid API key"})).statuses(["1", "2"])


def test_statuses_wrapped_in_data_are_read() -> None:
    payload = {"data": {"1": {"status": "Pending"}, "2": {"status": "Canceled"}}, "count": 2}

    result = client_for(answering(payload)).statuses(["1", "2"])

    assert result["2"].status == "Canceled"  # type: ignore[union-attr]


# --- refills ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ['{"refill": "1"}', '{"refill": 1}', '[{"order": 3, "refill": 1}]']
)
def test_refill_returns_the_refill_id_as_str(body: str) -> None:
    assert client_for(raw_json(body)).refill("3") == "1"


def test_refill_sends_one_order() -> None:
    recorder = Recorder(answering({"refill": "1"}))

    client_for(recorder).refill("42")

    assert recorder.forms == [{"key": API_KEY, "action": "refill", "order": "42"}]


@pytest.mark.parametrize(
    "payload",
    [
        {"error": "Refill is not available for this order"},
        {"refill": {"error": "Refill is not available for this order"}},
        {"refill": "Refill is not available for this order"},
    ],
)
def test_refill_refused_is_a_rejection(payload: Any) -> None:
    with pytest.raises(ProviderRejected, match="Refill is not available"):
        client_for(answering(payload)).refill("3")


@pytest.mark.parametrize("payload", [{}, {"refill": None}, {"refill": 0}, {"status": "ok"}])
def test_refill_answer_without_an_id_is_ambiguous(payload: Any) -> None:
    with pytest.raises(ProviderAmbiguous):
        client_for(answering(payload)).refill("3")


def test_refills_read_the_list_shape_with_errors_and_bare_strings() -> None:
    payload = [
        {"order": 1, "refill": 11},
        {"order": "2", "refill": {"error": "Incorrect order ID"}},
        {"order": 3, "refill": "Refill is not available for this order"},
        {"order": 4, "error": "neworder.error.refill_disabled"},
    ]

    result = client_for(answering(payload)).refills(["1", "2", "3", "4", "5"])

    assert result == {
        "1": "11",
        "2": ItemError("Incorrect order ID"),
        "3": ItemError("Refill is not available for this order"),
        "4": ItemError("Refill disabled"),
        "5": ItemError(MISSING_FROM_ANSWER),
    }
    assert result["5"].is_outcome_unknown  # type: ignore[union-attr]


def test_refills_for_one_id_accept_the_single_shape() -> None:
    recorder = Recorder(answering({"refill": "1"}))

    assert client_for(recorder).refills(["3"]) == {"3": "1"}
    assert recorder.forms[0]["orders"] == "3"


def test_refills_single_shape_for_several_ids_is_ambiguous() -> None:
    # One refill id for many orders: we cannot tell which orders got a refill.
    with pytest.raises(ProviderAmbiguous):
        client_for(answering({"refill": "1"})).refills(["3", "4"])


def test_refills_unreadable_answer_is_ambiguous() -> None:
    with pytest.raises(ProviderAmbiguous):
        client_for(answering("ok")).refills(["3", "4"])


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("Completed", "Completed"), ("rejected", "Rejected"), ("in progress", "In progress")],
)
def test_refill_status_normalises_the_status(spelling: str, expected: str) -> None:
    assert client_for(answering({"status": spelling})).refill_status("1") == expected


def test_refill_status_error_is_a_rejection() -> None:
    with pytest.raises(ProviderRejected, match="Incorrect refill ID"):
        client_for(answering({"error": "Incorrect refill ID"})).refill_status("1")


def test_refill_statuses_parse_the_seed_answer() -> None:
    payload = [
        {"refill": 1, "status": "Completed"},
        {"refill": 2, "status": "Rejected"},
        {"refill": 3, "status": {"error": "Incorrect refill ID"}},
        {"refill": 4, "status": "Incorrect refill ID"},
    ]

    result = client_for(answering(payload)).refill_statuses(["1", "2", "3", "4"])

    assert result == {
        "1": "Completed",
        "2": "Rejected",
        "3": ItemError("Incorrect refill ID"),
        "4": ItemError("Incorrect refill ID"),
    }


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_reads_accepted_and_refused_entries() -> None:
    recorder = Recorder(
        answering(
            [
                {"order": 2, "cancel": 1},
                {"order": 9, "cancel": {"error": "Incorrect order ID"}},
                {"order": 10, "cancel": "Cancel is not available for this order"},
                {"order": 11, "cancel": "true"},
                {"order": 12, "cancel": 0},
            ]
        )
    )

    result = client_for(recorder).cancel(["2", "9", "10", "11", "12"])

    assert result == {
        "2": True,
        "9": ItemError("Incorrect order ID"),
        "10": ItemError("Cancel is not available for this order"),
        "11": True,
        "12": False,
    }
    assert recorder.forms[0] == {"key": API_KEY, "action": "cancel", "orders": "2,9,10,11,12"}


def test_cancel_for_one_id_accepts_the_single_shape() -> None:
    assert client_for(answering({"cancel": 1})).cancel(["2"]) == {"2": True}


def test_cancel_top_level_error_is_a_rejection() -> None:
    with pytest.raises(ProviderRejected):
        client_for(answering({"error": "Incorrect request"})).cancel(["2", "3"])


def test_one_id_batch_answered_with_a_single_error_is_that_ids_error() -> None:
    client = client_for(answering({"error": "Incorrect order ID"}))

    assert client.statuses(["7"]) == {"7": ItemError("Incorrect order ID")}
    assert client.cancel(["7"]) == {"7": ItemError("Incorrect order ID")}


@pytest.mark.parametrize("code", [408, 409, 422, 499])
def test_a_4xx_that_may_follow_processing_makes_add_ambiguous(code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, text="")

    with pytest.raises(ProviderAmbiguous):
        client_for(handler).add(service="1", fields={"link": "x", "quantity": "100"})
    with pytest.raises(ProviderUnavailable):
        client_for(handler).statuses(["1"])


@pytest.mark.parametrize("code", [400, 404, 405])
def test_a_4xx_that_proves_refusal_leaves_add_retryable(code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, text="<html>nope</html>")

    with pytest.raises(ProviderUnavailable):
        client_for(handler).add(service="1", fields={"link": "x", "quantity": "100"})


# --- product orders --------------------------------------------------------------------------


def test_add_product_order_sends_product_quantity_and_require() -> None:
    recorder = Recorder(answering({"order": 555}))

    order_id = client_for(recorder).add_product_order(product="3", quantity=2, require="me@x.io")

    assert order_id == "555"
    assert recorder.forms == [
        {
            "key": API_KEY,
            "action": "add_product_order",
            "product": "3",
            "quantity": "2",
            "require": "me@x.io",
        }
    ]


def test_add_product_order_out_of_stock_is_a_rejection() -> None:
    with pytest.raises(ProviderRejected, match="out of stock"):
        client_for(answering({"error": "Product is out of stock"})).add_product_order(
            product="1", quantity=1, require="x"
        )


def test_product_order_status_parses_result_and_note() -> None:
    body = '{"charge": 7.5, "status": "completed", "result": "c85c1d1a"}'

    status = client_for(raw_json(body)).product_order_status("1")

    assert status == UpstreamProductOrderStatus("Completed", Decimal("7.5"), "c85c1d1a", "")
    assert type(status.charge) is Decimal


def test_product_order_statuses_parse_the_seed_answer() -> None:
    body = """{
      "123": {"charge": 7.5, "status": "Completed", "result": "c85c1d1a-9ef3"},
      "456": {"error": "Incorrect order ID"},
      "789": {"charge": 0, "status": "Cancelled", "note": "Out of stock"}
    }"""

    result = client_for(raw_json(body)).product_order_statuses(["123", "456", "789"])

    assert result["123"] == UpstreamProductOrderStatus(
        "Completed", Decimal("7.5"), "c85c1d1a-9ef3", ""
    )
    assert result["456"] == ItemError("Incorrect order ID")
    assert result["789"] == UpstreamProductOrderStatus("Canceled", Decimal(0), "", "Out of stock")


# --- the key stays secret --------------------------------------------------------------------


def _key_echoing_handlers() -> list[Callable[[httpx.Request], httpx.Response]]:
    def raise_with_key(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out for key={API_KEY}", request=request)

    return [
        answering({"error": f"Invalid API key {API_KEY}"}),
        answering({"error": f"Incorrect link for key {API_KEY}"}),
        answering({"error": f"Not enough funds for {API_KEY}"}),
        answering(f"<html><title>Denied {API_KEY}</title></html>"),
        answering(f"<p>key={API_KEY}</p>", status=500),
        answering(b"", status=302, headers={"Location": f"https://x.example/?key={API_KEY}"}),
        answering({"order": f"{API_KEY} nope"}),
        raise_with_key,
        raising(httpx.ConnectError, f"cannot connect with {API_KEY}"),
    ]


@pytest.mark.parametrize(("call", "action"), [*WRITE_CALLS, *READ_CALLS])
def test_the_key_never_appears_in_exceptions_or_logs(
    call: Call, action: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    redactions = 0
    for handler in _key_echoing_handlers():
        client = client_for(handler)
        try:
            result = call(client)
        except ProviderError as error:
            texts = [
                str(error),
                repr(error),
                error.message,
                error.upstream_message or "",
                "".join(traceback.format_exception(error)),  # with causes and contexts
            ]
        else:  # a batch read may just report every id as missing
            texts = [repr(result)]
        texts.append(repr(client))
        assert all(API_KEY not in text for text in texts), texts
        redactions += any("[redacted]" in text for text in texts)
    assert redactions >= 3  # the provider's echoes did reach the messages, without the key
    assert API_KEY not in caplog.text


def test_repr_hides_the_key_and_url_credentials() -> None:
    client = ProviderClient(
        api_url="https://user:pw@provider.example:8443/api/v2?token=t0ps3cret",
        api_key=API_KEY,
        connect_timeout=1.0,
        read_timeout=1.0,
    )

    assert repr(client) == "<ProviderClient https://provider.example:8443/api/v2>"
    assert API_KEY not in repr(client)
    assert "t0ps3cret" not in repr(client)
    assert "pw" not in repr(client)


def test_non_http_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        ProviderClient(api_url="ftp://provider.example/api/v2", api_key=API_KEY)


# --- transport -------------------------------------------------------------------------------


def test_clients_without_a_transport_share_one_pooled_client() -> None:
    shared = wire.shared_client()

    assert wire.shared_client() is shared
    assert shared.follow_redirects is False
    assert "smm-panel" in shared.headers["user-agent"]


def test_shared_client_is_recreated_in_a_forked_process(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = wire.shared_client()
    monkeypatch.setattr(wire.os, "getpid", lambda: -12345)

    child = wire.shared_client()

    assert child is not parent
    assert wire.shared_client() is child


def test_explicit_timeouts_are_used() -> None:
    client = client_for(answering({}), connect_timeout=0.5, read_timeout=7.0)

    assert client._timeout.connect == 0.5
    assert client._timeout.read == 7.0


def test_timeouts_default_to_django_settings_or_built_in_values() -> None:
    from django.conf import settings

    client = ProviderClient(
        api_url=API_URL, api_key=API_KEY, transport=httpx.MockTransport(answering({}))
    )

    if settings.configured:
        expected = (settings.PANEL_PROVIDER_CONNECT_TIMEOUT, settings.PANEL_PROVIDER_READ_TIMEOUT)
    else:
        expected = (5.0, 30.0)
    assert (client._timeout.connect, client._timeout.read) == expected


def test_one_client_serves_concurrent_batch_statuses_from_many_threads() -> None:
    def echo_statuses(request: httpx.Request) -> httpx.Response:
        ids = form_of(request)["orders"].split(",")
        return httpx.Response(200, json={i: {"status": "Completed", "charge": i} for i in ids})

    client = client_for(echo_statuses)
    failures: list[str] = []

    def poll(worker: int) -> None:
        for round_ in range(25):
            ids = [f"{worker}0{round_:02d}{n:02d}" for n in range(1, 40)]
            result = client.statuses(ids)
            if any(result[i].charge != Decimal(i) for i in ids):  # type: ignore[union-attr]
                failures.append(f"worker {worker} round {round_}")

    threads = [threading.Thread(target=poll, args=(w,)) for w in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []


# --- a real server on 127.0.0.1 --------------------------------------------------------------


def _loopback_client(url: str, *, read_timeout: float = 2.0) -> ProviderClient:
    return ProviderClient(
        api_url=url, api_key=API_KEY, connect_timeout=1.0, read_timeout=read_timeout
    )


def test_real_server_receives_a_form_post_and_its_answer_is_parsed() -> None:
    with loopback_server() as server:
        server.answers["balance"] = {"balance": "10.5000", "currency": "USD"}

        balance = _loopback_client(f"{server.base_url}/api/v2").balance()

    assert balance == UpstreamBalance(Decimal("10.5000"), "USD")
    ((path, headers, form),) = server.seen
    assert path == "/api/v2"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form == {"key": API_KEY, "action": "balance"}


def test_real_refused_connection_is_unavailable_even_for_add() -> None:
    client = _loopback_client(f"http://127.0.0.1:{closed_port()}/api/v2")

    with pytest.raises(ProviderUnavailable, match="not sent"):
        client.add(service="1", fields={"link": "l", "quantity": "10"})


def test_real_read_timeout_after_add_is_ambiguous() -> None:
    with loopback_server() as server:
        client = _loopback_client(f"{server.base_url}/slow/api/v2", read_timeout=0.3)

        with pytest.raises(ProviderAmbiguous, match="read timed out"):
            client.add(service="1", fields={"link": "l", "quantity": "10"})

    assert [form["action"] for _, _, form in server.seen] == ["add"]


def test_real_read_timeout_on_status_is_unavailable() -> None:
    with loopback_server() as server:
        client = _loopback_client(f"{server.base_url}/slow/api/v2", read_timeout=0.3)

        with pytest.raises(ProviderUnavailable, match="read timed out"):
            client.status("1")


def test_real_connection_dropped_after_add_is_ambiguous() -> None:
    with loopback_server() as server:
        client = _loopback_client(f"{server.base_url}/drop/api/v2")

        with pytest.raises(ProviderAmbiguous):
            client.add(service="1", fields={"link": "l", "quantity": "10"})


def test_real_redirect_is_not_followed() -> None:
    with loopback_server() as server:
        client = _loopback_client(f"{server.base_url}/redirect/api/v2")

        with pytest.raises(ProviderAmbiguous, match="elsewhere.example"):
            client.add(service="1", fields={"link": "l", "quantity": "10"})

    assert len(server.seen) == 1


def test_real_server_answers_are_decimal_exact() -> None:
    with loopback_server() as server:
        server.answers["status"] = json.loads(
            '{"charge": "0.0801", "status": "Cancelled", "remains": "+12"}'
        )

        status = _loopback_client(f"{server.base_url}/api/v2").status("1")

    assert status == UpstreamOrderStatus("Canceled", Decimal("0.0801"), None, 12, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        ("12", 12),
        ("0012", 12),
        ("+12", 12),
        ("-2", -2),
        ("12.0", 12),
        ("10,000", 10000),
        (" 7 ", 7),
        ("9" * 16, int("9" * 16)),
        ("1" + "0" * 16, None),
        (10**16, None),
        (-(10**16), None),
        ("٣", 3),  # not ASCII: left to Decimal, which reads any Unicode digit
        ("", None),
        ("1.5", None),
        (True, None),
        ("Unknown", None),
    ],
)
def test_counts_read_the_same_through_the_fast_path_and_the_decimal_one(
    value: Any, expected: int | None
) -> None:
    from providers.client.parsing import to_int

    assert to_int(value) == expected
