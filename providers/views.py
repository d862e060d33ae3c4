"""Public catalog pages: services, the change log, and products (ordered through orders.views.products).

The catalog is read as plain value rows (`service_rows`, `product_rows`), never as model
instances: the services page must stay fast with 10,000 services on sale.
"""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.ids import parse_id
from core.money import money_str, parse_money
from providers.delivery_time import (
    percent_text,
    slow_time_text,
    usual_time_text,
)
from providers.models import (
    CHANGE_FIELD_NAMES,
    CHANGE_VALUE_NAMES,
    PACKAGE_TYPES,
    CatalogChange,
    service_type_name,
)
from providers.pricing import CustomerPricing, customer_pricing
from providers.selectors import product_rows, public_changes, service_category_rows, service_rows

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


def service_row_display(row: dict, pricing: CustomerPricing) -> dict:
    """One service row as a page shows it: the visitor's rate as money text, flags spelled out."""
    return {
        "id": row["id"],
        "name": row["name_override"] or row["name"],
        "type": row["type"],
        "type_label": service_type_name(row["type"]),
        "category_id": row["category_id"],
        "category": row["category__name"],
        "rate": money_str(pricing.service_rate(service_id=row["id"], rate=row["rate"])),
        "min": row["min"],
        "max": row["max"],
        "step": row["quantity_step"],
        "refill": row["has_refill"],
        "refill_badge": refill_badge(row["warranty_days"]),
        "cancel": row["has_cancel"],
        "dripfeed": row["has_dripfeed"],
        "description": row["description"],
        "is_package": row["type"] in PACKAGE_TYPES,
        **scorecard_display(row),
    }


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


def _grouped(rows: list[dict], pricing: CustomerPricing) -> list[dict]:
    groups: list[dict] = []
    for row in rows:
        if not groups or groups[-1]["id"] != row["category_id"]:
            groups.append({"id": row["category_id"], "name": row["category__name"], "services": []})
        groups[-1]["services"].append(service_row_display(row, pricing))
    return groups


def services(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    category_id = parse_id(request.GET.get("category"))
    page = Paginator(
        service_rows(search=search, category_id=category_id), SERVICES_PER_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "groups": _grouped(list(page.object_list), pricing_of(request)),
        "categories": service_category_rows(),
        "search": search,
        "category_id": category_id,
        "scorecard_days": settings.PANEL_SCORECARD_DAYS,
    }
    return render(request, "providers/services.html", context)


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
        "category": item.category.name,
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
        "category": row["category__name"],
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
