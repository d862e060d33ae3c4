"""Reads of child panels."""

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower

from accounts.models import ChildPanel, ChildPanelState, User
from core.money import ZERO, money_field
from orders.models import Order
from payments.models import GatewaySettings, Method
from providers.statuses import OrderStatus


def _live_with_domain(domain: str) -> QuerySet[ChildPanel]:
    # Spelled as the unique index on lower(domain) of live panels is (ChildPanel.Meta), so the
    # read is an index lookup: `domain__iexact` compiles to upper(domain) and scanned the table.
    return (
        ChildPanel.objects.exclude(state=ChildPanelState.DELETED)
        .alias(domain_lower=Lower("domain"))
        .filter(domain_lower=domain.strip().lower())
    )


def child_panel_takes_payments(child_panel_id: int) -> bool:
    """Whether the panel's owner has set his payment settings (his bank transfer settings, saved
    on /child-panels/): then its add-funds page and webhooks are served, as his own."""
    return GatewaySettings.objects.filter(
        child_panel_id=child_panel_id, method=Method.BANK
    ).exists()


def child_panel_for_host(domain: str) -> ChildPanel | None:
    """The live (not deleted) child panel whose domain is `domain`; one indexed read."""
    return _live_with_domain(domain).first()


def is_tls_allowed(domain: str) -> bool:
    """Whether Caddy may get a certificate for `domain`: an active child panel's only."""
    return _live_with_domain(domain).filter(state=ChildPanelState.ACTIVE).exists()


def child_panels_overview() -> QuerySet[ChildPanel]:
    """Every child panel with its customers, its orders still in flight and what its customers
    hold (what the owner would have to cover), for the parent's admin."""
    in_flight = (
        Order.objects.filter(user__child_panel=OuterRef("pk"), status__in=OrderStatus.opens())
        .order_by()
        .values("user__child_panel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    held = (
        User.objects.filter(child_panel=OuterRef("pk"))
        .order_by()
        .values("child_panel")
        .annotate(total=Sum("balance"))
        .values("total")
    )
    return ChildPanel.objects.select_related("owner").annotate(
        customer_count=Coalesce(
            Subquery(
                User.objects.filter(child_panel=OuterRef("pk"))
                .order_by()
                .values("child_panel")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        ),
        orders_in_flight=Coalesce(Subquery(in_flight), 0),
        exposure=Coalesce(Subquery(held), ZERO, output_field=money_field()),
    )
