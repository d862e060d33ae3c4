"""The orders pages' live refresh: their script asks every PANEL_LIVE_REFRESH_SECONDS, while the
tab is visible, for the orders on screen that are not settled, and replaces a row (or the order
page) whose version changed. The HTML comes from the same templates as the page, so numbers,
dates and words read exactly as the server first wrote them, in the reader's language."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from core.ids import parse_id
from core.money import money_text
from orders.selectors import orders_for_user
from orders.views.common import PER_PAGE
from orders.views.history import order_detail_context, order_list_rows


def _ids(text: str) -> list[int]:
    # At most a page of orders; what is not an id is left out rather than refused.
    ids = (parse_id(part) for part in text.split(",")[:PER_PAGE])
    return [number for number in ids if number is not None]


def _back_path(request: HttpRequest) -> str:
    """Where the refill and cancel forms of the new HTML lead back: the page that asked."""
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("order_list")


@never_cache
@login_required
@require_GET
def order_live(request: AuthenticatedRequest) -> JsonResponse:
    """`?ids=1,2&next=/orders/` → {"orders": {"1": {"version", "settled", "html"}}, "balance_text"}.
    Only the user's own orders answer; another's id is left out as if it did not exist.
    `view=detail` answers the order page's body instead of list rows."""
    orders = list(
        orders_for_user(user=request.user).filter(pk__in=_ids(request.GET.get("ids", "")))
    )
    # One token for every form in this answer (each render would mask it anew).
    shared = {"back_path": _back_path(request), "csrf_token": get_token(request)}
    if request.GET.get("view") == "detail":
        contexts = [order_detail_context(user=request.user, order=order) for order in orders]
        template = "orders/_order_detail_live.html"
    else:
        rows = order_list_rows(user=request.user, orders=orders)
        contexts = [{"row": row} for row in rows]
        template = "orders/_order_row.html"
    answer = {}
    for context in contexts:
        row = context["row"]
        answer[str(row["order"].pk)] = {
            "version": row["version"],
            "settled": row["is_settled"],
            "html": render_to_string(template, {**context, **shared}, request=request).strip(),
        }
    request.user.refresh_from_db(fields=["balance"])
    return JsonResponse(
        {
            "orders": answer,
            # As the top bar writes it (panel_format's money filter), in the reader's language.
            "balance_text": money_text(
                request.user.balance,
                currency=request.user.currency,
                language=get_language() or settings.LANGUAGE_CODE,
            ),
        }
    )
