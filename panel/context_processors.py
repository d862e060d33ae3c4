from django.conf import settings
from django.http import HttpRequest

from core.money import balance_str


def panel(request: HttpRequest) -> dict[str, str]:
    context = {"panel_name": settings.PANEL_NAME, "panel_currency": settings.PANEL_CURRENCY}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["user_balance"] = balance_str(user.balance)
    return context
