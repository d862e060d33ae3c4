"""The Affiliates page (the link, its QR, the figures, moving and paying out commission) and the
referral link itself."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.login_throttle import client_address
from accounts.models import User
from affiliates import services
from affiliates.forms import MoveForm, PayoutForm
from affiliates.selectors import affiliate_figures, referral_rows
from core.errors import PanelError, error_display

COOKIE = "panel_ref"
COOKIE_SALT = "affiliates.referral"


def referral_visit(request: HttpRequest, code: str) -> HttpResponse:
    """`/r/<code>/`: remember the referrer in a signed cookie (the first link a browser followed
    wins) and go to the sign-up page."""
    response = redirect("dashboard" if request.user.is_authenticated else "signup")
    if request.user.is_authenticated or request.get_signed_cookie(
        COOKIE, default="", salt=COOKIE_SALT
    ):
        return response
    affiliate = services.affiliate_visit(code=code)
    if affiliate is not None:
        response.set_signed_cookie(
            COOKIE,
            affiliate.code,
            salt=COOKIE_SALT,
            max_age=settings.PANEL_AFFILIATE_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def record_sign_up(request: HttpRequest, user: User) -> None:
    """accounts' sign-up calls this for each new account (panel/urls.py wires it)."""
    services.referral_record_signup(
        user=user,
        code=request.get_signed_cookie(COOKIE, default="", salt=COOKIE_SALT) or "",
        address=client_address(request),
        user_agent=request.headers.get("User-Agent", ""),
    )


def _qr_svg(url: str) -> str:
    # No fixed size: the stylesheet sizes it (a viewBox scales it sharply).
    return segno.make(url, error="m", micro=False).svg_inline(
        border=2, dark="#111827", omitsize=True
    )


def _page(
    request: AuthenticatedRequest,
    *,
    move_form: MoveForm | None = None,
    payout_form: PayoutForm | None = None,
) -> HttpResponse:
    affiliate = services.affiliate_ensure(user_id=request.user.pk)
    link = request.build_absolute_uri(reverse("referral_visit", args=[affiliate.code]))
    context = {
        "link": link,
        "qr": _qr_svg(link),
        "figures": affiliate_figures(user=request.user, affiliate=affiliate),
        "referrals": referral_rows(user=request.user),
        "move_form": move_form or MoveForm(),
        "payout_form": payout_form or PayoutForm(),
        "min_payout": settings.PANEL_AFFILIATE_MIN_PAYOUT,
        "cookie_days": settings.PANEL_AFFILIATE_COOKIE_DAYS,
        "currency": settings.PANEL_CURRENCY,
        "payouts": request.user.payouts.order_by("-id")[:10],
    }
    return render(request, "affiliates/affiliates.html", context)


@never_cache
@login_required
def affiliates_page(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def commission_move(request: AuthenticatedRequest) -> HttpResponse:
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.commission_move_to_balance(
                user=request.user, amount=form.cleaned_data["amount"]
            )
        except PanelError as exc:
            form.add_error("amount", error_display(exc))
        else:
            messages.success(request, gettext("Commission moved to your balance."))
            return redirect("affiliates")
    return _page(request, move_form=form)


@login_required
@require_POST
def payout_request(request: AuthenticatedRequest) -> HttpResponse:
    form = PayoutForm(request.POST)
    if form.is_valid():
        try:
            services.payout_request(
                user=request.user,
                amount=form.cleaned_data["amount"],
                details=form.cleaned_data["details"],
            )
        except PanelError as exc:
            form.add_error("amount", error_display(exc))
        else:
            messages.success(request, gettext("Payout requested. An admin will send it."))
            return redirect("affiliates")
    return _page(request, payout_form=form)
