"""The API page's webhook actions: add an endpoint (its secret shown in this answer only),
change its events or threshold, send a test event, delete it, resend a delivery."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from notifications.forms import WebhookEndpointForm
from notifications.webhooks.selectors import ERROR_TEXTS
from notifications.webhooks.services import (
    WebhookRefused,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_resend,
    webhook_test_send,
)
from panel.views import api_page


def _back() -> HttpResponse:
    return redirect(reverse("api_docs") + "#webhooks")


def _refused(request: AuthenticatedRequest, exc: WebhookRefused) -> None:
    messages.error(request, str(ERROR_TEXTS.get(exc.code, exc.code)))


@never_cache
@login_required
@require_POST
def webhook_add(request: AuthenticatedRequest) -> HttpResponse:
    # The secret is not kept readable anywhere: it goes out in this answer only.
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return api_page(request, webhook_form=form, webhook_form_open=True)
    try:
        endpoint, secret = webhook_endpoint_create(
            user=request.user,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            balance_threshold=form.cleaned_data["balance_threshold"],
        )
    except WebhookRefused as exc:
        form.add_error("url", str(ERROR_TEXTS.get(exc.code, exc.code)))
        return api_page(request, webhook_form=form, webhook_form_open=True)
    return api_page(request, webhook_new_secret=secret, webhook_new_id=endpoint.pk)


@login_required
@require_POST
def webhook_update(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    form = WebhookEndpointForm(request.POST, is_new=False)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return _back()
    try:
        webhook_endpoint_update(
            user=request.user,
            endpoint_id=pk,
            events=form.cleaned_data["events"],
            balance_threshold=form.cleaned_data["balance_threshold"],
        )
    except WebhookRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The endpoint is saved."))
    return _back()


@login_required
@require_POST
def webhook_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    if webhook_endpoint_delete(user=request.user, endpoint_id=pk):
        messages.success(request, _("The endpoint is deleted: it gets no more events."))
    return _back()


@login_required
@require_POST
def webhook_test(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        webhook_test_send(user=request.user, endpoint_id=pk)
    except WebhookRefused as exc:
        _refused(request, exc)
    else:
        messages.success(
            request, _("A test event is on its way: its answer appears under Deliveries.")
        )
    return _back()


@login_required
@require_POST
def webhook_delivery_resend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    if webhook_resend(user=request.user, notification_id=pk):
        messages.success(request, _("The delivery is queued again."))
    else:
        messages.info(request, _("This delivery is already on its way."))
    return _back()
