"""The owner's settings of one of his child panels, on /child-panels/ (the parent's page): his
payment settings, his queue of transfers that matched nobody, and his logo."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from accounts.models import ChildPanelLogo
from core.errors import PanelError, error_display
from panel.child_panels.forms import DepositAssignForm, LogoForm, PaymentSettingsForm
from panel.child_panels.logo import child_panel_logo_remove, child_panel_logo_set
from panel.child_panels.payments import (
    KEY_FIELDS,
    child_panel_deposit_assign,
    child_panel_payments_set,
)


def _parent_customer(request: AuthenticatedRequest) -> None:
    # A child panel's customer owns no child panels (and is on the child's host anyway).
    if request.user.child_panel_id is not None or getattr(request, "child_panel", None):
        raise Http404


@login_required
@require_POST
def child_panel_payments(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _parent_customer(request)
    form = PaymentSettingsForm(request.POST)
    if not form.is_valid():
        errors = [str(error) for field in form for error in field.errors]
        messages.error(request, " ".join(errors) or gettext("Check the payment settings."))
        return redirect("child_panel_list")
    data = form.cleaned_data
    try:
        child_panel_payments_set(
            owner=request.user,
            child_panel_id=pk,
            bank_bin=data["bank_bin"],
            account_number=data["account_number"],
            holder=data["holder"],
            transfer_prefix=data["transfer_prefix"],
            keys={name: data[name].strip() for name in KEY_FIELDS},
            forget=tuple(name for name in KEY_FIELDS if request.POST.get(f"forget_{name}")),
        )
    except PanelError as exc:
        messages.error(request, error_display(exc))
    else:
        messages.success(
            request, gettext("Payment settings saved: your customers now pay into your account.")
        )
    return redirect("child_panel_list")


@login_required
@require_POST
def child_panel_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _parent_customer(request)
    form = DepositAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Check the username."))
        return redirect("child_panel_list")
    try:
        child_panel_deposit_assign(
            owner=request.user,
            child_panel_id=pk,
            deposit_id=form.cleaned_data["deposit"],
            username=form.cleaned_data["username"],
        )
    except PanelError as exc:
        messages.error(request, error_display(exc))
    else:
        messages.success(request, gettext("The transfer was credited to the customer."))
    return redirect("child_panel_list")


@login_required
@require_POST
def child_panel_logo(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _parent_customer(request)
    try:
        if request.POST.get("remove"):
            child_panel_logo_remove(owner=request.user, child_panel_id=pk)
            messages.success(request, gettext("The logo was removed."))
            return redirect("child_panel_list")
        form = LogoForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, " ".join(str(error) for error in form.errors.get("logo", [])))
            return redirect("child_panel_list")
        child_panel_logo_set(owner=request.user, child_panel_id=pk, data=form.cleaned_data["logo"])
    except PanelError as exc:
        messages.error(request, error_display(exc))
    else:
        messages.success(request, gettext("The logo was saved."))
    return redirect("child_panel_list")


@require_GET
@cache_control(max_age=31536000, immutable=True)
def logo(request: HttpRequest, stamp: str) -> HttpResponse:
    """The logo of the panel this host serves, and of no other: the parent's host and any
    other panel's answer 404. The stamp is when it was uploaded, so a new one is a new URL."""
    child = getattr(request, "child_panel", None)
    found = ChildPanelLogo.objects.filter(child_panel=child).first() if child else None
    if found is None:
        raise Http404
    response = HttpResponse(bytes(found.image), content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
