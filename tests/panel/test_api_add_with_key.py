"""An `add` naming its service by number reads the service with the key, in one query
(panel/api/views.py `_authenticate`): every answer, and which one wins, is as when they were
two reads."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey, BalanceTransaction, User
from orders.models import Order
from providers.models import PriceOverride, Provider, Service, ServiceType

URL = "/api/v2"


@pytest.fixture
def service(catalog: Provider) -> Service:
    return Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()


@pytest.fixture
def add(client: Client, reseller_key: str, service: Service) -> Callable[..., Any]:
    def _add(**fields: Any) -> Any:
        data = {"key": reseller_key, "action": "add", "service": service.pk, "link": "@a"}
        data["quantity"] = service.min
        response = client.post(URL, {**data, **fields})
        assert response["Content-Type"] == "application/json"
        return response.status_code, json.loads(response.content)

    return _add


def _nothing_written(reseller: User) -> bool:
    return (
        not Order.objects.exists() and BalanceTransaction.objects.filter(user=reseller).count() == 1
    )


@pytest.mark.parametrize("key", ["", "wrong", "smm_" + "x" * 40])
def test_a_bad_key_is_invalid_whatever_the_service(
    add: Callable[..., Any], reseller: User, key: str
) -> None:
    assert add(key=key) == (200, {"error": "Invalid API key"})
    assert add(key=key, service="999999") == (200, {"error": "Invalid API key"})
    assert _nothing_written(reseller)


def test_a_revoked_key_or_a_disabled_account_is_invalid(
    add: Callable[..., Any], reseller: User
) -> None:
    User.objects.filter(pk=reseller.pk).update(is_active=False)
    assert add() == (200, {"error": "Invalid API key"})
    User.objects.filter(pk=reseller.pk).update(is_active=True)
    ApiKey.objects.update(revoked_at=timezone.now())
    assert add() == (200, {"error": "Invalid API key"})
    assert _nothing_written(reseller)


def test_a_service_not_on_sale_is_incorrect(
    add: Callable[..., Any], reseller: User, service: Service
) -> None:
    assert add(service="999999") == (200, {"error": "Incorrect service ID"})
    Service.objects.filter(pk=service.pk).update(is_enabled=False)
    assert add() == (200, {"error": "Incorrect service ID"})
    Service.objects.filter(pk=service.pk).update(is_enabled=True, hold_reason="below cost")
    assert add() == (200, {"error": "Incorrect service ID"})
    Service.objects.filter(pk=service.pk).update(hold_reason="")
    Provider.objects.update(is_enabled=False)
    assert add() == (200, {"error": "Incorrect service ID"})
    assert _nothing_written(reseller)


def test_the_folded_read_places_the_order_at_the_users_own_rate_in_two_statements(
    add: Callable[..., Any], reseller: User, service: Service
) -> None:
    own_rate = service.rate + 1  # above the cost, whatever the catalog's margin
    PriceOverride.objects.create(user=reseller, service=service, rate=own_rate)
    add(link="@first")  # the key's first use writes its last_used_at

    with CaptureQueriesContext(connection) as queries:
        status, answer = add()

    assert status == 200, answer
    order = Order.objects.get(pk=answer["order"])
    assert order.charge == (own_rate * service.min / 1000).quantize(order.charge)
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == ["SELECT", "WITH"]


def test_a_client_ref_replay_answers_its_order_even_once_the_service_is_off_sale(
    add: Callable[..., Any], reseller: User, service: Service
) -> None:
    _, first = add(client_ref="r-1")
    Service.objects.filter(pk=service.pk).update(is_enabled=False)

    assert add(client_ref="r-1") == (200, first)
    assert BalanceTransaction.objects.filter(user=reseller, kind="charge").count() == 1


def test_a_field_error_still_comes_after_the_service_check(
    add: Callable[..., Any], reseller: User, service: Service
) -> None:
    assert add(link="not a link") == (200, {"error": "Incorrect link"})
    assert add(service="999999", link="not a link") == (200, {"error": "Incorrect service ID"})
    assert _nothing_written(reseller)


def test_throttling_counts_the_folded_add_as_before(add: Callable[..., Any], settings: Any) -> None:
    settings.PANEL_API_RATE = "2/min"
    settings.PANEL_API_BAD_KEY_RATE = "1/min"

    assert [add(link=f"@{i}")[0] for i in range(3)] == [200, 200, 429]
    assert add(key="guess")[0] == 200
    assert add(key="guess") == (429, {"error": "Too many requests"})
