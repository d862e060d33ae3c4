"""Thirty days of finished orders and deposits for the demo, so the dashboard has a past.

The orders go through the same steps as live ones without reaching the sandbox: created and
charged through the ledger, moved to `sent` and finished (Completed, Partial or Canceled, with
its refund) by the order lifecycle, so every balance equals its ledger and every state has its
event. Only the timestamps are moved back afterwards.
"""

import random
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
from orders.lifecycle import By, Delivery, Finish, Kind, dispatch_move, finish
from orders.lifecycle.events import Actor
from orders.models import DispatchState, Order, OrderEvent, OrderStatus, Source
from payments.models import Deposit
from payments.services import deposit_create_manual
from providers.models import PACKAGE_TYPES, Service, ServiceType
from providers.pricing import customer_pricing

EXTRA_CUSTOMERS = ("linh", "minh", "trang", "quang", "hoa", "tuan")


def _backdate(moment: datetime, order_id: int) -> None:
    Order.objects.filter(pk=order_id).update(
        created_at=moment,
        updated_at=moment,
        sending_started_at=moment,
        sent_at=moment,
        finished_at=moment + timedelta(hours=3),
    )
    BalanceTransaction.objects.filter(order_id=order_id).update(created_at=moment)
    OrderEvent.objects.filter(order_id=order_id).update(created_at=moment)


def _final_status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.8:
        return OrderStatus.COMPLETED
    return OrderStatus.PARTIAL if roll < 0.92 else OrderStatus.CANCELED


def _history_order(user: User, service: Service, moment: datetime, rng: random.Random) -> None:
    """Placed, charged, sent and finished through the same services as a live order (the
    lifecycle writes every state and the refund), then moved back to `moment`."""
    quantity = min(max(service.min, rng.choice((500, 1000, 2000, 5000))), service.max)
    is_package = service.type in PACKAGE_TYPES
    rate = customer_pricing(user=user, service_ids=[service.pk]).service_rate(
        service_id=service.pk, rate=service.rate
    )
    charge = pricing.order_charge(rate=rate, units=quantity, is_package=is_package)
    status = _final_status(rng)
    remains_by_status: dict[str, int] = {
        OrderStatus.PARTIAL: quantity // 3,
        OrderStatus.CANCELED: quantity,
    }
    remains = remains_by_status.get(status, 0)
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
        balance_debit(user_id=user.pk, amount=charge, order_id=order.pk, memo=f"Order {order.pk}")
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
                message="Demo history",
                **values,
            )
        finish(
            Kind.ORDER,
            order.pk,
            Finish(status=status, delivery=Delivery(remains=remains)),
            actor=worker,
            message="Demo history",
        )
        _backdate(moment, order.pk)


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
    services = list(
        Service.objects.on_sale()
        .filter(type=ServiceType.DEFAULT)
        .select_related("provider")
        .order_by("pk")[:10]
    )
    if not services:
        return 0
    made = 0
    now = timezone.now()
    for age in range(days, 0, -1):
        day_start = now - timedelta(days=age)
        for user in rng.sample(customers, k=rng.randint(2, len(customers))):
            # seed_demo creates the superuser before the history.
            superuser = cast(User, admin)
            _history_deposit(user, superuser, Decimal(rng.choice((50, 100, 200, 300))), day_start)
            for _ in range(rng.randint(1, 5) + age % 3):
                moment = day_start + timedelta(minutes=rng.randrange(1, 1400))
                try:
                    _history_order(user, rng.choice(services), moment, rng)
                except InsufficientFunds:
                    continue  # this customer spent the day's deposit: history goes on
                made += 1
    return made
