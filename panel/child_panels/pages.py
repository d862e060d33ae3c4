"""The customer's child panels page: order one, see its DNS records and state, pay its fee."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts import form_tokens
from accounts.http import AuthenticatedRequest
from accounts.models import ChildPanel, ChildPanelState
from accounts.ranks import can_order_child_panels
from core.errors import PanelError, error_display
from panel.child_panels.billing import (
    child_panel_customer_credit,
    child_panel_order,
    child_panel_renew,
)
from panel.child_panels.forms import (
    ChildPanelOrderForm,
    CustomerCreditForm,
    LogoForm,
    PaymentSettingsForm,
)
from panel.child_panels.payments import (
    KEY_FIELDS,
    child_panel_payment_settings,
    child_panel_queue,
)

# The newest transfers of a panel's queue shown on the page; the parent's admin lists them all.
QUEUE_SHOWN = 20


def _entry(child: ChildPanel) -> dict[str, object]:
    """One panel's card: its payment settings (keys masked) and the newest of its queue."""
    payments = child_panel_payment_settings(child=child)
    return {
        "child": child,
        "payments": payments,
        "queue": list(child_panel_queue(child=child)[:QUEUE_SHOWN]),
        "keys": [
            {
                "name": name,
                "label": PaymentSettingsForm.base_fields[name].label,
                "masked": payments.masked_keys.get(name, "") if payments else "",
            }
            for name in KEY_FIELDS
        ],
    }


def _parent_customer(request: AuthenticatedRequest) -> None:
    # A child panel's customer is offered no child panels of his own.
    if request.user.child_panel_id is not None:
        raise Http404


@login_required
def child_panel_list(request: AuthenticatedRequest) -> HttpResponse:
    _parent_customer(request)
    form = ChildPanelOrderForm(
        request.POST or None,
        initial={"language": settings.LANGUAGE_CODE, "currency": settings.PANEL_CURRENCY},
    )
    can_order = can_order_child_panels(user=request.user)
    if request.method == "POST" and can_order and form.is_valid():
        token = request.POST.get(form_tokens.FIELD)
        try:
            with transaction.atomic():
                form_tokens.form_submission_claim(user=request.user, token=token)
                child_panel_order(owner=request.user, **form.cleaned_data)
                form_tokens.form_submission_record(
                    user=request.user, token=token, result_url=reverse("child_panel_list")
                )
        except form_tokens.AlreadySubmitted as done:
            messages.info(
                request, gettext("This form was already sent: nothing was charged twice.")
            )
            return redirect(done.result_url)
        except PanelError as exc:
            form.add_error(None, error_display(exc))
        else:
            messages.success(request, gettext("Your child panel is set up. Point its domain here."))
            return redirect("child_panel_list")
    panels = ChildPanel.objects.filter(owner=request.user).exclude(state=ChildPanelState.DELETED)
    entries = [_entry(child) for child in panels]
    return render(
        request,
        "child_panels/list.html",
        {
            "form": form,
            "entries": entries,
            "payment_form": PaymentSettingsForm(),
            "logo_form": LogoForm(),
            "credit_form": CustomerCreditForm(),
            "can_order": can_order,
            "panels": panels,
            "target": settings.PANEL_CHILD_PANEL_TARGET,
            "setup_price": settings.PANEL_CHILD_PANEL_SETUP_PRICE,
            "monthly_fee": settings.PANEL_CHILD_PANEL_MONTHLY_FEE,
            "grace_days": settings.PANEL_CHILD_PANEL_GRACE_DAYS,
        },
    )


@login_required
@require_POST
def child_panel_credit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _parent_customer(request)
    form = CustomerCreditForm(request.POST)
    token = request.POST.get(form_tokens.FIELD)
    if not form.is_valid():
        messages.error(request, gettext("Check the username and the amount."))
        return redirect("child_panel_list")
    try:
        with transaction.atomic():
            form_tokens.form_submission_claim(user=request.user, token=token)
            child_panel_customer_credit(
                owner=request.user,
                child_panel_id=pk,
                username=form.cleaned_data["username"],
                amount=form.cleaned_data["amount"],
            )
            form_tokens.form_submission_record(
                user=request.user, token=token, result_url=reverse("child_panel_list")
            )
    except form_tokens.AlreadySubmitted as done:
        messages.info(request, gettext("This form was already sent: nothing was added twice."))
        return redirect(done.result_url)
    except PanelError as exc:
        messages.error(request, error_display(exc))
    else:
        messages.success(request, gettext("Funds added to the customer's balance."))
    return redirect("child_panel_list")


@login_required
@require_POST
def child_panel_pay(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _parent_customer(request)
    child = get_object_or_404(ChildPanel, pk=pk, owner=request.user)
    outcome = child_panel_renew(child_panel_id=child.pk)
    if outcome == "paid":
        messages.success(request, gettext("Paid: the panel runs for another 30 days."))
    elif outcome == "not_due":
        messages.info(request, gettext("Nothing is due yet."))
    else:
        messages.error(request, gettext("Not enough funds on balance"))
    return redirect("child_panel_list")
