from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from accounts.models import User
from core.money import currency_label
from panel.contact import support_contacts
from panel.notices import DISMISSED_COOKIE, site_notices


def panel(request: HttpRequest) -> dict[str, object]:
    # A child panel's pages carry its own name (docs/child-panels.md); its prices are the
    # parent's currency until child panels price in their own.
    child = getattr(request, "child_panel", None)
    context: dict[str, object] = {
        "panel_name": child.name if child is not None else settings.PANEL_NAME,
        "child_panel": child,
        "panel_currency": settings.PANEL_CURRENCY,
        # What amounts are labelled with: the symbol where one is usual (₫), else the code.
        "panel_currency_label": currency_label(settings.PANEL_CURRENCY),
        # The parent's own hotline and chats: a child panel's customers are its owner's.
        "support_contacts": support_contacts() if child is None else (),
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
        context["user_balance"] = lambda: (
            User.objects.filter(pk=user.pk).values_list("balance", flat=True).first()
        )
    return context
