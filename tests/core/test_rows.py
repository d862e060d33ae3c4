"""Instances read with hand-written SQL (core/rows.py) are the ones a queryset returns."""

from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from accounts.models import User
from accounts.services import api_key_authenticate, api_key_create
from core.rows import column_count, from_row, select_list
from providers.models import PriceOverride, Provider, Service, ServiceRoute, ServiceType
from providers.selectors import service_for_order
from tests.factories import UserFactory


def _read(model: type, pk: int) -> object:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select_list(model, 't')} FROM {model._meta.db_table} t WHERE t.id = %s",  # noqa: S608 - names from the models
            [pk],
        )
        return from_row(model, cursor.fetchone())


@pytest.mark.parametrize("model", [Service, Provider, User])
def test_from_row_builds_the_instance_a_queryset_builds(model: type, catalog: Provider) -> None:
    UserFactory(funds=Decimal("12.345678"))
    expected = model.objects.order_by("pk").first()

    instance = _read(model, expected.pk)

    assert type(instance) is model and not instance._state.adding
    assert {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in model._meta.concrete_fields
    }
    assert column_count(model) == len(model._meta.concrete_fields)


def test_service_for_order_reads_the_provider_the_users_rate_and_routes(
    catalog: Provider, customer: User
) -> None:
    plain, overridden, routed, target = Service.objects.filter(type=ServiceType.DEFAULT)[:4]
    PriceOverride.objects.create(user=customer, service=overridden, rate=Decimal("0.5"))
    ServiceRoute.objects.create(service=routed, target=target, priority=1)

    found = {
        s.pk: service_for_order(service_id=s.pk, user_id=customer.pk)
        for s in (plain, overridden, routed)
    }

    assert model_to_dict(found[plain.pk]) == model_to_dict(plain)
    assert found[plain.pk].provider == catalog
    assert found[plain.pk].provider.exchange_rate == catalog.exchange_rate
    assert [found[pk].customer_override for pk in found] == [None, Decimal("0.5"), None]
    assert [found[pk].has_routes for pk in found] == [False, False, True]
    # someone else's own rate is not this customer's
    other = UserFactory()
    assert service_for_order(service_id=overridden.pk, user_id=other.pk).customer_override is None


def test_service_for_order_finds_nothing_off_sale(catalog: Provider, customer: User) -> None:
    disabled, unavailable, elsewhere = Service.objects.filter(type=ServiceType.DEFAULT)[:3]
    Service.objects.filter(pk=disabled.pk).update(is_enabled=False)
    Service.objects.filter(pk=unavailable.pk).update(is_available=False)

    assert service_for_order(service_id=disabled.pk, user_id=customer.pk) is None
    assert service_for_order(service_id=unavailable.pk, user_id=customer.pk) is None
    assert service_for_order(service_id=10**9, user_id=customer.pk) is None
    Provider.objects.update(is_enabled=False)
    assert service_for_order(service_id=elsewhere.pk, user_id=customer.pk) is None


def test_api_key_lookup_is_one_query_and_returns_the_whole_user(reseller: User) -> None:
    from django.test.utils import CaptureQueriesContext

    key = api_key_create(user=reseller)
    api_key_authenticate(key=key)  # the first use writes last_used_at

    with CaptureQueriesContext(connection) as queries:
        user = api_key_authenticate(key=key)

    assert len(queries) == 1
    assert model_to_dict(user) == model_to_dict(User.objects.get(pk=reseller.pk))
    assert user.balance == Decimal("100")
