"""Customer pages (add funds, deposits) and the gateways' webhooks."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    RawPostDataException,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from core.errors import PanelError, error_display
from core.money import balance_str, money_str, money_text
from payments import services
from payments.config import gateway_config, offered_methods
from payments.forms import AmountForm, BankCouponForm
from payments.gateways import GATEWAYS, StartFailed, Webhook, WebhookRejected
from payments.gateways.base import require_storable
from payments.memo import memo_for
from payments.models import Deposit, Method
from payments.registry import method_labels, starting_gateway
from payments.selectors import deposits_for_user, last_credited_deposit, last_credited_deposit_id
from payments.transfer_page import (
    account_by_key,
    chosen_amount,
    png_filename,
    transfer_context,
    transfer_png,
)

logger = logging.getLogger(__name__)
DEPOSITS_PER_PAGE = 30


@never_cache
@login_required
@require_GET
def add_funds(request: AuthenticatedRequest) -> HttpResponse:
    configs = {config.method: config for config in offered_methods()}
    bank = configs.pop(Method.BANK, None)
    context = {
        "bank": transfer_context(config=bank, user=request.user, query=request.GET)
        if bank
        else None,
        "others": [
            {
                "config": config,
                "label": method_labels()[config.method],
                "low": money_str(config.min_amount) if config.min_amount else "",
                "high": money_str(config.max_amount) if config.max_amount else "",
            }
            for config in configs.values()
        ],
        "last_deposit_id": last_credited_deposit_id(user=request.user),
    }
    return render(request, "payments/add_funds.html", context)


@never_cache
@login_required
@require_GET
def deposit_qr_png(request: AuthenticatedRequest, key: str) -> HttpResponse:
    """One account's VietQR as a PNG to save to the phone's photos, carrying the amount asked
    and the customer's own memo (never anyone else's: the memo is not a parameter)."""
    config = gateway_config(method=Method.BANK)
    account = account_by_key(config, key) if config.is_offered else None
    if account is None:
        raise Http404()
    _form, amount = chosen_amount(request.GET, config=config)
    memo = memo_for(prefix=config.transfer_prefix, user_id=request.user.pk)
    response = HttpResponse(
        transfer_png(
            account=account, user=request.user, prefix=config.transfer_prefix, amount=amount
        ),
        content_type="image/png",
    )
    filename = png_filename(account=account, memo=memo, amount=amount)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def bank_coupon(request: AuthenticatedRequest) -> HttpResponse:
    """Keep (or, left empty, remove) the coupon for the customer's next bank transfer."""
    if getattr(request, "child_panel", None) is not None:
        raise Http404  # the parent's coupons are the parent's: a child panel's page has none
    config = gateway_config(method=Method.BANK)
    form = BankCouponForm(request.POST)
    if not config.is_offered or config.rate is None or not form.is_valid():
        messages.error(request, _("Enter the amount you will transfer and a coupon code."))
        return redirect("add_funds")
    amount, code = form.cleaned_data["amount"], form.cleaned_data["coupon"]
    back = f"{reverse('add_funds')}?amount={amount}"
    if not code:
        services.bank_coupon_clear(user=request.user)
        messages.success(request, _("The coupon was removed."))
        return redirect(back)
    try:
        quote = services.bank_coupon_choose(
            user=request.user, code=code, amount=amount, rate=config.rate
        )
    except PanelError as exc:
        messages.error(request, error_display(exc))
        return redirect(back)
    messages.success(request, _coupon_text(quote.coupon.code, quote.bonus, request))
    return redirect(back)


def _coupon_text(code: str, bonus: Decimal, request: AuthenticatedRequest) -> str:
    return _("Coupon %(code)s: a bonus of %(bonus)s %(currency)s when the money arrives.") % {
        "code": code,
        "bonus": money_str(bonus),
        "currency": request.user.currency,
    }


@login_required
@require_POST
@transaction.non_atomic_requests
def start_payment(request: AuthenticatedRequest, method: str) -> HttpResponse:
    # Not atomic: the pending deposit commits before the gateway is called, so a slow or failed
    # call never holds a transaction open and a created session always has its deposit.
    gateway = starting_gateway(method)
    if gateway is None:
        raise Http404()
    config = gateway_config(method=method)
    form = AmountForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid amount."))
        return redirect("add_funds")
    try:
        deposit = services.deposit_start(
            user=request.user,
            gateway=gateway.gateway,
            config=config,
            amount=form.cleaned_data["amount"],
            coupon_code=form.cleaned_data["coupon"],
        )
    except PanelError as exc:
        messages.error(request, error_display(exc))
        return redirect("add_funds")
    if deposit.coupon_code:
        _tell_coupon_bonus(request, deposit)
    try:
        url = gateway.start(
            deposit=deposit,
            config=config,
            return_url=request.build_absolute_uri(reverse("deposit_list")),
            callback_url=request.build_absolute_uri(
                reverse("payment_webhook", args=[deposit.gateway])
            ),
        )
    except StartFailed as exc:
        logger.warning("deposit %s could not start: %s", deposit.pk, exc)
        services.deposit_abandon(deposit_id=deposit.pk, reason=str(exc))
        messages.error(request, _("The payment could not be started. Try again later."))
        return redirect("add_funds")
    return HttpResponseRedirect(url)


def _tell_coupon_bonus(request: AuthenticatedRequest, deposit: Deposit) -> None:
    """Shown when the customer is back from the gateway. Checked again at credit time."""
    try:
        quote = services.deposit_coupon_quote(
            code=deposit.coupon_code, user=request.user, amount=deposit.amount, rate=deposit.rate
        )
    except PanelError:
        return  # used up a moment ago by another deposit: the credit notes it on the deposit
    messages.info(request, _coupon_text(quote.coupon.code, quote.bonus, request))


@never_cache
@login_required
@require_GET
def deposit_status(request: AuthenticatedRequest) -> JsonResponse:
    """Polled by the add-funds page: it reloads when a newer credited deposit shows up."""
    request.user.refresh_from_db(fields=["balance"])
    language = translation.get_language() or settings.LANGUAGE_CODE
    last = last_credited_deposit(user=request.user)
    return JsonResponse(
        {
            "balance": balance_str(request.user.balance),
            "currency": request.user.currency,
            # As the top bar writes it (panel_format's money filter), in the reader's language.
            "balance_text": money_text(
                request.user.balance, currency=request.user.currency, language=language
            ),
            "last_deposit_id": last.pk if last else 0,
            # What the newest credit added (bonus included), written the same way.
            "credited_text": money_text(
                last.credited_amount + last.bonus_amount,
                currency=request.user.currency,
                language=language,
            )
            if last
            else "",
        }
    )


@login_required
def deposit_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(deposits_for_user(user=request.user), DEPOSITS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "deposit": deposit,
            "amount": money_str(deposit.amount),
            "credited": money_str(deposit.credited_amount),
            "bonus": money_str(deposit.bonus_amount),
        }
        for deposit in page.object_list
    ]
    return render(request, "payments/deposit_list.html", {"page": page, "rows": rows})


def _webhook_body(request: HttpRequest) -> bytes:
    """The raw body every gateway signs. Gateways post JSON: a form body is refused before
    anything parses it (the page middleware may already have read it as a form, which leaves
    no raw body to check a signature over)."""
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise WebhookRejected("malformed body")
    try:
        return request.body
    except RawPostDataException as exc:
        raise WebhookRejected("malformed body") from exc


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def webhook(request: HttpRequest, gateway: str) -> JsonResponse:
    """Every gateway's webhook. Not atomic: the services commit before the 2xx goes out, so a
    gateway is never told "done" for a credit that could still roll back."""
    module = GATEWAYS.get(gateway)
    if module is None:
        return JsonResponse({"success": False, "error": "unknown gateway"}, status=404)
    try:
        body = _webhook_body(request)
    except WebhookRejected as exc:
        return JsonResponse({"success": False, "error": exc.reason}, status=exc.status)
    config = gateway_config(method=module.method)
    try:
        data = module.verify(webhook=Webhook(body=body, headers=request.headers), config=config)
        require_storable(data)
        outcome = module.apply(data=data, config=config)
    except WebhookRejected as exc:
        logger.warning("webhook %s rejected (%s): %s", gateway, exc.status, exc.reason)
        return JsonResponse({"success": False, "error": exc.reason}, status=exc.status)
    except PanelError as exc:
        logger.warning("webhook %s refused: %s", gateway, exc.message)
        return JsonResponse({"success": False, "error": exc.message}, status=400)
    if outcome is not None:
        logger.info(
            "webhook %s: deposit %s %s%s",
            gateway,
            outcome.deposit.pk,
            outcome.deposit.status,
            "" if outcome.is_new else " (replay)",
        )
    return JsonResponse(dict(module.success_body))
