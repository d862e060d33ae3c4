from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from accounts.models import User
from core.money import currency_label, panel_currency
from panel.child_panels.grace import owner_notice
from panel.child_panels.selectors import child_panel_takes_payments
from panel.contact import support_contacts
from panel.notices import DISMISSED_COOKIE, site_notices


def panel(request: HttpRequest) -> dict[str, object]:
    # A child panel's pages carry its own name, logo and currency (docs/child-panels.md).
    child = getattr(request, "child_panel", None)
    context: dict[str, object] = {
        "panel_name": child.name if child is not None else settings.PANEL_NAME,
        "child_panel": child,
        # Whether its customers add funds on it (its owner set his payment settings): the
        # parent's own money-in links are shown always.
        "takes_payments": True
        if child is None
        else SimpleLazyObject(lambda: child_panel_takes_payments(child.pk)),
        "panel_currency": panel_currency(),
        # What a child panel's owner pays this panel in (his fee notice).
        "parent_currency": settings.PANEL_CURRENCY,
        # What amounts are labelled with: the symbol where one is usual (₫), else the code.
        "panel_currency_label": currency_label(panel_currency()),
        # The parent's Zalo, hotline and Telegram are the parent's: a child panel's customers
        # reach its owner through its own tickets.
        "support_contacts": support_contacts() if child is None else [],
        # Read when the frame is drawn (a JSON answer never asks): one query for both notices.
        "site_notices": SimpleLazyObject(
            lambda: site_notices(
                language=get_language() or settings.LANGUAGE_CODE,
                dismissed=request.COOKIES.get(DISMISSED_COOKIE, ""),
            )
        ),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Read when the top bar is drawn, not when the request began: a page that charged
        # (a mass order answers with its own page, no redirect) shows the balance it left.
        # The fee due or unpaid, for the owner's own login on his panel (and his staff).
        context["owner_notice"] = owner_notice(child=child, user=user)
        context["user_balance"] = lambda: (
            User.objects.filter(pk=user.pk).values_list("balance", flat=True).first()
        )
    return context
