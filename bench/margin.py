"""The margin guard under a moving catalog (issue 21): the sandbox raises 10 % of the services
past the margin and removes 1 %; after one sync no order is accepted at a loss and every changed
service is held or off sale. Prints the sync's time beside an unchanged re-sync's."""

from decimal import Decimal

from bench.common import count_queries, note, report, reset_tables, timed

# 25 % markup: a cost raised by 25 % meets the old price, far below the 5 % margin.
RAISE = "1.25"


def run(*, services: int) -> None:
    import httpx
    from django.conf import settings

    from core.errors import PanelError
    from orders.models import Order
    from orders.services import order_place
    from providers.models import Service, ServiceType
    from providers.services import catalog_sync, provider_client, provider_create
    from sandbox import SandboxConfig, SandboxServer
    from tests.factories import UserFactory

    reset_tables()
    with SandboxServer(SandboxConfig(services=services, products=0, seed=3), port=0) as sandbox:
        provider = provider_create(
            name="Bench", api_url=sandbox.url, api_key="sandbox-key", markup_percent=Decimal(25)
        )
        catalog_sync(provider=provider)
        with timed() as same:
            catalog_sync(provider=provider)
        upstream_ids = sorted(
            int(item.upstream_id) for item in provider_client(provider).services()
        )
        raised = httpx.post(
            sandbox.control_url("reprice"),
            json={"key": "sandbox-key", "share": 0.1, "factor": RAISE},
            timeout=60,
        ).json()["changed"]
        raised_ids = {str(row["service"]) for row in raised}
        # 1 % of the catalog, spread over it, none of them among the raised.
        untouched = [str(i) for i in upstream_ids if str(i) not in raised_ids]
        share = max(1, len(upstream_ids) // 100)
        removed_ids = set(untouched[:: max(1, len(untouched) // share)][:share])
        httpx.post(
            sandbox.control_url("remove"),
            json={"key": "sandbox-key", "services": [int(i) for i in removed_ids]},
            timeout=60,
        )
        with count_queries() as queries, timed() as changed:
            summary = catalog_sync(provider=provider)

    mine = Service.objects.filter(provider=provider)
    changed_ids = raised_ids | removed_ids
    not_guarded = (
        mine.filter(upstream_id__in=changed_ids).on_sale().count()
        + mine.filter(upstream_id__in=removed_ids, rate__lte=0).count()
    )
    # Try to buy every changed service of the plain type, and as many unchanged ones.
    buyer = UserFactory(username="bench-buyer", funds=Decimal(10**9))
    plain = mine.filter(type=ServiceType.DEFAULT, quantity_step=1)
    targets = list(plain.filter(upstream_id__in=changed_ids))
    targets += list(plain.exclude(upstream_id__in=changed_ids)[: len(targets)])
    refused = 0
    with timed() as placing:
        for service in targets:
            try:
                order_place(
                    user=buyer,
                    service_id=service.pk,
                    fields={"link": "https://instagram.com/p/bench", "quantity": str(service.max)},
                )
            except PanelError:
                refused += 1
    margin = (100 + settings.PANEL_MIN_MARGIN_PERCENT) / Decimal(100)
    at_a_loss = sum(1 for o in Order.objects.all() if o.charge < o.cost * margin)
    note(
        f"catalog of {services}: {len(raised_ids)} raised, {len(removed_ids)} removed; "
        f"sync: {summary.services}; {len(targets)} orders tried, {refused} refused"
    )
    report("margin_sync_10pct_raised_1pct_removed", changed[0], "s")
    report("margin_sync_10pct_raised_1pct_removed_queries", queries[0], "queries")
    report("margin_resync_unchanged", same[0], "s")
    report("margin_changed_services_still_on_sale", not_guarded, "services")
    report("margin_orders_accepted_at_a_loss", at_a_loss, "orders")
    report("margin_order_attempts_per_second", len(targets) / placing[0], "orders/s")
    if not_guarded or at_a_loss:
        raise SystemExit("margin guard failed: see the figures above")
