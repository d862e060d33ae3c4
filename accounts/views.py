"""The customer's account: profile, API key (shown once), balance history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import PhoneForm
from accounts.http import AuthenticatedRequest
from accounts.models import BalanceTransaction
from accounts.ranks import customer_percent_off, rank_card
from accounts.selectors import ledger_for_user
from core.money import ZERO

LEDGER_PER_PAGE = 50


def _account_page(
    request: AuthenticatedRequest,
    *,
    new_key: str = "",
    replaced: bool = False,
    phone_form: PhoneForm | None = None,
) -> HttpResponse:
    user = request.user
    context = {
        "phone_form": phone_form or PhoneForm(initial={"phone": user.phone}),
        "balance": user.balance,
        "discount": customer_percent_off(user=user),
        "rank": rank_card(user=user),
        "active_key": user.api_keys.filter(revoked_at__isnull=True).first(),
        "new_key": new_key,
        "replaced": replaced,
    }
    status = 400 if phone_form is not None and phone_form.errors else 200
    return render(request, "accounts/account.html", context, status=status)


@never_cache
@login_required
def account(request: AuthenticatedRequest) -> HttpResponse:
    return _account_page(request)


@never_cache
@login_required
@require_POST
def api_key_generate(request: AuthenticatedRequest) -> HttpResponse:
    # The key is not stored anywhere: it goes out in this answer only, never through a redirect.
    replaced = request.user.api_keys.filter(revoked_at__isnull=True).exists()
    key = services.api_key_create(user=request.user)
    return _account_page(request, new_key=key, replaced=replaced)


@never_cache
@login_required
@require_POST
def phone_save(request: AuthenticatedRequest) -> HttpResponse:
    form = PhoneForm(request.POST)
    if not form.is_valid():
        return _account_page(request, phone_form=form)
    services.user_set_phone(user=request.user, phone=form.cleaned_data["phone"])
    messages.success(request, gettext("Your phone / Zalo number is saved."))
    return redirect("account")


@login_required
@require_POST
def api_key_revoke(request: AuthenticatedRequest) -> HttpResponse:
    if services.api_key_revoke(user=request.user):
        messages.success(
            request, gettext("Your API key was revoked: requests with it are refused from now on.")
        )
    else:
        messages.info(request, gettext("You have no active API key."))
    return redirect("account")


def _ledger_row(entry: BalanceTransaction) -> dict:
    return {
        "entry": entry,
        "amount": entry.amount,
        "is_credit": entry.amount > ZERO,
        "balance_after": entry.balance_after,
    }


@login_required
def balance_history(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(ledger_for_user(user=request.user), LEDGER_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/balance_history.html",
        {"page": page, "rows": [_ledger_row(entry) for entry in page.object_list]},
    )
