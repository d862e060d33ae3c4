"""Public catalog pages: services, the change log, and products (ordered through orders.views.products).

The catalog is read as plain value rows (`service_rows`, `product_rows`), never as model
instances: the services page must stay fast with 10,000 services on sale.
"""

from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from core.ids import parse_id
from core.money import money_str, money_text, panel_currency, parse_money
from providers.delivery_time import (
    percent_text,
    slow_time_text,
    usual_time_text,
)
from providers.markup import unit_price
from providers.models import (
    CHANGE_FIELD_NAMES,
    CHANGE_VALUE_NAMES,
    PACKAGE_TYPES,
    CatalogChange,
    service_type_name,
    text_in,
)
from providers.page_cache import CatalogPages, category_rows
from providers.platforms import PLATFORM_MARKS, Platform
from providers.pricing import CustomerPricing, customer_pricing
from providers.selectors import (
    PlatformCategoryRow,
    favorite_service_ids,
    product_rows,
    public_changes,
    service_rows,
)
from providers.services import favorite_set

SERVICES_PER_PAGE = 500
UPDATES_PER_PAGE = 50
UPDATE_TABS = (
    ("", _("All")),
    (CatalogChange.Kind.ADDED, _("Added")),
    (CatalogChange.Kind.REMOVED, _("Removed")),
    (CatalogChange.Kind.CHANGED, _("Changed")),
)
PRODUCT_TYPE_NAMES = {"Auto": _("Automatic"), "Service": _("Manual")}


def pricing_of(request: HttpRequest) -> CustomerPricing:
    """How the visitor is priced: prices shown are what they would pay (providers.pricing)."""
    return customer_pricing(user=request.user)


def refill_badge(warranty_days: int | None) -> str:
    """How a service's refill reads: "Bảo hành 30 ngày" (the glossary) or plain "Refill"."""
    if not warranty_days:
        return gettext("Refill")
    return ngettext("%(days)s-day warranty", "%(days)s-day warranty", warranty_days) % {
        "days": warranty_days
    }


def price_texts(rate: Decimal, *, is_package: bool) -> dict[str, str]:
    """A service's price as the pages write it in the reader's language: per 1000 and per unit
    ("12.500 ₫ / 1000", "12,5 ₫ mỗi lượt"), or per package. Both keep every digit of the price
    (a unit of a cheap service costs a fraction of a đồng); the pages say so."""
    language = get_language() or settings.LANGUAGE_CODE
    currency = panel_currency()
    price = money_text(rate, currency=currency, language=language, exact=True)
    if is_package:
        return {"price": gettext("%(price)s per package") % {"price": price}, "unit_price": ""}
    unit = money_text(
        unit_price(rate_per_1000=rate), currency=currency, language=language, exact=True
    )
    return {
        "price": gettext("%(price)s / 1000") % {"price": price},
        "unit_price": gettext("%(price)s per unit") % {"price": unit},
    }


def service_row_display(
    row: dict, pricing: CustomerPricing, favorites: Set[int] = frozenset()
) -> dict:
    """One service row as a page shows it: the visitor's rate as money text, flags spelled out,
    the category and description in the reader's language (the operator's words when
    written), its platform, and whether the visitor starred it."""
    language = get_language() or settings.LANGUAGE_CODE
    rate = pricing.service_rate(service_id=row["id"], rate=row["rate"])
    is_package = row["type"] in PACKAGE_TYPES
    return {
        "id": row["id"],
        "name": row["name_override"] or row["name"],
        "type": row["type"],
        "type_label": service_type_name(row["type"]),
        "category_id": row["category_id"],
        "category": category_name(row, language),
        "platform": row["platform"],
        "rate": money_str(rate),
        **price_texts(rate, is_package=is_package),
        "min": row["min"],
        "max": row["max"],
        "step": row["quantity_step"],
        "refill": row["has_refill"],
        "refill_badge": refill_badge(row["warranty_days"]),
        "cancel": row["has_cancel"],
        "dripfeed": row["has_dripfeed"],
        "description": text_in(
            language,
            default=row["description"],
            vi=row["description_vi"],
            en=row["description_en"],
        ),
        "is_package": is_package,
        "is_favorite": row["id"] in favorites,
        **scorecard_display(row),
    }


def category_name(row: Mapping[str, Any], language: str) -> str:
    """A `service_rows` or `service_category_rows` row's category in `language`."""
    return text_in(
        language,
        default=row["category__name"],
        vi=row["category__name_vi"],
        en=row["category__name_en"],
    )


def scorecard_display(row: dict) -> dict:
    """The scorecard's figures of a `service_rows` row as the services page and the order
    form write them."""
    is_package = row["type"] in PACKAGE_TYPES
    return {
        "usual_time": usual_time_text(
            start=row["score__start_p50_seconds"],
            done=row["score__complete_p50_seconds"],
            is_package=is_package,
        ),
        "slow_time": slow_time_text(
            done_p90=row["score__complete_p90_seconds"], is_package=is_package
        ),
        "partial_rate": percent_text(row["score__partial_percent"]),
        "refill_rate": percent_text(row["score__refill_success_percent"]),
    }


def _grouped(rows: list[dict], pricing: CustomerPricing, favorites: Set[int]) -> list[dict]:
    """Rows in groups per category; the first group of each platform carries the platform's
    heading (rows come ordered by platform, then category)."""
    language = get_language() or settings.LANGUAGE_CODE
    groups: list[dict] = []
    for row in rows:
        if not groups or groups[-1]["id"] != row["category_id"]:
            is_new_platform = not groups or groups[-1]["platform"]["value"] != row["platform"]
            groups.append(
                {
                    "id": row["category_id"],
                    "name": category_name(row, language),
                    "platform": platform_badge(row["platform"]),
                    "is_new_platform": is_new_platform,
                    "services": [],
                }
            )
        groups[-1]["services"].append(service_row_display(row, pricing, favorites))
    return groups


def platform_badge(value: str) -> dict:
    """A platform as its badge shows it: name and a short mark (its colour: panel.css)."""
    platform = Platform(value) if value in Platform.values else Platform.OTHER
    return {
        "value": platform.value,
        "label": platform.label,
        "mark": PLATFORM_MARKS[platform],
    }


def platform_chips(categories: list[PlatformCategoryRow]) -> list[dict]:
    """The platforms that have services on sale, in Platform's order, with how many each has."""
    counts: dict[str, int] = {}
    for row in categories:
        counts[row["platform"]] = counts.get(row["platform"], 0) + row["count"]
    return [{**platform_badge(value), "count": count} for value, count in counts.items()]


def catalog_filters(request: HttpRequest) -> dict[str, Any]:
    """The catalog filters of the services page and the order form, from the query string:
    a platform, a category, a search, the visitor's favorites."""
    platform = request.GET.get("platform", "")
    user_id = request.user.pk if request.user.is_authenticated else None
    return {
        "platform": platform if platform in Platform.values else "",
        "category_id": parse_id(request.GET.get("category")),
        "search": request.GET.get("q", "").strip()[:100],
        "favorites_of": user_id if request.GET.get("favorites") == "1" else None,
    }


def category_options(categories: list[PlatformCategoryRow], platform: str) -> list[dict]:
    """The category select's options in the reader's language, one platform's when chosen."""
    language = get_language() or settings.LANGUAGE_CODE
    return [
        {"id": row["category_id"], "name": category_name(row, language), "count": row["count"]}
        for row in categories
        if not platform or row["platform"] == platform
    ]


def services(request: HttpRequest) -> HttpResponse:
    filters = catalog_filters(request)
    user_id = request.user.pk if request.user.is_authenticated else None
    favorites = favorite_service_ids(user_id=user_id) if user_id else set()
    # A search or a visitor's favorites are read each time; the platform and category views,
    # the same for everyone, are kept until the catalog moves (providers.page_cache).
    rows: Any = (
        service_rows(**filters, by_platform=True)
        if filters["search"] or filters["favorites_of"] is not None
        else CatalogPages(filters)
    )
    page = Paginator(rows, SERVICES_PER_PAGE).get_page(request.GET.get("page"))
    categories = category_rows()
    context = {
        "page": page,
        "groups": _grouped(list(page.object_list), pricing_of(request), favorites),
        "categories": category_options(categories, filters["platform"]),
        "platforms": platform_chips(categories),
        "platform": filters["platform"],
        "search": filters["search"],
        "category_id": filters["category_id"],
        "is_favorites": filters["favorites_of"] is not None,
        "has_favorites": bool(favorites),
        "is_filtered": any(filters.values()),
        "scorecard_days": settings.PANEL_SCORECARD_DAYS,
    }
    return render(request, "providers/services.html", context)


@login_required
@require_POST
def service_favorite(request: AuthenticatedRequest, service_id: int) -> HttpResponse:
    """Star (`favorite=1`) or unstar (`favorite=0`) a service; repeating it changes nothing.
    A script asking for JSON gets the new state; a plain form goes back where it came from."""
    is_favorite = favorite_set(
        user_id=request.user.pk,
        service_id=service_id,
        is_favorite=request.POST.get("favorite") == "1",
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"service": service_id, "favorite": is_favorite})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("services")
    return redirect(back)


def _rate_direction(old: str, new: str) -> str:
    try:
        old_rate, new_rate = parse_money(old), parse_money(new)
    except ValueError:
        return ""
    if new_rate < old_rate:
        return "cheaper"
    return "dearer" if new_rate > old_rate else ""


def _shown_rate(text: str, pricing: CustomerPricing, service_id: int | None) -> str:
    try:
        rate = parse_money(text)
    except ValueError:
        return text
    if service_id is None:
        return money_str(pricing.product_rate(rate=rate))
    return money_str(pricing.service_rate(service_id=service_id, rate=rate))


def _change_display(change: CatalogChange, pricing: CustomerPricing) -> dict:
    item = change.service or change.product
    assert item is not None  # a check constraint gives every change exactly one of the two
    row = {
        "created_at": change.created_at,
        "kind": change.kind,
        "kind_label": change.get_kind_display(),
        "is_product": change.service_id is None,
        "item_id": item.pk,
        "name": item.display_name,
        "category": item.category.name_in(get_language() or settings.LANGUAGE_CODE),
        "field": change.field,
        "field_label": CHANGE_FIELD_NAMES.get(change.field, change.field),
        "old": CHANGE_VALUE_NAMES.get(change.old_value, change.old_value),
        "new": CHANGE_VALUE_NAMES.get(change.new_value, change.new_value),
        "direction": "",
        "is_orderable": change.service_id is not None and change.kind != CatalogChange.Kind.REMOVED,
    }
    if change.kind == CatalogChange.Kind.CHANGED and change.field == "rate":
        row["direction"] = _rate_direction(change.old_value, change.new_value)
        row["old"], row["new"] = (
            _shown_rate(change.old_value, pricing, change.service_id),
            _shown_rate(change.new_value, pricing, change.service_id),
        )
    return row


def updates(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in dict(UPDATE_TABS):
        kind = ""
    page: Page = Paginator(public_changes(kind=kind), UPDATES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    pricing = pricing_of(request)
    context = {
        "page": page,
        "rows": [_change_display(change, pricing) for change in page.object_list],
        "tabs": UPDATE_TABS,
        "kind": kind,
    }
    return render(request, "providers/updates.html", context)


def _stock_status(upstream: str) -> object:
    """The provider's own wording of "in stock", translated when it is the usual one."""
    return _("In stock") if not upstream or upstream.lower() == "in stock" else upstream


def _product_display(row: dict, pricing: CustomerPricing) -> dict:
    in_stock = row["is_in_stock"] and row["inventory"] != 0
    return {
        "id": row["id"],
        "name": row["name_override"] or row["name"],
        "category": category_name(row, get_language() or settings.LANGUAGE_CODE),
        "rate": money_str(pricing.product_rate(rate=row["rate"])),
        "min": row["min"],
        "max": row["max"],
        # The most the quantity input offers; the order service checks stock again.
        "input_max": row["max"] if row["inventory"] is None else min(row["max"], row["inventory"]),
        "require": row["require"],
        "in_stock": in_stock,
        "stock_status": _stock_status(row["stock_status"]) if in_stock else _("Out of stock"),
        "inventory": row["inventory"],
        "type": row["type"],
        "type_label": PRODUCT_TYPE_NAMES.get(row["type"], row["type"]),
        "description": row["description"],
    }


def product_list(request: HttpRequest) -> HttpResponse:
    pricing = pricing_of(request)
    products = [_product_display(row, pricing) for row in product_rows()]
    return render(request, "providers/product_list.html", {"products": products})
