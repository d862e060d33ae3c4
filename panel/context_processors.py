from django.conf import settings
from django.http import HttpRequest

from core.money import currency_label


def panel(request: HttpRequest) -> dict[str, object]:
    context: dict[str, object] = {
        "panel_name": settings.PANEL_NAME,
        "panel_currency": settings.PANEL_CURRENCY,
        # What amounts are labelled with: the symbol where one is usual (₫), else the code.
        "panel_currency_label": currency_label(settings.PANEL_CURRENCY),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["user_balance"] = user.balance  # formatted by the template's money filter
    return context
