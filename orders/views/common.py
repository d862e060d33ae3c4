"""Helpers shared by the customer order pages."""

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from accounts import form_tokens
from core.errors import error_display
from core.money import money_shown
from orders.errors import PanelError

PER_PAGE = 50


def paginate(request: HttpRequest, items: QuerySet, per_page: int = PER_PAGE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def charged_text(amount: Decimal) -> str:
    return money_shown(amount)


def order_error_text(order_id: int, exc: PanelError) -> str:
    return gettext("Order #%(id)s: %(error)s") % {"id": order_id, "error": error_display(exc)}


def back_url(request: HttpRequest, default: str = "order_list") -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def already_placed(request: HttpRequest, done: form_tokens.AlreadySubmitted) -> HttpResponse:
    """The answer to a form sent twice: where the first submit led, nothing placed again."""
    messages.info(
        request, gettext("This form was already sent: nothing was placed or charged twice.")
    )
    return redirect(done.result_url or reverse("order_list"))
