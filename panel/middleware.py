"""Middleware of the pages: refusing text the database cannot store, and leaving /api/v2 out of
what only pages need.

Refuse page requests carrying text the database cannot store, before any view queries it.

A NUL in `?q=` or a form field used to reach PostgreSQL and answer 500 with a traceback; one
check here covers every page, admin and form at once. /api/v2 answers in its own protocol
(`Incorrect request`, see panel.api.views) and is left to it.

Reading `request.POST` here parses the body before the view runs: a urlencoded body stays
readable as `request.body`, a multipart one does not. A future view that must verify a raw
multipart body (no webhook does today: they post JSON) belongs beside /api/v2 in EXEMPT.
"""

from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict
from django_permissions_policy import PermissionsPolicyMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware

from accounts.middleware import StaffTwoFactorMiddleware
from core.text import is_storable
from panel.error_pages import bad_request

EXEMPT = ("/api/v2", "/adminapi/v2/")


def _clean(data: QueryDict) -> bool:
    return all(
        is_storable(key) and all(is_storable(value) for value in values)
        for key, values in data.lists()
    )


class StorableInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(EXEMPT):
            return self.get_response(request)
        # The session and CSRF cookies are looked up in the database: a bad one is ignored.
        for name in [name for name, value in request.COOKIES.items() if not is_storable(value)]:
            del request.COOKIES[name]
        if not _clean(request.GET) or (request.method == "POST" and not _clean(request.POST)):
            return bad_request(request, BadRequest("unstorable characters in the request"))
        return self.get_response(request)


class PagesOnly:
    """Mixed into a middleware that /api/v2 does without: its answers are JSON for scripts that
    authenticate with a key, and never use a session, a login, messages, static files or the
    headers that guard a page a browser renders (CSP, permissions). Skipping them there is
    a noticeable share of an `add` (docs/performance.md); pages keep all of them. The security and
    common middleware (HTTPS, HSTS, nosniff, the host check) stay on every request, and so do
    CSRF (the view is exempt: it only looks) and X-Frame-Options, which `check --deploy` wants
    by their own names."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(EXEMPT):
            return self.get_response(request)  # type: ignore[attr-defined]
        return super().__call__(request)  # type: ignore[misc]


class PagesOnlyPermissionsPolicy(PagesOnly, PermissionsPolicyMiddleware):
    pass


class PagesOnlyCSP(PagesOnly, CSPMiddleware):
    pass


class PagesOnlyWhiteNoise(PagesOnly, WhiteNoiseMiddleware):
    pass


class PagesOnlySession(PagesOnly, sessions.SessionMiddleware):
    pass


class PagesOnlyAuthentication(PagesOnly, auth.AuthenticationMiddleware):
    pass


class PagesOnlyMessages(PagesOnly, messages.MessageMiddleware):
    pass


class PagesOnlyStaffTwoFactor(PagesOnly, StaffTwoFactorMiddleware):
    pass
