"""Every write to child panels: provisioning, moving between states, checking DNS.

A child panel's one provider is this panel itself, reached through its own /api/v2 with a key of
the owner's kept for the panel (docs/child-panels.md): the child's orders are bought as the
owner, at his price, by the same forwarding and polling as any provider's, and statuses,
partials and cancels come back down through the child's polling.
"""

import socket
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import ChildPanel, ChildPanelState, SuspendedReason, User
from accounts.services import api_key_create
from core.errors import InvalidRequest, InvalidTransition
from core.money import ZERO
from orders.models import Order
from panel.child_panels.hosts import forget_hosts
from payments.config import vnd_rate
from providers.models import DEFAULT_MARKUP_PERCENT, Provider
from providers.services import provider_create_for_child_panel
from providers.statuses import OrderStatus
from providers.tasks import catalog_sync_task

S = ChildPanelState

# Each state's ways out; "deleted" has none. Read this table, not the functions below.
MOVES: dict[str, frozenset[str]] = {
    S.WAITING_DNS: frozenset({S.ACTIVE, S.SUSPENDED, S.DELETED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.DELETED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.DELETED}),
    S.DELETED: frozenset(),
}


def upstream_url() -> str:
    """Where child panels' providers reach this panel's /api/v2."""
    if settings.PANEL_CHILD_PANEL_API_URL:
        return settings.PANEL_CHILD_PANEL_API_URL
    if settings.PANEL_PUBLIC_URL:
        return settings.PANEL_PUBLIC_URL.rstrip("/") + "/api/v2"
    raise InvalidRequest("Set PANEL_PUBLIC_URL or PANEL_CHILD_PANEL_API_URL first")


def child_panel_currencies() -> list[str]:
    """The currencies a child panel may be in: this panel's, and đồng when PANEL_VND_RATE says
    what a unit of this panel's currency is worth in đồng (the rate its catalog is converted
    at)."""
    own = settings.PANEL_CURRENCY.upper()
    if own != "VND" and vnd_rate() is not None:
        return [own, "VND"]
    return [own]


def child_currency_rate(currency: str) -> Decimal:
    """How much of the child's `currency` one unit of this panel's currency is worth: the
    exchange rate of its provider (this panel), fixed when it is created. Raises InvalidRequest
    for a currency not offered."""
    if currency == settings.PANEL_CURRENCY.upper():
        return Decimal(1)
    rate = vnd_rate() if currency in child_panel_currencies() else None
    if rate is None:
        raise InvalidRequest(gettext_noop("This currency is not offered for child panels"))
    return rate


def child_panel_create(
    *,
    domain: str,
    owner: User,
    name: str,
    currency: str = "",
    language: str = "",
    colour: str = "",
    monthly_fee: Decimal = ZERO,
    markup_percent: Decimal = DEFAULT_MARKUP_PERCENT,
) -> ChildPanel:
    """Provision a child panel at once: the panel (waiting for DNS), the owner's key it buys
    with, its provider, and its first catalog sync queued after the commit.

    Raises InvalidRequest for a bad or taken domain or an owner who is himself a child panel's
    customer (a child of a child is not offered)."""
    if owner.child_panel_id is not None:
        raise InvalidRequest(gettext_noop("A child panel's customer cannot own a child panel"))
    currency = (currency or settings.PANEL_CURRENCY).upper()
    exchange_rate = child_currency_rate(currency)
    child = ChildPanel(
        domain=domain.strip().lower().rstrip("."),
        owner=owner,
        name=name.strip() or domain,
        currency=currency,
        language=language or settings.LANGUAGE_CODE,
        monthly_fee=monthly_fee,
    )
    if colour:
        child.colour = colour
    try:
        child.full_clean(exclude=["owner"])
    except ValidationError as exc:
        raise InvalidRequest(" ".join(exc.messages)) from exc
    if child.domain in {h.lower() for h in settings.PANEL_PARENT_HOSTS}:
        raise InvalidRequest(gettext_noop("This domain is taken."))
    api_url = upstream_url()
    try:
        with transaction.atomic():
            child.save()
            key = api_key_create(user=owner, for_child_panel=child)
            provider = provider_create_for_child_panel(
                child_panel_id=child.pk,
                name=f"{child.domain} #{child.pk}",
                api_url=api_url,
                api_key=key,
                markup_percent=markup_percent,
                exchange_rate=exchange_rate,
            )
    except IntegrityError as exc:
        raise InvalidRequest(gettext_noop("This domain is taken.")) from exc
    transaction.on_commit(lambda: catalog_sync_task.delay(provider.pk))
    transaction.on_commit(forget_hosts)  # this process served its domain as unknown lately
    return child


def child_panel_move(
    *, child_panel_id: int, to: str, reason: str = SuspendedReason.OPERATOR
) -> ChildPanel:
    """Move the panel to `to` if its table allows it from the state it is in, under a lock on
    its row, so two movers cannot both win; a suspension records `reason`. Raises
    InvalidTransition otherwise."""
    with transaction.atomic():
        child = ChildPanel.objects.select_for_update().get(pk=child_panel_id)
        if to not in MOVES[child.state]:
            raise InvalidTransition()
        child.suspended_reason = reason if to == S.SUSPENDED else SuspendedReason.NONE
        if to == S.DELETED:
            _check_deletable(child)
            child.link_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
            Provider.objects.filter(child_panel=child).update(is_enabled=False)
        child.state = to
        child.state_changed_at = timezone.now()
        child.save(update_fields=["state", "state_changed_at", "suspended_reason"])
        # This process serves the new state at once; the others within their host cache's time.
        transaction.on_commit(forget_hosts)
    return child


def _check_deletable(child: ChildPanel) -> None:
    # Deleting stops its provider: an order still in flight would be left with no way to a
    # final status. Suspend the panel, let them finish, then delete (the ledger stays).
    if Order.objects.filter(user__child_panel=child, status__in=OrderStatus.opens()).exists():
        raise InvalidRequest(
            gettext_noop("This panel still has orders in flight; suspend it and wait")
        )


def _addresses(host: str) -> set[str]:
    try:
        return {str(info[4][0]) for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return set()


def child_panels_check_dns() -> list[str]:
    """Open every panel waiting for DNS whose domain now reaches this panel's host (the same
    address as PANEL_CHILD_PANEL_TARGET); returns their domains."""
    target = settings.PANEL_CHILD_PANEL_TARGET
    wanted = _addresses(target) if target else set()
    opened: list[str] = []
    if not wanted:
        return opened
    for child in ChildPanel.objects.filter(state=S.WAITING_DNS).only("pk", "domain"):
        if _addresses(child.domain) & wanted:
            child_panel_move(child_panel_id=child.pk, to=S.ACTIVE)
            opened.append(child.domain)
    return opened
