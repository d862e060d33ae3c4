"""Staff reach the admin only with two-factor on, when PANEL_STAFF_2FA is set."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.two_factor import lacks_required_two_factor


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path.startswith(reverse("admin:index"))
            and lacks_required_two_factor(user)
        ):
            messages.warning(request, _("Turn on two-factor authentication to use the admin."))
            return HttpResponseRedirect(reverse("two_factor"))
        return self.get_response(request)
