"""The customer's orders and refills: list, detail, refill and cancel."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.money import number_text
from orders import services
from orders.errors import IncorrectOrder, PanelError
from orders.models import STATUS_NAMES, Order, OrderStatus, Refill, RefillStatus, Source
from orders.refill_rules import (
    RefillHistory,
    Refusal,
    refill_histories,
    refill_history,
    refill_verdict,
    when_text,
)
from orders.selectors import (
    order_is_archived,
    orders_for_user,
    refills_for_user,
    waiting_cancel_order_ids,
)
from orders.views.common import back_url, charged_text, order_error_text, paginate
from providers.models import RefillEscalation

ORDER_TABS = (
    ("", _("All")),
    *(
        (status, STATUS_NAMES[status])
        for status in (
            OrderStatus.PENDING,
            OrderStatus.IN_PROGRESS,
            OrderStatus.COMPLETED,
            OrderStatus.PARTIAL,
            OrderStatus.PROCESSING,
            OrderStatus.CANCELED,
        )
    ),
)
CUSTOMER_EVENT_FIELDS = ("status", "refill", "cancel", "refund")


def _order_row(
    order: Order, waiting: set[int], history: RefillHistory, *, in_list: bool = False
) -> dict:
    verdict = refill_verdict(order=order, history=history)
    # A service with refills shows why a finished order cannot be refilled now, and when it
    # can; an order still running or a service without refills shows nothing.
    shows_refill = verdict.refusal not in (Refusal.NO_REFILL, Refusal.NOT_FINISHED)
    row = {
        "order": order,
        "charge": order.net_charge,
        "refunded": order.refunded if order.refunded else None,
        "can_refill": verdict.allowed,
        "refill_refusal": verdict.reason if shows_refill else "",
        "refill_refusal_short": verdict.short if shows_refill else "",
        "in_list": in_list,
        "warranty_ends_at": verdict.warranty_ends_at,
        # The list says until when the warranty runs (the order page has it among its facts).
        # Only while a refill can still come: not once it is used up, refunded or over.
        "warranty_note": verdict.warranty_ends_at
        if in_list and verdict.refusal in (None, Refusal.IN_FLIGHT, Refusal.COOLDOWN)
        else None,
        "can_cancel": services.can_cancel(order=order) and order.pk not in waiting,
        "cancel_waiting": order.pk in waiting,
        # Nothing on the row moves by itself any more (a refill's cooldown ends by the clock,
        # not by news from the provider): the page stops asking (orders.views.live).
        "is_settled": order.is_final
        and order.pk not in waiting
        and verdict.refusal != Refusal.IN_FLIGHT,
    }
    row["version"] = live_version(
        order.status,
        order.start_count,
        order.remains,
        order.net_charge,
        order.refunded,
        *(row[key] for key in ("can_refill", "refill_refusal", "can_cancel", "cancel_waiting")),
        row["warranty_note"],
    )
    return row


def live_version(*parts: object) -> str:
    """A digest of what a row or page shows: the page replaces it only when this changes."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def refill_outcome(refill: Refill) -> str:
    """What happened to a refill, in the reader's language (docs/lifecycle.md, "Refills")."""
    if refill.status == RefillStatus.COMPLETED:
        if refill.replacement_id:
            return gettext("Refilled by replacement order #%(order)s.") % {
                "order": refill.replacement_id
            }
        return gettext("Refilled.")
    if refill.status == RefillStatus.REJECTED:
        if refill.refunded:
            return gettext("Could not be refilled: %(amount)s refunded.") % {
                "amount": charged_text(refill.refunded)
            }
        return gettext("Could not be refilled; nothing was left to refund.")
    if refill.replacement_id:
        return gettext(
            "The provider did not refill it: %(quantity)s ordered from another supplier "
            "(order #%(order)s)."
        ) % {
            "quantity": number_text(refill.missing_quantity or 0, language=get_language()),
            "order": refill.replacement_id,
        }
    due = when_text(refill.deadline_at)
    if refill.escalation == RefillEscalation.ASK_AGAIN:
        return gettext("The provider did not refill it: asked again, due by %(date)s.") % {
            "date": due
        }
    if due:
        return gettext("Asked from the provider, due by %(date)s.") % {"date": due}
    return ""


@login_required
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OrderStatus.values:
        status = ""
    search = request.GET.get("q", "").strip()[:200]
    page = paginate(request, orders_for_user(user=request.user, status=status, search=search))
    context = {
        "page": page,
        "rows": order_list_rows(user=request.user, orders=list(page.object_list)),
        "tabs": ORDER_TABS,
        "status": status,
        "search": search,
        "live_seconds": settings.PANEL_LIVE_REFRESH_SECONDS,
    }
    return render(request, "orders/order_list.html", context)


def order_list_rows(*, user: User, orders: list[Order]) -> list[dict]:
    """The list's rows of `orders` (the user's own), as the list page and its refresh draw them."""
    ids = [order.pk for order in orders]
    waiting = waiting_cancel_order_ids(user=user, order_ids=ids)
    histories = refill_histories(order_ids=ids)
    return [
        _order_row(order, waiting, histories.get(order.pk, RefillHistory()), in_list=True)
        for order in orders
    ]


def order_detail_context(*, user: User, order: Order) -> dict:
    """What the order page shows below its title, as the page and its refresh draw it."""
    waiting = waiting_cancel_order_ids(user=user, order_ids=[order.pk])
    row = _order_row(order, waiting, refill_history(order_id=order.pk))
    events = list(order.events.filter(field__in=CUSTOMER_EVENT_FIELDS).order_by("id"))
    refills = list(order.refills.order_by("-id"))
    # The page also moves when a refill does (its outcome) or a new event is written.
    row["version"] = live_version(
        row["version"],
        *(event.pk for event in events),
        *((refill.pk, refill.status, refill.replacement_id, refill.refunded) for refill in refills),
    )
    row["is_settled"] = row["is_settled"] and all(
        refill.status in RefillStatus.finals() for refill in refills
    )
    return {
        "row": row,
        "order": order,
        "details": sorted(order.details.items()),
        "charge": order.charge,
        "events": events,
        "refills": [{"refill": refill, "outcome": refill_outcome(refill)} for refill in refills],
    }


@login_required
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        order = services.own_order(user=request.user, order_id=pk)
    except IncorrectOrder:
        if order_is_archived(order_id=pk, user=request.user):
            context = {"order_id": pk}
            return render(request, "orders/order_archived.html", context, status=410)
        raise Http404("No such order") from None
    context = order_detail_context(user=request.user, order=order)
    context["live_seconds"] = settings.PANEL_LIVE_REFRESH_SECONDS
    return render(request, "orders/order_detail.html", context)


@login_required
@require_POST
def order_refill(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic():
            refill = services.refill_request(user=request.user, order_id=pk, source=Source.WEB)
    except PanelError as exc:
        messages.error(request, order_error_text(pk, exc))
    else:
        messages.success(
            request,
            gettext("Refill #%(refill)s requested for order #%(order)s.")
            % {"refill": refill.pk, "order": pk},
        )
    return redirect(back_url(request))


@login_required
@require_POST
def order_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic():
            order = services.order_cancel(user=request.user, order_id=pk, source=Source.WEB)
    except PanelError as exc:
        messages.error(request, order_error_text(pk, exc))
    else:
        if order.status == OrderStatus.CANCELED:
            messages.success(
                request,
                gettext("Order #%(id)s canceled: %(amount)s refunded.")
                % {"id": pk, "amount": charged_text(order.refunded)},
            )
        else:
            messages.success(
                request,
                gettext(
                    "Cancel of order #%(id)s requested: the refund follows when the provider confirms it."
                )
                % {"id": pk},
            )
    return redirect(back_url(request))


@login_required
def refill_list(request: AuthenticatedRequest) -> HttpResponse:
    page = paginate(request, refills_for_user(user=request.user))
    rows = [{"refill": refill, "outcome": refill_outcome(refill)} for refill in page.object_list]
    return render(request, "orders/refill_list.html", {"page": page, "rows": rows})
