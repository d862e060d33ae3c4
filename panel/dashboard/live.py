"""What the dashboard reads live, not from the rollup: what needs hands and provider health.

Every count here runs on a partial or small index (needs review, in flight, the last hour of
`add` calls, providers, services on sale), so it stays fast however many orders exist.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    Refill,
    ReviewReason,
)
from orders.selectors import RefillSuccess, refill_success_rates
from panel.dashboard.hooks import app_hooks
from providers.models import Product, Provider, ProviderCall, Service, ServiceRoute

LAST_HOUR = timedelta(hours=1)
REFILL_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class HandsItem:
    label: str
    count: int
    url: str


def _changelist(name: str, query: str = "") -> str:
    return reverse(f"admin:{name}_changelist") + (f"?{query}" if query else "")


def _needs_review() -> list[HandsItem]:
    """Rows waiting for a person, per kind and review reason (orders.models.ReviewReason)."""
    items: list[HandsItem] = []
    for model, name, label in (
        (Order, "orders_order", _("Orders needing review")),
        (ProductOrder, "orders_productorder", _("Product orders needing review")),
        (Refill, "orders_refill", _("Refills needing review")),
    ):
        rows = (
            model.objects.filter(dispatch_state=DispatchState.NEEDS_REVIEW)
            .values_list("review_reason")
            .annotate(n=Count("*"))
            .order_by("review_reason")
        )
        query = "dispatch_state__exact=needs_review"
        for reason, count in rows:
            reason_label = ReviewReason(reason).label if reason else _("no reason recorded")
            items.append(
                HandsItem(
                    f"{label}: {reason_label}",
                    count,
                    _changelist(name, f"{query}&review_reason__exact={reason}"),
                )
            )
        if not rows:
            items.append(HandsItem(str(label), 0, _changelist(name, query)))
    return items


def losing_services() -> QuerySet[Service]:
    """Services on sale whose upstream cost (in the panel currency) is not below their price."""
    return Service.objects.on_sale().filter(
        rate__lte=F("upstream_rate") * F("provider__exchange_rate")
    )


def hands() -> list[HandsItem]:
    items = _needs_review()
    providers = Provider.objects.filter(is_enabled=True)
    items += [
        HandsItem(
            str(_("Providers with a low balance")),
            providers.filter(balance__lt=F("low_balance_threshold")).count(),
            _changelist("providers_provider", "health=low_balance"),
        ),
        HandsItem(
            str(_("Providers refusing the panel's key")),
            providers.filter(credentials_failed_at__isnull=False).count(),
            _changelist("providers_provider", "health=key_refused"),
        ),
        HandsItem(
            str(_("Services whose cost is not below their price")),
            losing_services().count(),
            _changelist("providers_service", "margin=losing"),
        ),
        HandsItem(
            str(_("Services held by the margin guard")),
            Service.objects.held().count(),
            reverse("admin:providers_service_held"),
        ),
        HandsItem(
            str(_("Unprofitable routes")),
            ServiceRoute.objects.filter(is_enabled=True, is_profitable=False).count(),
            _changelist("providers_serviceroute", "is_profitable__exact=0&is_enabled__exact=1"),
        ),
    ]
    if products_held := Product.objects.held().count():  # shops without products never see it
        items.append(
            HandsItem(
                str(_("Products held by the margin guard")),
                products_held,
                reverse("admin:providers_product_held"),
            )
        )
    for hook in app_hooks("hands"):
        items += [HandsItem(str(i["label"]), int(i["count"]), str(i["url"])) for i in hook()]
    return items


@dataclass(frozen=True)
class ProviderCard:
    provider: Provider
    balance_age: timedelta | None
    calls: int
    errors: int
    error_rate: Decimal | None
    avg_latency_ms: int | None
    in_flight: int
    refills: RefillSuccess | None = None  # finished in the last REFILL_WINDOW


def provider_cards(now: datetime | None = None) -> list[ProviderCard]:
    now = now or timezone.now()
    calls = {
        row["provider_id"]: row
        for row in ProviderCall.objects.filter(created_at__gte=now - LAST_HOUR)
        .values("provider_id")
        .annotate(
            n=Count("id"),
            errors=Count("id", filter=~Q(result=ProviderCall.Outcome.OK)),
            latency=Avg("duration_ms"),
        )
    }
    # Two counts, each matching a partial index's condition exactly (order_due_for_poll,
    # order_due_for_dispatch), instead of one OR that would read every order.
    in_flight: dict[int, int] = defaultdict(int)
    for orders in (
        Order.objects.filter(dispatch_state=DispatchState.SENT).exclude(
            status__in=OrderStatus.finals()
        ),
        Order.objects.filter(dispatch_state__in=[DispatchState.SENDING]),
    ):
        for provider_id, n in (
            orders.values("provider_id").annotate(n=Count("*")).values_list("provider_id", "n")
        ):
            in_flight[provider_id] += n
    refills = refill_success_rates(by="provider", since=now - REFILL_WINDOW)
    cards = []
    for provider in Provider.objects.order_by("-is_enabled", "name"):
        row: Mapping[str, Any] = calls.get(provider.pk, {"n": 0, "errors": 0, "latency": None})
        cards.append(
            ProviderCard(
                provider=provider,
                balance_age=now - provider.balance_checked_at
                if provider.balance_checked_at
                else None,
                calls=row["n"],
                errors=row["errors"],
                error_rate=(Decimal(row["errors"] * 100) / row["n"]).quantize(Decimal("0.1"))
                if row["n"]
                else None,
                avg_latency_ms=round(row["latency"]) if row["latency"] is not None else None,
                in_flight=in_flight.get(provider.pk, 0),
                refills=refills.get(provider.pk),
            )
        )
    return cards
