"""The operator's notices on the site: the terms page and dismissing the announcement."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from panel.models import Notice
from panel.notices import DISMISSED_COOKIE, notice_html, notice_shown

# A dismissal is remembered for a year, per browser: the cookie holds the version dismissed.
DISMISSED_COOKIE_AGE = 365 * 24 * 3600


def terms(request: HttpRequest) -> HttpResponse:
    notice = notice_shown(Notice.Kind.TERMS)
    if notice is None:
        raise Http404("No terms of service")
    context = {"notice": notice, "html": notice_html(notice, language=get_language())}
    return render(request, "panel/terms.html", context)


@require_POST
def announcement_dismiss(request: HttpRequest) -> HttpResponse:
    """Hides the announcement of this version for this browser; a rewritten one shows again.
    Answers 204 to the page's script and a redirect back to a browser without script."""
    version = request.POST.get("version", "")[:64]
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponse(status=204) if request.POST.get("script") else redirect(target)
    response.set_cookie(
        DISMISSED_COOKIE,
        version,
        max_age=DISMISSED_COOKIE_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response
