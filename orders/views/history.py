"""The customer's orders and refills: list, detail, refill and cancel."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from orders import services
from orders.errors import IncorrectOrder, PanelError
from orders.models import STATUS_NAMES, Order, OrderStatus, Source
from orders.selectors import (
    orders_for_user,
    refills_for_user,
    waiting_cancel_order_ids,
)
from orders.views.common import back_url, charged_text, order_error_text, paginate

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


def _order_row(order: Order, waiting: set[int]) -> dict:
    return {
        "order": order,
        "charge": order.net_charge,
        "refunded": order.refunded if order.refunded else None,
        "can_refill": services.can_refill(order=order),
        "can_cancel": services.can_cancel(order=order) and order.pk not in waiting,
        "cancel_waiting": order.pk in waiting,
    }


@login_required
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OrderStatus.values:
        status = ""
    search = request.GET.get("q", "").strip()[:200]
    page = paginate(request, orders_for_user(user=request.user, status=status, search=search))
    orders = list(page.object_list)
    waiting = waiting_cancel_order_ids(user=request.user, order_ids=[order.pk for order in orders])
    context = {
        "page": page,
        "rows": [_order_row(order, waiting) for order in orders],
        "tabs": ORDER_TABS,
        "status": status,
        "search": search,
    }
    return render(request, "orders/order_list.html", context)


@login_required
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        order = services.own_order(user=request.user, order_id=pk)
    except IncorrectOrder:
        raise Http404("No such order") from None
    waiting = waiting_cancel_order_ids(user=request.user, order_ids=[order.pk])
    context = {
        "row": _order_row(order, waiting),
        "order": order,
        "details": sorted(order.details.items()),
        "charge": order.charge,
        "events": order.events.filter(field__in=CUSTOMER_EVENT_FIELDS).order_by("id"),
        "refills": order.refills.order_by("-id"),
    }
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
    return render(
        request,
        "orders/refill_list.html",
        {"page": paginate(request, refills_for_user(user=request.user))},
    )
