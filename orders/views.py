"""Customer order pages: place (one, mass, product), list, refill and cancel.

Each view parses input, calls one order service or selector and renders; the services raise
PanelError kinds whose `.message` (or `.detail` beside a field) is what the customer reads.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts import form_tokens
from core.errors import error_display
from core.ids import parse_id
from core.money import NUMBER_SEPARATORS, ZERO, currency_label, currency_places, money_text
from orders import services
from orders.errors import IncorrectOrder, InvalidOrderField, PanelError
from orders.forms import MassOrderForm, OrderForm, type_layouts
from orders.models import STATUS_NAMES, Order, OrderStatus, Source
from orders.selectors import (
    orders_for_user,
    product_orders_for_user,
    refills_for_user,
    waiting_cancel_order_ids,
)
from providers.selectors import service_category_rows, service_rows
from providers.views import pricing_of, service_row_display

PER_PAGE = 50
MAX_SEARCH_OPTIONS = 100
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


def _page(request: HttpRequest, items: QuerySet, per_page: int = PER_PAGE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _charged(amount: object) -> str:
    return money_text(amount, currency=settings.PANEL_CURRENCY, language=get_language())


def _order_error(order_id: int, exc: PanelError) -> str:
    return gettext("Order #%(id)s: %(error)s") % {"id": order_id, "error": error_display(exc)}


def _back(request: HttpRequest, default: str = "order_list") -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


# --- Placing -------------------------------------------------------------------------------------


def _service_options(
    request: HttpRequest, selected: dict | None, categories: list[dict]
) -> tuple[list[dict], int | None, str]:
    """The services offered in the select: the chosen service's category, a search, or a category."""
    search = request.GET.get("q", "").strip()[:100]
    category_id = selected["category_id"] if selected else parse_id(request.GET.get("category"))
    if search and not selected:
        rows = service_rows(search=search)[:MAX_SEARCH_OPTIONS]
        category_id = None
    else:
        if category_id is None and categories:
            category_id = categories[0]["category_id"]
        rows = service_rows(category_id=category_id) if category_id else []
    pricing = pricing_of(request)
    return [service_row_display(row, pricing) for row in rows], category_id, search


def _order_script_text() -> dict[str, str]:
    """The order form script's words and number format in the reader's language (order-form.js
    fills the %(name)s placeholders)."""
    language = get_language()
    group, point = NUMBER_SEPARATORS.get(language, NUMBER_SEPARATORS["en"])
    return {
        "group": group,
        "decimal": point,
        "places": str(currency_places(settings.PANEL_CURRENCY)),
        "currency": currency_label(settings.PANEL_CURRENCY),
        "service": gettext("Service"),
        "choose": gettext("Choose a service."),
        "refill": gettext("Refill"),
        "cancel": pgettext("feature", "Cancel"),
        "dripfeed": gettext("Drip-feed"),
        "rate": gettext("Rate"),
        "limits": gettext("Min / max"),
        "perPackage": gettext("per package"),
        "per1000": gettext("per 1000"),
        "minMax": gettext("Min %(min)s · max %(max)s"),
        "multipleOf": gettext("a multiple of %(step)s"),
        "onePackage": gettext("1 package"),
        "maxPosts": gettext("%(max)s max × %(posts)s posts"),
        "lines": gettext("%(n)s lines"),
        "oneLine": gettext("1 line"),
        "runs": gettext("%(quantity)s × %(runs)s runs"),
        "needPosts": gettext("Fill in max and posts to see the charge."),
        "needLines": gettext("Write one entry per line to see the charge."),
        "needQuantity": gettext("Fill in the quantity to see the charge."),
        "estimated": gettext("Estimated charge: %(amount)s"),
        "ratePerPackage": gettext("%(rate)s per package"),
        "noServices": gettext("No services found"),
        "helpSubscriptions": gettext("The account whose new posts get the delivery."),
        "helpFollowers": gettext("The account whose followers are mentioned."),
        "helpCommentLikes": gettext("The author of the comment to like."),
    }


def _already_placed(request: HttpRequest, done: form_tokens.AlreadySubmitted) -> HttpResponse:
    """The answer to a form sent twice: where the first submit led, nothing placed again."""
    messages.info(
        request, gettext("This form was already sent: nothing was placed or charged twice.")
    )
    return redirect(done.result_url or reverse("order_list"))


@login_required
def order_new(request: HttpRequest) -> HttpResponse:
    form = OrderForm(request.POST or None)
    error = ""
    source = request.POST if request.method == "POST" else request.GET
    selected_id = parse_id(source.get("service"))
    selected = service_rows().filter(id=selected_id).first() if selected_id else None
    if request.method == "POST":
        token = request.POST.get(form_tokens.FIELD)
        try:
            with transaction.atomic():
                form_tokens.form_submission_claim(user=request.user, token=token)
                order = services.order_place(
                    user=request.user,
                    service_id=request.POST.get("service", ""),
                    fields=request.POST,
                    source=Source.WEB,
                )
                form_tokens.form_submission_record(
                    user=request.user,
                    token=token,
                    result_url=reverse("order_detail", args=[order.pk]),
                )
        except form_tokens.AlreadySubmitted as done:
            return _already_placed(request, done)
        except InvalidOrderField as exc:
            if not form.show_error(
                field=exc.field, detail=exc.detail, service_type=selected and selected["type"]
            ):
                error = error_display(exc)
        except PanelError as exc:
            error = error_display(exc)
        else:
            messages.success(
                request,
                gettext("Order #%(id)s placed: charged %(amount)s")
                % {"id": order.pk, "amount": _charged(order.charge)},
            )
            return redirect("order_list")
    elif selected_id and selected is None:
        error = gettext("This service is not on sale.")
    categories = service_category_rows()
    options, category_id, search = _service_options(request, selected, categories)
    selected_id = selected["id"] if selected else (options[0]["id"] if options else None)
    context = {
        "form": form,
        "error": error,
        "categories": categories,
        "category_id": category_id,
        "search": search,
        "options": options,
        "selected_id": selected_id,
        "selected_option": next(
            (option for option in options if option["id"] == selected_id), None
        ),
        "layouts": type_layouts(),
        "script_text": _order_script_text(),
        "options_url": reverse("order_service_options"),
    }
    return render(request, "orders/order_new.html", context)


@login_required
def order_service_options(request: HttpRequest) -> JsonResponse:
    """Services of one category (`category`) or matching a search (`q`), for the order form."""
    category_id = parse_id(request.GET.get("category"))
    search = request.GET.get("q", "").strip()[:100]
    if category_id:
        rows = service_rows(category_id=category_id)
    elif search:
        rows = service_rows(search=search)[:MAX_SEARCH_OPTIONS]
    else:
        rows = []
    pricing = pricing_of(request)
    return JsonResponse({"services": [service_row_display(row, pricing) for row in rows]})


@login_required
def order_mass(request: HttpRequest) -> HttpResponse:
    form = MassOrderForm(request.POST or None)
    results = None
    if request.method == "POST":
        try:
            results = _place_mass_once(request)
        except form_tokens.AlreadySubmitted as done:
            return _already_placed(request, done)
        except PanelError as exc:
            messages.error(request, error_display(exc))
            return render(request, "orders/order_mass.html", {"form": form, "results": None})
        placed = [line for line in results if line.order is not None]
        failed = [line for line in results if line.order is None]
        if placed:
            total = sum((line.order.charge for line in placed), start=ZERO)
            messages.success(
                request,
                ngettext(
                    "%(count)d order placed: charged %(amount)s",
                    "%(count)d orders placed: charged %(amount)s",
                    len(placed),
                )
                % {"count": len(placed), "amount": _charged(total)},
            )
        if failed:
            messages.error(
                request,
                ngettext(
                    "%(count)d line failed: it is left in the box to fix and send again.",
                    "%(count)d lines failed: they are left in the box to fix and send again.",
                    len(failed),
                )
                % {"count": len(failed)},
            )
            form = MassOrderForm(initial={"orders": "\n".join(line.text for line in failed)})
        elif not results:
            messages.error(
                request, gettext("Write one order per line: service ID | link | quantity")
            )
        else:
            form = MassOrderForm()
    return render(request, "orders/order_mass.html", {"form": form, "results": results})


def _place_mass_once(request: HttpRequest) -> list[services.MassOrderLine]:
    """The lines of a mass order form, placed once per form token; a form that placed nothing
    leaves its token free, so sending it again after a fix is not mistaken for a repeat."""
    token = request.POST.get(form_tokens.FIELD)
    with transaction.atomic():
        form_tokens.form_submission_claim(user=request.user, token=token)
        results = services.orders_place_mass(user=request.user, text=request.POST.get("orders", ""))
        if any(line.order is not None for line in results):
            form_tokens.form_submission_record(
                user=request.user, token=token, result_url=reverse("order_list")
            )
        else:
            transaction.set_rollback(True)
    return results


# --- Orders --------------------------------------------------------------------------------------


def _order_row(order: Order, waiting: set[int]) -> dict:
    return {
        "order": order,
        "charge": order.net_charge,
        "refunded": order.refunded if order.refunded else None,
        "can_refill": services.can_refill(order),
        "can_cancel": services.can_cancel(order) and order.pk not in waiting,
        "cancel_waiting": order.pk in waiting,
    }


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OrderStatus.values:
        status = ""
    search = request.GET.get("q", "").strip()[:200]
    page = _page(request, orders_for_user(user=request.user, status=status, search=search))
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
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
def order_refill(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic():
            refill = services.refill_request(user=request.user, order_id=pk, source=Source.WEB)
    except PanelError as exc:
        messages.error(request, _order_error(pk, exc))
    else:
        messages.success(
            request,
            gettext("Refill #%(refill)s requested for order #%(order)s.")
            % {"refill": refill.pk, "order": pk},
        )
    return redirect(_back(request))


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic():
            order = services.order_cancel(user=request.user, order_id=pk, source=Source.WEB)
    except PanelError as exc:
        messages.error(request, _order_error(pk, exc))
    else:
        if order.status == OrderStatus.CANCELED:
            messages.success(
                request,
                gettext("Order #%(id)s canceled: %(amount)s refunded.")
                % {"id": pk, "amount": _charged(order.refunded)},
            )
        else:
            messages.success(
                request,
                gettext(
                    "Cancel of order #%(id)s requested: the refund follows when the provider confirms it."
                )
                % {"id": pk},
            )
    return redirect(_back(request))


@login_required
def refill_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "orders/refill_list.html",
        {"page": _page(request, refills_for_user(user=request.user))},
    )


# --- Product orders ------------------------------------------------------------------------------


@login_required
@require_POST
def product_order_new(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic():
            order = services.product_order_place(
                user=request.user,
                product_id=pk,
                quantity=request.POST.get("quantity", ""),
                require=request.POST.get("require"),
                source=Source.WEB,
            )
    except PanelError as exc:
        messages.error(
            request,
            gettext("Product #%(id)s: %(error)s") % {"id": pk, "error": error_display(exc)},
        )
    else:
        messages.success(
            request,
            gettext("Product order #%(id)s placed: charged %(amount)s")
            % {"id": order.pk, "amount": _charged(order.charge)},
        )
        return redirect("product_order_list")
    return redirect(f"{reverse('product_list')}#product-{pk}")


@login_required
def product_order_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, product_orders_for_user(user=request.user))
    rows = [
        {
            "order": order,
            "charge": order.net_charge,
            "refunded": order.refunded if order.refunded else None,
        }
        for order in page.object_list
    ]
    return render(request, "orders/product_order_list.html", {"page": page, "rows": rows})
