"""Which provider an order goes to, and where it goes when a provider refuses it.

A service without `ServiceRoute` rows goes to its own provider, as imported. With routes, an
order takes a usable route: enabled, its provider enabled with working credentials, its target
still offered upstream, and its cost clearing the margin guard at the service's selling price
(PANEL_MIN_MARGIN_PERCENT, the floor placing checks again with the customer's own charge).
Which usable route (docs/operators.md, "Routes and failover"):

- the service has a `completion_target`: the cheapest route whose scorecard 90th percentile of
  completion (providers.RouteScore, orders.scorecard) is within it; ties by priority;
- none meets it, or there is no target: the first by priority, as the operator ordered them. A
  route without enough orders to measure is unknown rather than slow, and a target nobody meets
  says nothing about which to prefer: the operator's order does, and the admin shows each
  route's figures to reorder by. (Taking the fastest instead would send every order to one
  route, which would starve the others of the orders that measure them.)

Failover happens in one case only: the provider explicitly rejected the `add`
(ProviderRejected, docs/protocol.md "Error classes"). Then nothing was bought, so the next
route in that same ranking may be tried. An unknown outcome never moves to another provider:
the first may have bought it, and a second would buy it twice; it waits for review as before.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from orders import pricing
from orders.enqueue import enqueue
from orders.lifecycle import By, Kind, dispatch_move
from orders.lifecycle.events import Actor
from orders.memos import REROUTED
from orders.models import DispatchState, Order
from providers.markup import clears_margin
from providers.models import PACKAGE_TYPES, Provider, RouteScore, Service, ServiceRoute


@dataclass(frozen=True)
class RouteChoice:
    provider: Provider
    upstream_service_id: str
    upstream_rate: Decimal
    exchange_rate: Decimal
    route: ServiceRoute | None

    def cost(self, *, units: int, is_package: bool) -> Decimal:
        return pricing.upstream_cost(
            upstream_rate=self.upstream_rate,
            units=units,
            is_package=is_package,
            exchange_rate=self.exchange_rate,
        )


def route_cost_rate(route: ServiceRoute) -> Decimal:
    """The route's upstream rate in the panel currency (per 1000, or per package)."""
    return route.target.upstream_rate * route.target.provider.exchange_rate


def is_route_usable(route: ServiceRoute, selling_rate: Decimal) -> bool:
    provider = route.target.provider
    return (
        route.is_enabled
        and route.target.is_available
        and provider.is_enabled
        and provider.credentials_failed_at is None
        and clears_margin(
            price=selling_rate,
            cost=route_cost_rate(route),
            min_margin_percent=settings.PANEL_MIN_MARGIN_PERCENT,
        )
    )


def _completion_p90(route: ServiceRoute) -> int | None:
    try:
        return route.score.complete_p90_seconds
    except RouteScore.DoesNotExist:
        return None


def _meets(route: ServiceRoute, target: timedelta) -> bool:
    p90 = _completion_p90(route)
    return p90 is not None and p90 <= target.total_seconds()


def ranked_routes(service: Service, routes: list[ServiceRoute]) -> list[ServiceRoute]:
    """`service`'s usable routes in the order orders try them (the module's rule). `routes`
    come in priority order."""
    usable = [route for route in routes if is_route_usable(route, service.rate)]
    target = service.completion_target
    if target is None:
        return usable
    meeting = sorted((r for r in usable if _meets(r, target)), key=route_cost_rate)
    return meeting + [route for route in usable if route not in meeting]


def _home(service: Service) -> RouteChoice:
    return RouteChoice(
        provider=service.provider,
        upstream_service_id=service.upstream_id,
        upstream_rate=service.upstream_rate,
        exchange_rate=service.provider.exchange_rate,
        route=None,
    )


def _choice(route: ServiceRoute) -> RouteChoice:
    return RouteChoice(
        provider=route.target.provider,
        upstream_service_id=route.target.upstream_id,
        upstream_rate=route.target.upstream_rate,
        exchange_rate=route.target.provider.exchange_rate,
        route=route,
    )


def route_for(
    service: Service, *, after: ServiceRoute | None = None, has_routes: bool = True
) -> RouteChoice | None:
    """Where an order of `service` goes (after `after`, when that one refused it).

    None when the service has routes and none of them (after `after`) is usable. A caller that
    knows the service has none (`has_routes=False`, from providers' service_for_order) spares
    the query for them.
    """
    if not has_routes:
        return _home(service) if after is None else None
    routes = list(
        ServiceRoute.objects.filter(service=service)
        .select_related("target__provider", "score")
        .order_by("priority", "id")
    )
    if not routes:
        return _home(service) if after is None else None
    ranked = ranked_routes(service, routes)
    if after is not None:
        if after in ranked:
            ranked = ranked[ranked.index(after) + 1 :]
        else:  # no longer usable since it was taken: the routes after it by priority
            ranked = [r for r in ranked if (r.priority, r.pk) > (after.priority, after.pk)]
    return _choice(ranked[0]) if ranked else None


def order_reroute_after_rejection(*, order_id: int, message: str) -> bool:
    """The provider explicitly rejected the order's `add` (it is still `sending`): move it back
    to `queued` on the next usable route and queue its forward. False when the order took no
    route or no later route is usable: the caller fails and refunds it as before.

    Rejected means nothing was bought, which is what makes a second provider safe; that is
    why this is called for ProviderRejected and for nothing else.
    """
    order = Order.objects.select_related("service__provider", "provider", "route").get(pk=order_id)
    choice = route_for(order.service, after=order.route) if order.route_id else None
    if choice is None:
        return False
    moved = dispatch_move(
        Kind.ORDER,
        order.pk,
        from_state=DispatchState.SENDING,
        to_state=DispatchState.QUEUED,
        actor=By(Actor.WORKER),
        message=REROUTED(provider=str(order.provider), error=message, next=str(choice.provider)),
        dispatch_error=message[:500],
        next_dispatch_at=timezone.now(),
        sending_started_at=None,
        provider=choice.provider,
        route=choice.route,
        upstream_service_id=choice.upstream_service_id,
        upstream_rate=choice.upstream_rate,
        exchange_rate=choice.exchange_rate,
        cost=choice.cost(
            units=order.total_quantity, is_package=order.service.type in PACKAGE_TYPES
        ),
    )
    if moved:
        enqueue("order_forward_task", order.pk, provider_id=choice.provider.pk)
    return moved


def route_for_refill(
    service: Service, *, avoid_provider_id: int, quantity: int
) -> RouteChoice | None:
    """Where a refill's missing quantity is ordered when the refill's provider failed it: the
    first usable route (by priority) at another provider whose upstream service takes
    `quantity`, else the service's own provider if that is another one. None: nowhere."""
    routes = (
        ServiceRoute.objects.filter(service=service)
        .exclude(target__provider_id=avoid_provider_id)
        .select_related("target__provider")
        .order_by("priority", "id")
    )
    for route in routes:
        target = route.target
        if is_route_usable(route, service.rate) and target.min <= quantity <= target.max:
            return _choice(route)
    home = service.provider
    if (
        home.pk != avoid_provider_id
        and home.is_enabled
        and home.credentials_failed_at is None
        and service.min <= quantity <= service.max
    ):
        return _home(service)
    return None
