"""The request's host picks the panel (docs/child-panels.md).

The parent's own hosts (ALLOWED_HOSTS, and PANEL_PUBLIC_URL's) serve the parent; a live child
panel's domain serves that panel, with the current panel set for everything the request runs
(core.tenancy); any other host gets a plain 404 page, never the parent. A child panel that is
not active answers every page with a page saying so and /api/v2 with an error. A child panel's
host has its own URLs (panel.urls_child): its own admin at /admin/, for its owner and his
staff, in place of the parent's; and none of the parent's own money-in paths (PARENT_ONLY);
its add-funds page and webhooks are its owner's own once he has set them (PAYMENTS).
"""

import threading
import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_noop

from accounts.models import ChildPanel, ChildPanelState
from core.tenancy import panel_scope
from panel.child_panels.selectors import child_panel_for_host, child_panel_takes_payments

# The parent's own: its referral programme, its Telegram bot and its operator API, and its
# payment gateways (PAYMENTS) on a child panel whose owner has not set his own: its customers
# would otherwise pay nobody, or the parent's account (docs/child-panels.md).
PARENT_ONLY = (
    "/adminapi/",
    "/affiliates/",
    "/r/",
    "/telegram/",
    "/account/telegram/",  # linking a chat to the parent's bot
)
# Served on a child panel once its owner has set his payment settings on /child-panels/: the
# add-funds page shows his bank account, and the gateways' webhooks on his host credit his
# customers from his keys (payments.config reads the served panel's settings only).
PAYMENTS = ("/add-funds/", "/payments/")
WEBHOOKS = "/payments/webhooks/"

CHILD_URLCONF = "panel.urls_child"

NOT_SERVING_API_ERRORS = {
    ChildPanelState.WAITING_DNS: gettext_noop("This panel is not open yet"),
    ChildPanelState.SUSPENDED: gettext_noop("This panel is suspended"),
}


@cache
def parent_hosts() -> tuple[str, ...]:
    public = urlsplit(settings.PANEL_PUBLIC_URL).hostname or ""
    hosts = (*settings.PANEL_PARENT_HOSTS, *([public] if public else []))
    return tuple(host.lower() for host in hosts)


# Domains this process looked up lately: (when to look again, the panel or None). Every request
# asks, and a panel's domain, state, name and colour change rarely; another process's change is
# seen within PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS, this process's own at once (forget_hosts).
# Bounded: a flood of made-up host names must not grow it without end.
_MAX_HOSTS = 4096
_hosts: dict[str, tuple[float, ChildPanel | None]] = {}
_hosts_lock = threading.Lock()


def panel_for_host(domain: str) -> ChildPanel | None:
    """The live child panel serving `domain`, or None; from this process's memory when it
    looked lately (docs/child-panels.md)."""
    seconds = settings.PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS
    if seconds <= 0:
        return child_panel_for_host(domain)
    now = time.monotonic()
    known = _hosts.get(domain)
    if known is not None and known[0] > now:
        return known[1]
    child = child_panel_for_host(domain)
    with _hosts_lock:
        if len(_hosts) >= _MAX_HOSTS:
            _hosts.clear()
        _hosts[domain] = (now + seconds, child)
    return child


def forget_hosts() -> None:
    """Look every domain up again: a panel of this process changed (its state, its domain)."""
    with _hosts_lock:
        _hosts.clear()


def request_domain(request: HttpRequest) -> str:
    raw = request.META.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None
    raw = raw or request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    domain, _port = split_domain_port(raw.strip().lower())
    return domain


class ChildPanelHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        domain = request_domain(request)
        # The parent's exact names first (no query); then child panels, so a child panel on a
        # subdomain is served even when ALLOWED_HOSTS holds a wildcard (.example.com) for it.
        if domain and domain in parent_hosts():
            return self._parent(request)
        child = panel_for_host(domain) if domain else None
        if child is None:
            if domain and validate_host(domain, parent_hosts()):
                return self._parent(request)
            return _unknown_host(request)
        request.child_panel = child  # type: ignore[attr-defined]
        request.urlconf = CHILD_URLCONF
        with panel_scope(child.pk, currency=child.currency):
            # A suspended panel still takes its owner's webhooks: money his customers already
            # sent is credited to them (as a gateway switched off still records what arrives).
            passes = request.path.startswith((settings.STATIC_URL, WEBHOOKS))
            if not child.is_serving and not passes:
                return _not_serving(request, child)
            if request.path.startswith(PARENT_ONLY):
                return _unknown_host(request)
            if request.path.startswith(PAYMENTS) and not child_panel_takes_payments(child.pk):
                return _unknown_host(request)
            return self.get_response(request)

    def _parent(self, request: HttpRequest) -> HttpResponse:
        request.child_panel = None  # type: ignore[attr-defined]
        return self.get_response(request)


def _unknown_host(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/v2"):
        # Scripts parse every answer of the API as JSON, a refused host's too.
        return JsonResponse({"error": "Incorrect request"}, status=400)
    # No template of the panel's: it would name the parent on a host that is not the parent's.
    return HttpResponse(
        render_to_string("child_panels/unknown_host.html", request=None), status=404
    )


def _not_serving(request: HttpRequest, child: ChildPanel) -> HttpResponse:
    message = NOT_SERVING_API_ERRORS[ChildPanelState(child.state)]
    if request.path.startswith("/api/v2"):
        # The protocol's error shape (HTTP 200 with an `error` key), in English as every
        # protocol error is: scripts compare the text.
        return JsonResponse({"error": message})
    with translation.override(child.language):
        body = render_to_string(
            "child_panels/not_serving.html", {"child": child, "message": message}, request=None
        )
    return HttpResponse(body, status=503)
