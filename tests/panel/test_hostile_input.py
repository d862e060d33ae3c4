"""Input an attacker or a buggy script sends: NUL bytes, invalid UTF-8, look-alike digits and
oversized or file-carrying bodies get a protocol error or a 400, never a 500, and change nothing."""

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import BalanceTransaction, User
from core.ids import parse_id, parse_whole
from orders.errors import IncorrectLink, InvalidOrderField
from orders.models import Order
from orders.services import order_place
from orders.type_rules import parse_order_fields
from providers.models import Provider, Service, ServiceType
from tests.factories import ServiceFactory

URL = "/api/v2"
LINK = "https://instagram.com/p/abc123"
LOOKALIKE_NUMBERS = ["1_000", "１０００", "+1000", "١٠٠٠", "²", " 1 000", "0x10", "1e3", "1.0"]


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(rate=Decimal("2.5"), min=100, max=10000)


@pytest.fixture
def logged_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def _api(client: Client, **fields: Any) -> Any:
    response = client.post(URL, fields)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _nothing_charged(user: User) -> bool:
    return not BalanceTransaction.objects.filter(user=user, kind="charge").exists()


# --- Numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*LOOKALIKE_NUMBERS, "", "abc", "1" * 40])
def test_parse_id_takes_ascii_digits_only(text: str) -> None:
    assert parse_id(text) is None


def test_parse_whole_trims_and_takes_a_minus() -> None:
    assert (parse_whole(" 42 "), parse_whole("-5"), parse_id(" 7\n")) == (42, -5, 7)


@pytest.mark.parametrize("quantity", LOOKALIKE_NUMBERS)
def test_quantity_must_be_ascii_digits(quantity: str) -> None:
    service = Service(type=ServiceType.DEFAULT, min=1, max=100000)
    with pytest.raises(InvalidOrderField) as error:
        parse_order_fields(service, {"link": LINK, "quantity": quantity})
    assert error.value.field == "quantity"


@pytest.mark.parametrize("field", ["runs", "interval"])
def test_dripfeed_numbers_must_be_ascii_digits(field: str) -> None:
    service = Service(type=ServiceType.DEFAULT, min=1, max=100000, has_dripfeed=True)
    fields = {"link": LINK, "quantity": "100", "runs": "2", "interval": "30", field: "２"}
    with pytest.raises(InvalidOrderField) as error:
        parse_order_fields(service, fields)
    assert error.value.field == field


@pytest.mark.parametrize("order_id", ["+{}", "{}_0", "{}.0", " {} "])
def test_api_order_ids_take_ascii_digits_only(
    client: Client, reseller: User, reseller_key: str, service: Service, order_id: str
) -> None:
    order = order_place(
        user=reseller, service_id=service.pk, fields={"link": LINK, "quantity": 100}
    )
    answer = _api(client, key=reseller_key, action="status", order=order_id.format(order.pk))
    if order_id.strip() == "{}":
        assert answer["status"] == "Pending"  # spaces around an id are trimmed
    else:
        assert answer == {"error": "Incorrect order ID"}


@pytest.mark.parametrize("lookalike", ["١", "１", "+1"])
def test_lookalike_digits_never_resolve_to_an_order(
    client: Client, reseller: User, reseller_key: str, service: Service, lookalike: str
) -> None:
    order = order_place(
        user=reseller, service_id=service.pk, fields={"link": LINK, "quantity": 100}
    )
    text = lookalike.replace("1", str(order.pk)) if lookalike == "+1" else lookalike
    assert _api(client, key=reseller_key, action="status", order=text) == {
        "error": "Incorrect order ID"
    }


@pytest.mark.parametrize("quantity", ["1_000", "１０００", "+1000"])
def test_api_add_refuses_lookalike_quantities(
    client: Client, reseller: User, reseller_key: str, service: Service, quantity: str
) -> None:
    answer = _api(
        client, key=reseller_key, action="add", service=service.pk, link=LINK, quantity=quantity
    )
    assert answer == {"error": "Incorrect request"}
    assert _nothing_charged(reseller)


# --- Invalid UTF-8 and NUL through the API -------------------------------------------------------


def test_api_add_refuses_a_link_that_is_not_utf8(
    client: Client, reseller: User, reseller_key: str, service: Service
) -> None:
    body = f"key={reseller_key}&action=add&service={service.pk}&quantity=100&link=https://x.com/%FF%FEa"
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")

    assert json.loads(response.content) == {"error": "Incorrect request"}
    assert not Order.objects.exists() and _nothing_charged(reseller)


def test_a_garbled_link_is_refused_by_the_order_rules() -> None:
    service = Service(type=ServiceType.DEFAULT, min=1, max=100000)
    with pytest.raises(IncorrectLink):
        parse_order_fields(service, {"link": "https://x.com/\ufffd", "quantity": "100"})


@pytest.mark.parametrize("field", ["link", "client_ref", "comments", "usernames", "quantity"])
def test_api_add_answers_a_protocol_error_for_a_nul_byte(
    client: Client, reseller: User, reseller_key: str, service: Service, field: str
) -> None:
    fields = {"service": service.pk, "link": LINK, "quantity": "100", field: "a\x00b"}
    assert _api(client, key=reseller_key, action="add", **fields) == {"error": "Incorrect request"}
    assert _nothing_charged(reseller)


@pytest.mark.parametrize(
    "body", [{"action": "add", "link": "\u0000"}, {"action": "status", "order": "\ud800"}]
)
def test_api_json_body_with_unstorable_text_is_an_incorrect_request(
    client: Client, reseller_key: str, body: dict
) -> None:
    response = client.post(
        URL, json.dumps({"key": reseller_key, **body}), content_type="application/json"
    )
    assert (response.status_code, json.loads(response.content)) == (
        200,
        {"error": "Incorrect request"},
    )


def test_order_service_refuses_nul_in_line_fields(customer: User, db: None) -> None:
    service = ServiceFactory(type=ServiceType.CUSTOM_COMMENTS, min=1, max=100)
    with pytest.raises(InvalidOrderField) as error:
        order_place(
            user=customer, service_id=service.pk, fields={"link": LINK, "comments": "hi\x00there"}
        )
    assert error.value.field == "comments"


# --- NUL on the pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["order_list", "order_new", "order_service_options", "services", "product_list"]
)
def test_pages_answer_400_to_a_nul_in_the_query(logged_in: Client, db: None, url: str) -> None:
    response = logged_in.get(reverse(url), {"q": "abc\x00"})
    assert response.status_code == 400


@pytest.mark.parametrize("search", ["²", "9" * 30, "١٢"])
def test_digit_like_searches_are_text_searches(logged_in: Client, db: None, search: str) -> None:
    for url in ("order_list", "services", "order_service_options"):
        assert logged_in.get(reverse(url), {"q": search}).status_code == 200


def test_order_form_post_with_a_nul_places_nothing(
    logged_in: Client, customer: User, service: Service
) -> None:
    response = logged_in.post(
        reverse("order_new"), {"service": service.pk, "link": "https://x.com/\x00", "quantity": 100}
    )
    assert response.status_code == 400
    assert _nothing_charged(customer)


def test_a_nul_in_the_session_cookie_is_ignored(client: Client, db: None) -> None:
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get(reverse("services")).status_code == 200


# --- Body size and file parts on /api/v2 ---------------------------------------------------------


class _UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    readline = read


def test_api_refuses_a_huge_body_without_reading_it(client: Client, db: None) -> None:
    response = client.generic(
        "POST",
        URL,
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
        **{"wsgi.input": _UnreadableBody()},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "Incorrect request"}


@override_settings(PANEL_API_MAX_BODY_BYTES=4096)
def test_api_body_limit_is_a_setting(client: Client, reseller_key: str) -> None:
    small = _api(client, key=reseller_key, action="balance")
    large = _api(client, key=reseller_key, action="balance", comments="x" * 5000)
    assert "balance" in small and large == {"error": "Incorrect request"}


def test_api_refuses_file_parts(client: Client, reseller: User, reseller_key: str) -> None:
    upload = io.BytesIO(b"GIF89a" + b"\x00" * 100)
    upload.name = "picture.gif"
    response = client.post(URL, {"key": reseller_key, "action": "balance", "file": upload})
    assert json.loads(response.content) == {"error": "Incorrect request"}


def test_api_multipart_fields_still_work(
    client: Client, reseller: User, reseller_key: str, catalog: Provider
) -> None:
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    answer = _api(
        client,
        key=reseller_key,
        action="add",
        service=service.pk,
        link=LINK,
        quantity=service.min,
    )
    assert Order.objects.get(pk=answer["order"]).user == reseller


def test_api_query_string_with_invalid_utf8_is_an_incorrect_request(
    client: Client, reseller_key: str, service: Service
) -> None:
    response = client.get(
        f"{URL}?key={reseller_key}&action=add&service={service.pk}&quantity=100&link=%C3%28"
    )
    assert json.loads(response.content) == {"error": "Incorrect request"}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/orders/99999999999999999999/",
        "/admin/orders/order/99999999999999999999/change/",
        "/admin/orders/order/99999999999999999999/found-upstream/",
    ],
)
def test_ids_past_the_largest_key_are_not_found(client: Client, staff: User, url: str) -> None:
    client.force_login(staff)
    assert client.get(url, follow=True).status_code in (200, 404)


# --- What providers send -------------------------------------------------------------------------


def test_provider_text_loses_what_the_database_cannot_store() -> None:
    from providers.client.parsing import decode_json

    body = rb'[{"name": "Likes\u0000 \ud800HQ", "desc": "fast \ud83d\ude00", "1\u0000": 2}]'
    assert decode_json(body) == [{"name": "Likes HQ", "desc": "fast \U0001f600", "1": 2}]


def test_a_catalog_with_a_nul_in_a_name_still_syncs(catalog: Provider, sandbox: Any) -> None:
    from providers.services import catalog_sync

    service = Service.objects.filter(provider=catalog).order_by("pk").first()
    with sandbox.state.lock:
        sandbox.state.services[int(service.upstream_id)].name = "Bad\x00name"
        sandbox.state.catalog_changed()

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert service.name == "Badname"
