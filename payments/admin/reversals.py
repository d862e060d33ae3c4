"""Admin: recording that a credited deposit was refunded or charged back (a bank transfer sent
back, a dispute the gateway did not report), and the list of such reversals. The affiliates'
settle pass reads them (docs/affiliates.md); the customer's balance is the admin's own
adjustment."""

from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.http import AuthenticatedRequest
from core.errors import PanelError, error_display
from core.permissions import ReadOnlyAdmin, requires_permission
from payments.forms import ReversalForm
from payments.models import Deposit, DepositReversal
from payments.services import deposit_reversal_record

# The same permission as deciding the unmatched queue: both say what became of a payment.
DECIDE = "payments.change_unmatcheddeposit"


class ReversalViews(admin.ModelAdmin):
    """The deposit admin's "record a refund or chargeback" page and column."""

    @admin.display(description=gettext_lazy("Refund / chargeback"))
    def reversal_link(self, obj: Deposit) -> str:
        reversal = getattr(obj, "reversal", None)
        if reversal is not None:
            return str(reversal.get_kind_display())
        if obj.status != Deposit.Status.CREDITED:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:payments_deposit_reversal", args=[obj.pk]),
            _("Record…"),
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/reversal/", view(self.reversal_view), name="payments_deposit_reversal"),
            *super().get_urls(),
        ]

    @requires_permission(DECIDE)
    def reversal_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        deposit = get_object_or_404(Deposit, pk=pk)
        form = ReversalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                deposit_reversal_record(
                    deposit_id=deposit.pk,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    admin=request.user,
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(
                    request,
                    _("Deposit #%(id)s recorded as refunded or charged back.") % {"id": deposit.pk},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payments_deposit_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a refund or chargeback of deposit #%(id)s") % {"id": deposit.pk},
            "form": form,
            "facts": [
                (_("Customer"), deposit.user.username if deposit.user else "—"),
                (_("Gateway"), deposit.get_gateway_display()),
                (pgettext("amount", "Credited"), deposit.credited_amount),
                (_("Status"), deposit.get_status_display()),
            ],
            "buttons": [("record", _("Record"))],
            "opts": self.model._meta,
            "back_url": reverse("admin:payments_deposit_changelist"),
        }
        return TemplateResponse(request, "admin/reasoned_decision.html", context)


@admin.register(DepositReversal)
class DepositReversalAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "deposit", "kind", "external_id", "reason", "created_by")
    list_filter = ("kind",)
    search_fields = ("=deposit__id", "deposit__user__username", "=external_id")
    list_select_related = ("deposit", "created_by")
