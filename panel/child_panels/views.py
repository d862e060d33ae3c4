"""The child panels' public endpoints: Caddy's on-demand TLS question, and the child panel's
colours."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from panel.child_panels.selectors import is_tls_allowed


@require_GET
def tls_allowed(request: HttpRequest) -> HttpResponse:
    """Caddy's `ask` (deploy/Caddyfile): 200 lets it get a certificate for `domain`, any other
    answer refuses. Only active child panels' domains get one: a name nobody registered must not
    make Caddy ask a certificate authority (its rate limits are per account)."""
    domain = request.GET.get("domain", "")
    if domain and is_tls_allowed(domain):
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponse("no", content_type="text/plain", status=404)


@require_GET
@cache_control(max_age=300)
def theme_css(request: HttpRequest) -> HttpResponse:
    """The child panel's colour as a stylesheet (the content policy allows no inline style)."""
    child = getattr(request, "child_panel", None)
    body = f":root {{ --brand: {child.colour}; }}\n" if child is not None else ""
    return HttpResponse(body, content_type="text/css")
