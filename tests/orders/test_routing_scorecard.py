"""Routing by the scorecard: the cheapest route whose 90th percentile meets the service's
target, priority order when none does, never a route below the margin guard, and failover on
rejection walking the same ranking."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.services.routing import route_for
from providers.models import Provider, RouteScore, Service, ServiceRoute, ServiceType
from providers.services import provider_create, route_add
from sandbox import SandboxServer

HOUR = 3600


@pytest.fixture
def service(catalog: Provider) -> Service:
    return Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()


def _route(
    service: Service, sandbox: SandboxServer, name: str, *, cost_share: str, priority: int
) -> ServiceRoute:
    """A route to another provider's copy of `service` costing `cost_share` of its price."""
    provider = provider_create(name=name, api_url=sandbox.url, api_key="sandbox-key")
    target = Service.objects.get(pk=service.pk)
    target.pk = None
    target.provider = provider
    target.upstream_rate = (service.rate * Decimal(cost_share)).quantize(Decimal("0.0001"))
    target.save()
    return route_add(service=service, target=target, priority=priority)


def _score(route: ServiceRoute, p90_hours: float | None) -> None:
    RouteScore.objects.update_or_create(
        route=route,
        defaults={
            "complete_p90_seconds": None if p90_hours is None else round(p90_hours * HOUR),
            "computed_at": timezone.now(),
        },
    )


def _target(service: Service, hours: int | None) -> Service:
    service.completion_target = None if hours is None else timedelta(hours=hours)
    service.save(update_fields=["completion_target"])
    return Service.objects.get(pk=service.pk)


@pytest.fixture
def routes(service: Service, sandbox: SandboxServer) -> dict[str, ServiceRoute]:
    """Home (priority 0, the import's cost), `dear` (priority 5, 90 % of the price) and `cheap`
    (priority 10, 50 %)."""
    dear = _route(service, sandbox, "Dear", cost_share="0.9", priority=5)
    cheap = _route(service, sandbox, "Cheap", cost_share="0.5", priority=10)
    home = ServiceRoute.objects.get(service=service, target=service)
    return {"home": home, "dear": dear, "cheap": cheap}


def _chosen(service: Service, after: ServiceRoute | None = None) -> ServiceRoute | None:
    choice = route_for(service, after=after)
    return None if choice is None else choice.route


def test_without_a_target_routes_go_in_priority_order(
    service: Service, routes: dict[str, ServiceRoute]
) -> None:
    _score(routes["cheap"], 1)

    assert _chosen(service) == routes["home"]


def test_the_cheapest_route_meeting_the_target_wins_over_priority(
    service: Service, routes: dict[str, ServiceRoute]
) -> None:
    # given a 4 h target: home is too slow, dear and cheap both meet it
    _score(routes["home"], 9)
    _score(routes["dear"], 2)
    _score(routes["cheap"], 3.5)
    # when / then
    assert _chosen(_target(service, 4)) == routes["cheap"]


def test_a_cheaper_route_missing_the_target_is_passed_over(
    service: Service, routes: dict[str, ServiceRoute]
) -> None:
    _score(routes["dear"], 2)
    _score(routes["cheap"], 5)
    _score(routes["home"], None)  # not enough orders: unknown, so not meeting it

    assert _chosen(_target(service, 4)) == routes["dear"]


def test_when_no_route_meets_the_target_priority_decides(
    service: Service, routes: dict[str, ServiceRoute]
) -> None:
    _score(routes["home"], 8)
    _score(routes["dear"], 6)
    _score(routes["cheap"], 5)

    assert _chosen(_target(service, 4)) == routes["home"]


def test_a_route_below_the_margin_guard_is_never_taken(
    service: Service,
    routes: dict[str, ServiceRoute],
    settings,  # noqa: ANN001
) -> None:
    # given a 15 % minimum margin: `dear` costs 90 % of the price, so it no longer clears it
    settings.PANEL_MIN_MARGIN_PERCENT = Decimal(15)
    _score(routes["dear"], 1)
    _score(routes["cheap"], 10)
    _score(routes["home"], 10)
    # when / then: the only one meeting the target is below the margin; priority decides
    service = _target(service, 4)
    assert _chosen(service) == routes["home"]
    assert routes["dear"] not in [
        _chosen(service),
        _chosen(service, after=routes["home"]),
        _chosen(service, after=routes["cheap"]),
    ]


def test_failover_after_a_rejection_walks_the_same_ranking(
    service: Service, routes: dict[str, ServiceRoute]
) -> None:
    # given the ranking cheap (meets, cheapest), dear (meets), then home (by priority)
    _score(routes["cheap"], 1)
    _score(routes["dear"], 2)
    _score(routes["home"], 9)
    service = _target(service, 4)
    # when each rejects in turn / then
    assert _chosen(service) == routes["cheap"]
    assert _chosen(service, after=routes["cheap"]) == routes["dear"]
    assert _chosen(service, after=routes["dear"]) == routes["home"]
    assert _chosen(service, after=routes["home"]) is None


def test_failover_without_a_target_is_unchanged(
    service: Service, routes: dict[str, ServiceRoute]
) -> None:
    assert _chosen(service, after=routes["home"]) == routes["dear"]
    assert _chosen(service, after=routes["dear"]) == routes["cheap"]
    assert _chosen(service, after=routes["cheap"]) is None
