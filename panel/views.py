"""Site-wide pages: the landing page, the dashboard, the API documentation and the health check."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.http import AuthenticatedRequest
from accounts.ranks import rank_card
from accounts.services import user_set_language
from orders.forms import type_layout
from orders.selectors import dashboard_figures, orders_for_user
from orders.type_rules import RULES, SUBSCRIPTION_DELAYS
from panel import health as health_checks
from panel.language import SESSION_CHOICE_KEY, is_supported
from panel.webhook_pages import webhooks_context
from providers.models import ServiceType
from providers.pricing import customer_percent_off

logger = logging.getLogger(__name__)

LATEST_ORDERS = 5
# Sample values for the per-type `add` examples of the API page.
_EXAMPLE_VALUES = {
    "link": "https://instagram.com/p/abc123",
    "quantity": "1000",
    "comments": "Great post!\nLove this",
    "usernames": "alice\nbob",
    "hashtags": "#summer\n#beach",
    "hashtag": "#summer",
    "username": "alice",
    "media": "https://instagram.com/p/xyz789",
    "answer_number": "2",
    "groups": "https://t.me/group_one\nhttps://t.me/group_two",
    "keywords": "best pizza\npizza near me",
    "min": "100",
    "max": "200",
    "posts": "10",
    "old_posts": "2",
    "delay": "30",
    "expiry": "31/12/2030",
    "runs": "5",
    "interval": "30",
}
_OPTIONAL_SUBSCRIPTION_FIELDS = ("posts", "old_posts", "delay", "expiry")


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "panel/home.html")


@login_required
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    figures = dashboard_figures(user=request.user)
    latest = [
        {"order": order, "charge": order.net_charge}
        for order in orders_for_user(user=request.user)[:LATEST_ORDERS]
    ]
    context = {
        "figures": figures,
        "spent": figures["spent"],
        "balance": request.user.balance,
        "discount": customer_percent_off(user=request.user),
        "rank": rank_card(user=request.user),
        "latest": latest,
    }
    return render(request, "panel/dashboard.html", context)


def _add_example(service_type: str) -> dict:
    """The `add` parameters of one service type (from the same rules the service applies)."""
    layout = type_layout(service_type)
    optional = [name for name in layout["fields"] if name in _OPTIONAL_SUBSCRIPTION_FIELDS]
    required = [name for name in layout["fields"] if name not in optional]
    if layout["dripfeed"]:
        optional += ["runs", "interval"]
    params = {"key": "YOUR_API_KEY", "action": "add", "service": "1"}
    params.update((name, _EXAMPLE_VALUES[name]) for name in required)
    return {
        "type": service_type,
        "required": required,
        "optional": optional,
        "counted": layout["counted"],
        "package": layout["package"],
        "subscription": layout["subscription"],
        "dripfeed": layout["dripfeed"],
        "body": urlencode(params),
    }


def api_docs(request: HttpRequest) -> HttpResponse:
    return api_page(request)


def api_page(request: HttpRequest, **extra: object) -> HttpResponse:
    """The API page; `extra` carries what a webhook action shows once (a new secret, a form
    with its errors)."""
    user = request.user
    active_key = (
        user.api_keys.filter(revoked_at__isnull=True).first() if user.is_authenticated else None
    )
    context = {
        "endpoint": request.build_absolute_uri("/api/v2"),
        "active_key": active_key,
        "add_examples": [
            _add_example(service_type)
            for service_type in ServiceType.values
            if service_type in RULES
        ],
        "delays": ", ".join(str(minutes) for minutes in SUBSCRIPTION_DELAYS),
        "default_posts": settings.PANEL_SUBSCRIPTION_DEFAULT_POSTS,
        "api_rate": settings.PANEL_API_RATE,
        **(webhooks_context(user=user) if user.is_authenticated else {}),
        **extra,
    }
    return render(request, "panel/api_docs.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (safe `next`, the language cookie), and the choice kept: on the user
    when logged in, in the session for a visitor so that logging in keeps it."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if is_supported(language):
        if request.user.is_authenticated:
            user_set_language(user=request.user, language=language)
        else:
            request.session[SESSION_CHOICE_KEY] = language
    return response


@never_cache
@transaction.non_atomic_requests
def health(request: HttpRequest) -> JsonResponse:
    """The web process's own dependencies: 503 when any is down, so a load balancer stops
    sending traffic here. A dead worker is reported but does not fail this check."""
    checks = health_checks.dependency_checks()
    is_ok = all(check.is_ok for check in checks.values())
    body = {
        "status": "ok" if is_ok else "error",
        **{name: check.as_dict() for name, check in checks.items()},
        "worker": health_checks.worker_status().as_dict(),
    }
    return JsonResponse(body, status=200 if is_ok else 503)


@never_cache
@transaction.non_atomic_requests
def health_worker(request: HttpRequest) -> JsonResponse:
    """503 when no worker consumed beat's heartbeat lately: alert on this for a dead worker."""
    status = health_checks.worker_status()
    body = {"status": "ok" if status.is_alive else "error", "worker": status.as_dict()}
    return JsonResponse(body, status=200 if status.is_alive else 503)
