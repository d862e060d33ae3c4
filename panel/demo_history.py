"""Thirty days of finished orders and deposits for the demo, so the dashboard has a past.

The orders go through the same steps as live ones without reaching the sandbox: created and
charged through the ledger, moved to `sent` and finished (Completed, Partial or Canceled, with
its refund) by the order lifecycle, so every balance equals its ledger and every state has its
event. Only the timestamps are moved back afterwards.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from accounts.services import balance_debit, user_create_customer
from core.errors import InsufficientFunds
from notifications.services import preferences_update
from orders import pricing
from orders.lifecycle import By, Delivery, Finish, Kind, dispatch_move, finish, status_start
from orders.lifecycle.events import Actor
from orders.memos import ORDER_CHARGE
from orders.models import (
    DispatchState,
    Order,
    OrderEvent,
    OrderStatus,
    Refill,
    RefillStatus,
    Source,
)
from panel.demo_money import demo_amount
from payments.models import Deposit
from payments.services import deposit_create_manual
from providers.models import PACKAGE_TYPES, Service, ServiceType
from providers.pricing import customer_pricing

EXTRA_CUSTOMERS = ("linh", "minh", "trang", "quang", "hoa", "tuan")


@dataclass(frozen=True)
class Pace:
    """How fast a demo service runs: the usual wait before it starts, and the usual time per
    1,000 units (per order for packages), each order drawn around them."""

    start_minutes: float
    per_1000_minutes: float

    def times(self, quantity: int, is_package: bool, rng: random.Random) -> tuple[int, int]:
        """Seconds to the start and to completion of one order."""
        start = self.start_minutes * 60 * rng.lognormvariate(0, 0.6)
        units = 1 if is_package else quantity / 1000
        run = self.per_1000_minutes * 60 * units * rng.lognormvariate(0, 0.4)
        return round(start), round(start + run)


def _pace(service: Service) -> Pace:
    # Drawn from the service's id, so each service keeps its pace from one seeding to the next.
    rng = random.Random(service.pk)
    return Pace(
        start_minutes=rng.choice((2, 5, 10, 15, 30, 60)),
        per_1000_minutes=rng.choice((20, 45, 90, 180, 360)),
    )


def _backdate(moment: datetime, order_id: int, started: int, finished: int) -> None:
    Order.objects.filter(pk=order_id).update(
        created_at=moment,
        updated_at=moment,
        sending_started_at=moment,
        sent_at=moment,
        finished_at=moment + timedelta(seconds=finished),
    )
    BalanceTransaction.objects.filter(order_id=order_id).update(created_at=moment)
    events = OrderEvent.objects.filter(order_id=order_id)
    events.update(created_at=moment)
    events.filter(field="status", new_value=OrderStatus.IN_PROGRESS).update(
        created_at=moment + timedelta(seconds=started)
    )
    events.filter(field="status", new_value__in=OrderStatus.finals()).update(
        created_at=moment + timedelta(seconds=finished)
    )


def _final_status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.8:
        return OrderStatus.COMPLETED
    return OrderStatus.PARTIAL if roll < 0.92 else OrderStatus.CANCELED


def _history_order(
    user: User, service: Service, moment: datetime, rng: random.Random, pace: Pace
) -> None:
    """Placed, charged, sent and finished through the same services as a live order (the
    lifecycle writes every state and the refund), then moved back to `moment`."""
    quantity = min(max(service.min, rng.choice((500, 1000, 2000, 5000))), service.max)
    is_package = service.type in PACKAGE_TYPES
    rate = customer_pricing(user=user, service_ids=[service.pk]).service_rate(
        service_id=service.pk, rate=service.rate
    )
    charge = pricing.order_charge(rate=rate, units=quantity, is_package=is_package)
    status = _final_status(rng)
    if status == OrderStatus.PARTIAL and service.type != ServiceType.DEFAULT:
        # Other types measure a Partial by their own fields (comments, posts), which the
        # history does not write.
        status = OrderStatus.COMPLETED
    remains_by_status: dict[str, int] = {
        OrderStatus.PARTIAL: quantity // 3,
        OrderStatus.CANCELED: quantity,
    }
    remains = remains_by_status.get(status, 0)
    started, finished = pace.times(quantity, is_package, rng)
    # Nothing finishes in the future: a late order of the last day is placed earlier instead.
    moment = min(moment, timezone.now() - timedelta(seconds=finished, hours=1))
    worker = By(Actor.WORKER)
    with transaction.atomic():
        order = Order.objects.create(
            user=user,
            service=service,
            provider=service.provider,
            upstream_service_id=service.upstream_id,
            link=f"https://www.instagram.com/p/demo{rng.randrange(10**6)}/",
            quantity=quantity,
            total_quantity=quantity,
            charge=charge,
            upstream_rate=service.upstream_rate,
            exchange_rate=service.provider.exchange_rate,
            cost=pricing.upstream_cost(
                upstream_rate=service.upstream_rate,
                units=quantity,
                is_package=is_package,
                exchange_rate=service.provider.exchange_rate,
            ),
            remains=quantity,
            source=rng.choice((Source.WEB, Source.API)),
        )
        balance_debit(
            user_id=user.pk,
            amount=charge,
            order_id=order.pk,
            memo=ORDER_CHARGE(id=order.pk, item=service.display_name[:200]),
        )
        moves: tuple[tuple[str, str, dict[str, Any]], ...] = (
            (DispatchState.QUEUED, DispatchState.SENDING, {}),
            (DispatchState.SENDING, DispatchState.SENT, {"upstream_id": f"demo-{order.pk}"}),
        )
        for old, new, values in moves:
            dispatch_move(
                Kind.ORDER,
                order.pk,
                from_state=old,
                to_state=new,
                actor=worker,
                **values,
            )
        if status != OrderStatus.CANCELED:
            status_start(order.pk, to_status=OrderStatus.IN_PROGRESS, actor=worker)
        finish(
            Kind.ORDER,
            order.pk,
            Finish(status=status, delivery=Delivery(remains=remains)),
            actor=worker,
        )
        _backdate(moment, order.pk, started, finished)
        if status == OrderStatus.COMPLETED and service.has_refill and rng.random() < 0.9:
            _history_refill(order, moment + timedelta(seconds=finished), rng)


def _history_refill(order: Order, moment: datetime, rng: random.Random) -> None:
    """A refill of a completed order, asked for and finished through the lifecycle (most are
    done, some rejected, as providers do), moved back to `moment`."""
    worker = By(Actor.WORKER)
    refill = Refill.objects.create(order=order, user=order.user, provider=order.provider)
    moves: tuple[tuple[str, str, dict[str, Any]], ...] = (
        (DispatchState.QUEUED, DispatchState.SENDING, {}),
        (DispatchState.SENDING, DispatchState.SENT, {"upstream_id": f"demo-r{order.pk}"}),
    )
    for old, new, values in moves:
        dispatch_move(Kind.REFILL, refill.pk, from_state=old, to_state=new, actor=worker, **values)
    status = RefillStatus.COMPLETED if rng.random() < 0.85 else RefillStatus.REJECTED
    finish(Kind.REFILL, refill.pk, Finish(status=status), actor=worker)
    Refill.objects.filter(pk=refill.pk).update(
        created_at=moment, updated_at=moment, sending_started_at=moment, sent_at=moment
    )
    OrderEvent.objects.filter(refill_id=refill.pk).update(created_at=moment)


def _history_deposit(user: User, admin: User, amount: Decimal, moment: datetime) -> None:
    """A credited deposit (the admin's manual gateway: the demo has no real payments)."""
    deposit = deposit_create_manual(
        user_id=user.pk, amount=amount, memo="Demo deposit", admin=admin
    )
    Deposit.objects.filter(pk=deposit.pk).update(
        created_at=moment, credited_at=moment, updated_at=moment
    )
    BalanceTransaction.objects.filter(deposit_id=deposit.pk).update(created_at=moment)


def _customers(days: int, rng: random.Random) -> list[User]:
    customers = list(User.objects.filter(username__in=("demo", "reseller")))
    for name in EXTRA_CUSTOMERS:
        if User.objects.filter(username=name).exists():
            continue
        user = user_create_customer(username=name, email=f"{name}@example.com")
        joined = timezone.now() - timedelta(days=rng.randrange(days), hours=rng.randrange(24))
        User.objects.filter(pk=user.pk).update(date_joined=joined)
        customers.append(user)
    for user in customers:
        # Demo addresses are example.com: the order emails their history would queue go nowhere.
        preferences_update(user=user, email_kinds=[])
    return customers


def seed_demo_history(*, days: int = 30, seed: int = 30) -> int:
    """Deposits and finished orders for each of the last `days` days; returns the orders made."""
    rng = random.Random(seed)
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    customers = _customers(days, rng)
    # Every service on sale gets a past, so the scorecard has figures for each (issue 23).
    services = list(Service.objects.on_sale().select_related("provider").order_by("pk"))
    if not services:
        return 0
    paces = {service.pk: _pace(service) for service in services}
    made = turn = 0
    now = timezone.now()
    for age in range(days, 0, -1):
        day_start = now - timedelta(days=age)
        for user in rng.sample(customers, k=rng.randint(2, len(customers))):
            # seed_demo creates the superuser before the history.
            superuser = cast(User, admin)
            _history_deposit(
                user, superuser, demo_amount(rng.choice((50, 100, 200, 300))), day_start
            )
            for _ in range(rng.randint(2, 6) + age % 3):
                moment = day_start + timedelta(minutes=rng.randrange(1, 1400))
                # In turn rather than at random: every service gets its share of the past.
                service = services[turn % len(services)]
                turn += 1
                try:
                    _history_order(user, service, moment, rng, paces[service.pk])
                except InsufficientFunds:
                    continue  # this customer spent the day's deposit: history goes on
                made += 1
    return made
