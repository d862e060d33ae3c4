"""The reads of every API `add` (core/db/reads.py): one query each, typed results, and the
values a queryset would give."""

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate, api_key_create
from core.db.reads import ServiceForOrder, api_key_lookup, rows_digest
from providers.models import PriceOverride, Provider, Service, ServiceRoute, ServiceType
from providers.selectors import service_for_order
from tests.factories import UserFactory


def test_service_for_order_reads_the_provider_the_users_rate_and_routes(
    catalog: Provider, customer: User
) -> None:
    plain, overridden, routed, target = Service.objects.filter(type=ServiceType.DEFAULT)[:4]
    PriceOverride.objects.create(user=customer, service=overridden, rate=Decimal("0.5"))
    ServiceRoute.objects.create(service=routed, target=target, priority=1)

    with CaptureQueriesContext(connection) as queries:
        found = {
            s.pk: service_for_order(service_id=s.pk, user_id=customer.pk, child_panel_id=None)
            for s in (plain, overridden, routed)
        }

    assert len(queries) == 3
    assert all(isinstance(read, ServiceForOrder) for read in found.values())
    assert model_to_dict(found[plain.pk].service) == model_to_dict(plain)
    assert found[plain.pk].service.provider == catalog
    assert found[plain.pk].service.provider.exchange_rate == catalog.exchange_rate
    assert [found[pk].customer_override for pk in found] == [None, Decimal("0.5"), None]
    assert [found[pk].has_routes for pk in found] == [False, False, True]
    # the facts travel beside the service, never on it
    assert not hasattr(found[plain.pk].service, "customer_override")
    assert not hasattr(found[plain.pk].service, "has_routes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[plain.pk].has_routes = True  # type: ignore[misc]
    # someone else's own rate is not this customer's
    other = UserFactory()
    assert (
        service_for_order(
            service_id=overridden.pk, user_id=other.pk, child_panel_id=None
        ).customer_override
        is None
    )


def test_service_for_order_finds_nothing_off_sale(catalog: Provider, customer: User) -> None:
    disabled, unavailable, elsewhere = Service.objects.filter(type=ServiceType.DEFAULT)[:3]
    Service.objects.filter(pk=disabled.pk).update(is_enabled=False)
    Service.objects.filter(pk=unavailable.pk).update(is_available=False)

    assert (
        service_for_order(service_id=disabled.pk, user_id=customer.pk, child_panel_id=None) is None
    )
    assert (
        service_for_order(service_id=unavailable.pk, user_id=customer.pk, child_panel_id=None)
        is None
    )
    assert service_for_order(service_id=10**9, user_id=customer.pk, child_panel_id=None) is None
    Provider.objects.update(is_enabled=False)
    assert (
        service_for_order(service_id=elsewhere.pk, user_id=customer.pk, child_panel_id=None) is None
    )


def test_api_key_lookup_is_one_query_and_returns_the_whole_user(reseller: User) -> None:
    key = api_key_create(user=reseller)
    api_key_authenticate(key=key)  # the first use writes last_used_at

    with CaptureQueriesContext(connection) as queries:
        user = api_key_authenticate(key=key)

    assert len(queries) == 1
    assert model_to_dict(user) == model_to_dict(User.objects.get(pk=reseller.pk))
    assert user.balance == Decimal("100")


def test_a_key_used_long_ago_is_recorded_once_a_minute_as_an_aware_time(reseller: User) -> None:
    # given: a key last used an hour ago
    key = api_key_create(user=reseller)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiKey.objects.update(last_used_at=an_hour_ago)

    # when: it is used twice in a row
    assert api_key_authenticate(key=key) == reseller
    recorded = ApiKey.objects.get().last_used_at
    assert api_key_authenticate(key=key) == reseller

    # then: the first use is recorded, the second (a moment later) writes nothing
    assert isinstance(recorded, datetime) and recorded.tzinfo is not None
    assert recorded > an_hour_ago
    assert ApiKey.objects.get().last_used_at == recorded


def test_rows_digest_moves_with_any_value_of_the_fields_and_not_with_the_order(
    catalog: Provider,
) -> None:
    services = Service.objects.filter(provider=catalog)
    fields = ["pk", "name", "rate", "markup_percent"]
    first = services.order_by("pk").first()
    before = rows_digest(services, fields)

    assert rows_digest(services.order_by("-rate"), fields) == before
    assert before.startswith(f"{services.count()}:")
    Service.objects.filter(pk=first.pk).update(markup_percent=Decimal(0))
    assert rows_digest(services, fields) != before
    Service.objects.filter(pk=first.pk).update(markup_percent=None, average_time_seconds=60)
    assert rows_digest(services, fields) == before  # a field left out does not count
    assert rows_digest(services.none(), fields) == rows_digest(services.filter(pk=0), fields)


def test_the_key_with_the_service_reads_what_the_two_reads_read_in_one_query(
    catalog: Provider, reseller: User
) -> None:
    from accounts import keys
    from providers.selectors import api_key_with_service_for_order

    plain, overridden, routed, target, disabled = Service.objects.filter(type=ServiceType.DEFAULT)[
        :5
    ]
    PriceOverride.objects.create(user=reseller, service=overridden, rate=Decimal("0.5"))
    ServiceRoute.objects.create(service=routed, target=target, priority=1)
    Service.objects.filter(pk=disabled.pk).update(is_enabled=False)
    key = api_key_create(user=reseller)
    prefix = keys.lookup_prefix(key)
    alone = api_key_lookup(keys=ApiKey, users=User, prefix=prefix)

    for service in (plain, overridden, routed):
        with CaptureQueriesContext(connection) as queries:
            read = api_key_with_service_for_order(prefix=prefix, service_id=service.pk)
        separate = service_for_order(
            service_id=service.pk, user_id=reseller.pk, child_panel_id=None
        )

        assert len(queries) == 1
        assert read is not None and read.key == alone
        assert model_to_dict(read.key.user) == model_to_dict(alone.user)
        assert read.service is not None and separate is not None
        assert model_to_dict(read.service.service) == model_to_dict(separate.service)
        assert model_to_dict(read.service.service.provider) == model_to_dict(
            separate.service.provider
        )
        assert (read.service.customer_override, read.service.has_routes) == (
            separate.customer_override,
            separate.has_routes,
        )
    # off sale, or no such service: the key still, no service
    for service_id in (disabled.pk, 10**9):
        read = api_key_with_service_for_order(prefix=prefix, service_id=service_id)
        assert read is not None and read.key == alone and read.service is None
    # no such key (or a revoked one): nothing, whatever the service
    assert api_key_with_service_for_order(prefix="smm_nosuchkey", service_id=plain.pk) is None
    ApiKey.objects.update(revoked_at=timezone.now())
    assert api_key_with_service_for_order(prefix=prefix, service_id=plain.pk) is None
