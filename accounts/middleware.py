"""Staff reach the admin only with two-factor on, when PANEL_STAFF_2FA is set."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.two_factor import has_two_factor


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.PANEL_STAFF_2FA
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and not has_two_factor(user)
        ):
            messages.warning(request, _("Turn on two-factor authentication to use the admin."))
            return HttpResponseRedirect(reverse("two_factor"))
        return self.get_response(request)
