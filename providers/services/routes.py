"""Routes: mapping a service to other providers' catalog entries, and keeping their costs.

Which route an order takes is decided in orders.services.routing; here routes are written and
their costs kept current by every catalog sync and reprice.
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import InvalidRequest
from core.money import money_str, quantize_money
from providers.models import CatalogChange, Provider, Service, ServiceRoute

HOME_PRIORITY = 0


def _cost_rate(target: Service) -> Decimal:
    return quantize_money(target.upstream_rate * target.provider.exchange_rate)


def route_check(*, service: Service, target: Service) -> None:
    """Raises InvalidRequest when `target` cannot serve `service`."""
    if target.type != service.type:
        raise InvalidRequest(
            f"The target is a {target.type} service; {service} is {service.type}: "
            "orders would carry the wrong fields"
        )
    if ServiceRoute.objects.filter(service=service, target=target).exists():
        raise InvalidRequest("This service already has a route to that target")


def route_add(
    *, service: Service, target: Service, priority: int = 10, is_enabled: bool = True
) -> ServiceRoute:
    """Route `service` to `target` (a provider's imported service of the same type).

    The first route of a service also gets a route to the service's own provider (priority 0),
    so adding a backup never takes orders away from the provider that had them.
    """
    route_check(service=service, target=target)
    with transaction.atomic():
        Service.objects.select_for_update().filter(pk=service.pk).first()  # serialises adds
        if target != service and not ServiceRoute.objects.filter(service=service).exists():
            _create(service, service, HOME_PRIORITY, True)
        return _create(service, target, priority, is_enabled)


def _create(service: Service, target: Service, priority: int, is_enabled: bool) -> ServiceRoute:
    cost = _cost_rate(target)
    return ServiceRoute.objects.create(
        service=service,
        target=target,
        priority=priority,
        is_enabled=is_enabled,
        cost_rate=cost,
        is_profitable=cost < service.rate,
    )


def route_update(*, route: ServiceRoute, priority: int, is_enabled: bool) -> ServiceRoute:
    ServiceRoute.objects.filter(pk=route.pk).update(
        priority=priority, is_enabled=is_enabled, updated_at=timezone.now()
    )
    route.priority, route.is_enabled = priority, is_enabled
    return route


def routes_refresh(*, provider: Provider | None = None, now: datetime | None = None) -> int:
    """Recompute each route's cost from its target's last imported rate; log every route that
    turns unprofitable (cost at or above the selling price) in the catalog change log, for
    admins only. `provider` narrows it to routes that sell or buy through that provider.
    Returns how many routes turned unprofitable."""
    now = now or timezone.now()
    routes = ServiceRoute.objects.select_related("service", "target__provider")
    if provider is not None:
        routes = routes.filter(Q(target__provider=provider) | Q(service__provider=provider))
    updates, changes = [], []
    for route in routes:
        cost = _cost_rate(route.target)
        is_profitable = cost < route.service.rate
        if (cost, is_profitable) == (route.cost_rate, route.is_profitable):
            continue
        if route.is_profitable and not is_profitable:
            changes.append(_unprofitable_change(route, cost, now))
        route.cost_rate, route.is_profitable, route.updated_at = cost, is_profitable, now
        updates.append(route)
    ServiceRoute.objects.bulk_update(updates, ["cost_rate", "is_profitable", "updated_at"])
    CatalogChange.objects.bulk_create(changes)
    return len(changes)


def _unprofitable_change(route: ServiceRoute, cost: Decimal, now: datetime) -> CatalogChange:
    target = route.target
    return CatalogChange(
        provider=target.provider,
        service=route.service,
        kind=CatalogChange.Kind.CHANGED,
        field="route",
        old_value=f"{target.provider} #{target.upstream_id}: profitable",
        new_value=(
            f"{target.provider} #{target.upstream_id}: unprofitable, cost "
            f"{money_str(cost)} ≥ price {money_str(route.service.rate)}"
        )[:500],
        is_public=False,
        created_at=now,
    )
