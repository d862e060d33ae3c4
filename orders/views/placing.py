"""Placing orders: one service (with its live options list) or a mass order."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext, ngettext, pgettext

from accounts import form_tokens
from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.errors import error_display
from core.ids import parse_id
from core.money import (
    NUMBER_SEPARATORS,
    ZERO,
    currency_label,
    currency_places,
    money_str,
    panel_currency,
)
from orders import services
from orders.errors import InvalidOrderField, LinkBusy, PanelError
from orders.forms import MassOrderForm, OrderForm, type_layouts
from orders.models import Source
from orders.views.common import already_placed, charged_text
from providers.selectors import (
    PlatformCategoryRow,
    favorite_service_ids,
    service_category_rows,
    service_rows,
)
from providers.views import (
    catalog_filters,
    category_options,
    platform_chips,
    pricing_of,
    service_row_display,
)

MAX_SEARCH_OPTIONS = 100


def _service_options(
    request: HttpRequest, selected: dict | None, categories: list[PlatformCategoryRow]
) -> tuple[list[dict], dict[str, Any]]:
    """The services offered in the select, and the filters that chose them: the chosen
    service's category, the visitor's favorites, a search, or a category (the platform's first
    when none is chosen)."""
    filters = catalog_filters(request)
    user_id = cast(User, request.user).pk
    if selected:
        filters.update(category_id=selected["category_id"], search="", favorites_of=None)
    if filters["favorites_of"] is not None:
        rows: Iterable[Any] = service_rows(favorites_of=user_id, by_platform=True)
        filters.update(category_id=None, search="")
    elif filters["search"]:
        rows = service_rows(search=filters["search"], by_platform=True)[:MAX_SEARCH_OPTIONS]
        filters["category_id"] = None
    else:
        shown = category_options(categories, filters["platform"])
        if filters["category_id"] is None and shown:
            filters["category_id"] = shown[0]["id"]
        rows = service_rows(category_id=filters["category_id"]) if filters["category_id"] else []
    pricing = pricing_of(request)
    favorites = favorite_service_ids(user_id=user_id)
    return [service_row_display(row, pricing, favorites) for row in rows], filters


def _order_script_text(balance: Decimal) -> dict[str, str]:
    """The order form script's words and number format in the reader's language (order-form.js
    fills the %(name)s placeholders), and the balance it compares the estimate with."""
    language = get_language()
    group, point = NUMBER_SEPARATORS.get(language, NUMBER_SEPARATORS["en"])
    return {
        "balance": money_str(balance),
        "group": group,
        "decimal": point,
        "places": str(currency_places(panel_currency())),
        "currency": currency_label(panel_currency()),
        "service": gettext("Service"),
        "choose": gettext("Choose a service."),
        "refill": gettext("Refill"),
        "cancel": pgettext("feature", "Cancel"),
        "dripfeed": gettext("Drip-feed"),
        "rate": gettext("Rate"),
        "favoriteOn": gettext("Remove from favorites"),
        "favoriteOff": gettext("Add to favorites"),
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
        "topUp": gettext(
            "Your balance is %(balance)s: top up %(amount)s more to place this order."
        ),
        "addFunds": gettext("Add funds"),
        "addFundsUrl": reverse("add_funds"),
        "quantityRange": gettext("Enter a quantity from %(min)s to %(max)s."),
        "quantityStep": gettext("Enter a multiple of %(step)s."),
    }


def _order_new_context(
    request: HttpRequest, form: OrderForm, error: str, selected: dict | None
) -> dict[str, Any]:
    """The order form page: the platforms and categories, the offered services and the one
    chosen."""
    categories = service_category_rows()
    options, filters = _service_options(request, selected, categories)
    platform = selected["platform"] if selected else filters["platform"]
    selected_id = selected["id"] if selected else (options[0]["id"] if options else None)
    context = {
        "form": form,
        "error": error,
        "platforms": platform_chips(categories),
        "platform": platform,
        "is_favorites": filters["favorites_of"] is not None,
        "categories": category_options(categories, platform),
        "category_id": filters["category_id"],
        "search": filters["search"],
        "options": options,
        "selected_id": selected_id,
        "selected_option": next(
            (option for option in options if option["id"] == selected_id), None
        ),
        "layouts": type_layouts(),
        "script_text": _order_script_text(cast(User, request.user).balance),
        "options_url": reverse("order_service_options"),
        "scorecard_days": settings.PANEL_SCORECARD_DAYS,
    }
    return context


@login_required
def order_new(request: AuthenticatedRequest) -> HttpResponse:
    form = OrderForm(request.POST or None)
    error = ""
    active_order_id = None
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
            return already_placed(request, done)
        except InvalidOrderField as exc:
            if not form.show_error(
                # `detail` is message text, plain or a lazy translation.
                field=exc.field,
                detail=cast(str, exc.detail),
                service_type=selected and selected["type"],
            ):
                error = error_display(exc)
        except LinkBusy as exc:
            error, active_order_id = error_display(exc), exc.active_order_id
        except PanelError as exc:
            error = error_display(exc)
        else:
            messages.success(
                request,
                gettext("Order #%(id)s placed: charged %(amount)s")
                % {"id": order.pk, "amount": charged_text(order.charge)},
            )
            return redirect("order_list")
    elif selected_id and selected is None:
        error = gettext("This service is not on sale.")
    context = _order_new_context(request, form, error, selected)
    context["active_order_id"] = active_order_id  # the order a refused link waits for
    return render(request, "orders/order_new.html", context)


@login_required
def order_service_options(request: AuthenticatedRequest) -> JsonResponse:
    """Services of one category (`category`), matching a search (`q`) or starred
    (`favorites=1`), for the order form."""
    filters = catalog_filters(request)
    rows: Iterable[Any]
    if filters["category_id"]:
        rows = service_rows(category_id=filters["category_id"])
    elif filters["favorites_of"] is not None:
        rows = service_rows(favorites_of=request.user.pk, by_platform=True)
    elif filters["search"]:
        rows = service_rows(search=filters["search"], by_platform=True)[:MAX_SEARCH_OPTIONS]
    else:
        rows = []
    pricing = pricing_of(request)
    favorites = favorite_service_ids(user_id=request.user.pk)
    return JsonResponse(
        {"services": [service_row_display(row, pricing, favorites) for row in rows]}
    )


@login_required
def order_mass(request: AuthenticatedRequest) -> HttpResponse:
    form = MassOrderForm(request.POST or None)
    results = None
    if request.method == "POST":
        try:
            results = _place_mass_once(request)
        except form_tokens.AlreadySubmitted as done:
            return already_placed(request, done)
        except PanelError as exc:
            messages.error(request, error_display(exc))
            return render(request, "orders/order_mass.html", {"form": form, "results": None})
        placed = [line for line in results if line.order is not None]
        failed = [line for line in results if line.order is None]
        if placed:
            total = sum((line.order.charge for line in placed if line.order), start=ZERO)
            messages.success(
                request,
                ngettext(
                    "%(count)d order placed: charged %(amount)s",
                    "%(count)d orders placed: charged %(amount)s",
                    len(placed),
                )
                % {"count": len(placed), "amount": charged_text(total)},
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


def _place_mass_once(request: AuthenticatedRequest) -> list[services.MassOrderLine]:
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
