"""The reconciliation's fault run (issue 21, part 2): a day of orders at the sandbox with their
natural ends (completed, partial, canceled), and on planted orders the provider's faults: it
charges more than its price, skips the refund of a canceled or partial order, or gives back a
refund nobody asked for; and once it takes money from the balance outside any order. The
reconciliation must find every planted discrepancy and nothing else.

`python -m bench reconcile` prints the figures; tests/reconciliation/test_fault_run.py runs the
same day at a small size and asserts the found set is exactly the planted one."""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench.common import note, report, reset_tables, timed

PLACES = Decimal("0.0001")


@dataclass
class FaultDay:
    planted: set[tuple[str, int | None]] = field(default_factory=set)
    found: set[tuple[str, int | None]] = field(default_factory=set)
    orders: int = 0
    figures: Any = None
    seconds: float = 0.0


def _control(sandbox: Any, name: str, **body: object) -> Any:
    import httpx

    answer = httpx.post(sandbox.control_url(name), json={"key": "sandbox-key", **body}, timeout=60)
    answer.raise_for_status()
    return answer.json()


def fault_day(
    *, provider: Any, sandbox: Any, clock: Any, user: Any, orders: int, each: int
) -> FaultDay:
    """Run one day against `sandbox` (its clock `clock`): `orders` orders, `each` planted of
    every kind of fault, one balance fault. Returns what was planted and what was found."""
    from django.utils import timezone

    from orders.models import Order, Source
    from orders.services import order_forward, order_place
    from orders.services.polling import ORDERS, poll
    from providers.models import Service, ServiceType
    from reconciliation.models import BalanceSnapshot, MismatchKind
    from reconciliation.services import balance_snapshot_take, provider_day_reconcile

    rng = random.Random(21)
    result = FaultDay(orders=orders)
    today = timezone.localdate()
    opening = balance_snapshot_take(provider=provider, day=today)
    # As if midnight were an hour ago: no refund of this run falls in the opening's lag.
    hour = timedelta(hours=1)
    BalanceSnapshot.objects.filter(pk=opening.pk).update(
        requested_at=opening.requested_at - hour, answered_at=opening.answered_at - hour
    )
    services = list(
        Service.objects.filter(provider=provider, type=ServiceType.DEFAULT, quantity_step=1)
    )
    placed = []
    for number in range(orders):
        service = rng.choice(services)
        quantity = rng.randint(service.min, min(service.max, service.min * 20))
        order = order_place(
            user=user,
            service_id=service.pk,
            fields={"link": f"https://instagram.com/p/fault{number}", "quantity": str(quantity)},
            source=Source.API,
        )
        assert order_forward(order_id=order.pk) == "sent"
        placed.append(Order.objects.get(pk=order.pk))
    victims = rng.sample(placed, 3 * each)
    for order in victims[:each]:
        price = order.upstream_rate * order.total_quantity / 1000
        extra = max(price / 10, Decimal("0.02")).quantize(PLACES)
        _control(sandbox, "misreport", order=int(order.upstream_id), extra_charge=str(extra))
        _control(sandbox, "force", order=int(order.upstream_id), status="Completed")
        result.planted.add((MismatchKind.OVERCHARGED, order.pk))
    for index, order in enumerate(victims[each : 2 * each]):
        _control(sandbox, "misreport", order=int(order.upstream_id), skip_refund=True)
        ending = "Canceled" if index % 2 == 0 else "Partial"
        _control(sandbox, "force", order=int(order.upstream_id), status=ending)
        result.planted.add((MismatchKind.REFUND_MISSING, order.pk))
    for order in victims[2 * each :]:
        price = order.upstream_rate * order.total_quantity / 1000
        given = max(price / 5, Decimal("0.02")).quantize(PLACES)
        _control(sandbox, "force", order=int(order.upstream_id), status="Completed")
        _control(sandbox, "misreport", order=int(order.upstream_id), refund=str(given))
        result.planted.add((MismatchKind.REFUND_KEPT, order.pk))
    # A fee outside any order: 1 % of the day's charges, twice the balance tolerance's default.
    day_price = sum(order.upstream_rate * order.total_quantity / 1000 for order in placed)
    _control(sandbox, "balance_adjust", amount=str(-(day_price / 100).quantize(PLACES)))
    result.planted.add((MismatchKind.BALANCE, None))
    # Every other order runs to its natural end (the sandbox's fates), then is polled.
    clock.advance(3600)
    while Order.objects.exclude(status__in=["Completed", "Partial", "Canceled"]).exists():
        Order.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
        poll(ORDERS, provider)
    balance_snapshot_take(provider=provider, day=today + timedelta(days=1))
    with timed() as spent:
        day = provider_day_reconcile(provider=provider, day=today)
    result.seconds = spent[0]
    result.figures = day
    result.found = {(flag.kind, flag.order_id) for flag in day.mismatches.all()}
    return result


def run(*, orders: int, each: int) -> None:
    from orders.models import Order
    from providers.services import catalog_sync, provider_create
    from sandbox import SandboxConfig, SandboxServer
    from tests.factories import UserFactory
    from tests.support import FakeClock

    reset_tables()
    clock = FakeClock()
    config = SandboxConfig(
        services=40, products=0, seed=21, clock=clock, partial_rate=0.2, cancel_rate=0.1
    )
    with SandboxServer(config, port=0) as sandbox:
        provider = provider_create(
            name="Bench", api_url=sandbox.url, api_key="sandbox-key", markup_percent=Decimal(25)
        )
        catalog_sync(provider=provider)
        user = UserFactory(username="bench-books", funds=Decimal(10**9))
        day = fault_day(
            provider=provider, sandbox=sandbox, clock=clock, user=user, orders=orders, each=each
        )
    ends = dict.fromkeys(("Completed", "Partial", "Canceled"), 0)
    for status in Order.objects.values_list("status", flat=True):
        ends[status] += 1
    figures = day.figures
    note(
        f"{day.orders} orders ({', '.join(f'{k} {v}' for k, v in ends.items())}); "
        f"charges {figures.charges_expected}, refunds {figures.refunds_expected}, "
        f"balance spent {figures.balance_spent}, orders differ by {figures.orders_difference}, "
        f"unexplained {figures.balance_difference} {figures.currency}"
    )
    for kind, order_id in sorted(day.planted, key=str):
        mark = "found" if (kind, order_id) in day.found else "MISSED"
        note(f"planted {kind} {'order ' + str(order_id) if order_id else 'balance'}: {mark}")
    for kind, order_id in sorted(day.found - day.planted, key=str):
        note(f"NOT PLANTED but flagged: {kind} {order_id}")
    report("reconcile_orders", day.orders, "orders")
    report("reconcile_planted", len(day.planted), "discrepancies")
    report("reconcile_found_planted", len(day.found & day.planted), "discrepancies")
    report("reconcile_missed", len(day.planted - day.found), "discrepancies")
    report("reconcile_false_flags", len(day.found - day.planted), "discrepancies")
    report("reconcile_day", day.seconds, "s")
    if day.found != day.planted:
        raise SystemExit("the reconciliation did not find exactly the planted set")
