"""The ways out of a margin guard hold (catalog.guard), and the staff digest of a sync's holds.

A held item has three resolutions, each ending the hold:

- approve the markup's price (`catalog_hold_approve_reprice`): the price the markup rules give
  at the new cost, unpinned; refused when even that leaves less than the minimum margin at the
  lowest price a customer pays (raise the markup, pin a higher price, or take it off sale);
- approve a pinned price (`catalog_hold_approve_pinned`): the current price is kept and pinned;
  refused when it leaves less than the minimum margin;
- take it off sale (`catalog_hold_disable`): the admin's off switch, always possible.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.money import money_str
from notifications.models import Kind
from notifications.services import staff_alert
from providers.models import (
    CatalogChange,
    CatalogItem,
    CatalogItemQuerySet,
    HoldReason,
    Provider,
    Service,
)
from providers.services.catalog.guard import margin_floor
from providers.services.catalog.items import PRODUCTS, SERVICES, ItemSpec, Pricing, change_row
from providers.services.routes import routes_refresh

DIGEST_ITEMS = 30  # items listed by name in one digest; the rest are counted


@dataclass
class HoldOutcome:
    """What a resolution did: the items released, and those it refused (still held)."""

    released: list[CatalogItem] = field(default_factory=list)
    refused: list[CatalogItem] = field(default_factory=list)


def _spec(items: CatalogItemQuerySet) -> ItemSpec:
    return SERVICES if items.model is Service else PRODUCTS


def _release(item: CatalogItem, now: datetime) -> list[str]:
    item.hold_reason, item.held_at, item.held_from_cost = HoldReason.NONE, None, None
    item.updated_at = now
    return ["hold_reason", "held_at", "held_from_cost", "updated_at"]


def _resolve(items: CatalogItemQuerySet, *, pin: bool) -> HoldOutcome:
    spec, now, outcome = _spec(items), timezone.now(), HoldOutcome()
    with transaction.atomic():
        held = list(items.held().select_for_update(of=("self",)).select_related("provider"))
        pricing = Pricing({item.provider for item in held})
        floor = margin_floor(service_ids=[item.pk for item in held])
        changes = []
        for item in held:
            rate = item.rate if pin else pricing.markup_rate(item)
            if not floor.clears(item=item, rate=rate, cost=pricing.cost_of(item)):
                outcome.refused.append(item)
                continue
            reason = item.hold_reason
            fields = _release(item, now)
            if rate != item.rate:
                changes.append(
                    change_row(spec, item, CatalogChange.Kind.CHANGED, now, "rate", item.rate, rate)
                )
            item.rate, item.is_rate_pinned = rate, pin
            changes.append(
                change_row(
                    spec, item, CatalogChange.Kind.CHANGED, now, "hold", reason, "", is_public=False
                )
            )
            type(item).objects.filter(pk=item.pk).update(
                rate=rate, is_rate_pinned=pin, **{name: getattr(item, name) for name in fields}
            )
            outcome.released.append(item)
        CatalogChange.objects.bulk_create(changes)
        if outcome.released and spec is SERVICES:
            for provider in {item.provider for item in outcome.released}:
                routes_refresh(provider=provider, now=now)  # selling prices moved: so did margins
    return outcome


def catalog_hold_approve_reprice(*, items: CatalogItemQuerySet) -> HoldOutcome:
    """Release the held among `items` at the markup rules' price (unpinned), where it clears
    the minimum margin at the lowest price a customer pays."""
    return _resolve(items, pin=False)


def catalog_hold_approve_pinned(*, items: CatalogItemQuerySet) -> HoldOutcome:
    """Release the held among `items` at their current price, pinned, where it clears the
    minimum margin at the lowest price a customer pays."""
    return _resolve(items, pin=True)


def catalog_hold_disable(*, items: CatalogItemQuerySet) -> HoldOutcome:
    """Take the held among `items` off sale and end their hold: always possible."""
    spec, now, outcome = _spec(items), timezone.now(), HoldOutcome()
    with transaction.atomic():
        held = list(items.held().select_for_update())
        changes = []
        for item in held:
            changes.append(
                change_row(
                    spec,
                    item,
                    CatalogChange.Kind.CHANGED,
                    now,
                    "hold",
                    item.hold_reason,
                    "",
                    is_public=False,
                )
            )
            fields = _release(item, now)
            item.is_enabled = False
            type(item).objects.filter(pk=item.pk).update(
                is_enabled=False, **{name: getattr(item, name) for name in fields}
            )
            outcome.released.append(item)
        CatalogChange.objects.bulk_create(changes)
    return outcome


def alert_held(*, provider: Provider, items: Sequence[CatalogItem], synced_at: datetime) -> None:
    """One staff digest (email and Telegram) per sync that held something, keyed by the sync."""
    values = {"name": provider.name, "count": len(items)}
    # Services first: the digest's Telegram line links the first kind held.
    kinds = sorted({type(item) for item in items}, key=lambda model: model is not Service)
    # In the panel's language: operators read it (PANEL_LANGUAGE).
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            gettext("#%(id)s %(item)s: %(reason)s (price %(price)s, cost %(cost)s)")
            % {
                "id": item.pk,
                "item": item.display_name,
                "reason": HoldReason(item.hold_reason).label,
                "price": money_str(item.rate),
                "cost": _cost_text(item, provider.exchange_rate),
            }
            for item in items[:DIGEST_ITEMS]
        ]
        if len(items) > DIGEST_ITEMS:
            lines.append(gettext("… and %(count)s more") % {"count": len(items) - DIGEST_ITEMS})
        subject = gettext("%(name)s: %(count)s item(s) held by the margin guard") % values
        body = (
            gettext(
                "The catalog sync of %(name)s held %(count)s item(s): they are off sale until you "
                "approve a price or take them off sale, one by one or all at once, on the held "
                "digest:"
            )
            % values
        )
        links = [held_digest_link(model=model, provider_id=provider.pk) for model in kinds]
    staff_alert(
        key=f"catalog-held:{provider.pk}:{synced_at.isoformat()}",
        kind=Kind.OPS_SERVICES_HELD,
        subject=subject,
        body="\n".join([body, *links, "", *lines]),
        telegram={"name": provider.name, "count": len(items), "url": links[0]},
        ref=provider.pk,
    )


def held_digest_link(*, model: type[CatalogItem], provider_id: int | None = None) -> str:
    """The admin's held digest of `model`'s items (of one provider when given): absolute with
    PANEL_PUBLIC_URL, else the path, which still tells an operator where to go."""
    link = reverse(f"admin:providers_{model._meta.model_name}_held")
    if provider_id is not None:
        link += f"?provider={provider_id}"
    return settings.PANEL_PUBLIC_URL.rstrip("/") + link


def _cost_text(item: CatalogItem, exchange_rate: Decimal) -> str:
    return money_str(item.upstream_rate * exchange_rate)
