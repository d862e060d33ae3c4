"""Admin: deposits with filters, and the unmatched/review queue with "assign to user" and
"reject"."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy

from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.admin_money import NUMBER, Money
from core.errors import PanelError, error_display
from core.money import money_shown
from core.permissions import ReadOnlyAdmin, requires_permission
from payments.admin.reversals import ReversalViews
from payments.forms import AssignForm, RejectForm
from payments.gateways import GATEWAYS
from payments.gateways.closing import deposit_reject_everywhere
from payments.models import Deposit, UnmatchedDeposit
from payments.services import deposit_assign
from payments.services.crediting import DECIDABLE, credited_for_arrival

# Crediting or rejecting a deposit someone has to decide on.
DECIDE = "payments.change_unmatcheddeposit"
DEPOSIT_COLUMNS = (
    "id",
    "created_at",
    "gateway",
    "status",
    "user",
    "amount",
    "currency",
    "credited_amount",
    "bonus_amount",
    "memo",
    "also_reported",
)


def also_reported(deposit: Deposit) -> str:
    """The other services that reported this transfer, in the reader's language: stored as
    rows (TransferReport), worded only here."""
    return "; ".join(
        _("Also reported by %(reporter)s (transfer %(id)s)")
        % {"reporter": GATEWAYS[report.gateway].name, "id": report.external_id}
        for report in deposit.reports.all()
    )


class PanelFilter(admin.SimpleListFilter):
    """The parent's own transfers, or his child panels' (docs/child-panels.md)."""

    title = gettext_lazy("Panel")
    parameter_name = "panel"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("own", _("This panel")), ("child", _("Child panels"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Deposit]) -> QuerySet[Deposit]:
        if self.value() == "own":
            return queryset.filter(child_panel__isnull=True)
        if self.value() == "child":
            return queryset.filter(child_panel__isnull=False)
        return queryset


class ReportsShown(ReadOnlyAdmin):
    """A deposit's second reports, fetched with the page's rows rather than one query each."""

    # Asked and received in the gateway's currencies, credited in the customer's (an unmatched
    # transfer has nobody yet: the panel's); the rate is an exchange rate (core.admin_money).
    money_currencies = {
        "amount": Money("currency"),
        "received_amount": Money("received_currency"),
        "rate": NUMBER,
        "credited_amount": Money("user.currency"),
        "bonus_amount": Money("user.currency"),
    }

    # Shown as sentences in the reader's language instead (Deposit.reason_text, coupon_note_text).
    exclude = (
        "reason",
        "reason_code",
        "reason_params",
        "coupon_note",
        "coupon_note_code",
        "coupon_note_params",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deposit]:
        return super().get_queryset(request).prefetch_related("reports")

    @admin.display(description=gettext_lazy("Other reporters"))
    def also_reported(self, obj: Deposit) -> str:
        return also_reported(obj)

    @admin.display(description=gettext_lazy("Reason"))
    def reason_text(self, obj: Deposit) -> str:
        return obj.reason_text

    # The coupon's outcome (applied, or why not), beside the coupon code on the same page: its
    # own words in Vietnamese, where both would read "Mã khuyến mãi".
    @admin.display(description=pgettext_lazy("deposit's coupon outcome", "Coupon"))
    def coupon_note_text(self, obj: Deposit) -> str:
        return obj.coupon_note_text

    # Child panels' transfers reach this queue too (docs/child-panels.md): whose account a
    # transfer went to decides which panel's customer it may be assigned to.
    @admin.display(
        description=gettext_lazy("Panel"),
        ordering="child_panel__domain",
    )
    def panel(self, obj: Deposit) -> str:
        return obj.child_panel.domain if obj.child_panel else _("This panel")


# Every field, read-only, with the stored reason and coupon note shown in the reader's language.
_SHOWN_AS = {"reason": "reason_text", "coupon_note": "coupon_note_text"}
DEPOSIT_READONLY = [
    _SHOWN_AS.get(field.name, field.name)
    for field in Deposit._meta.fields
    if field.name not in ("reason_code", "reason_params", "coupon_note_code", "coupon_note_params")
] + ["also_reported"]


@admin.register(Deposit)
class DepositAdmin(ReversalViews, ReportsShown):
    list_display = (*DEPOSIT_COLUMNS, "panel", "reversal_link")
    list_filter = (
        "status",
        "gateway",
        "currency",
        PanelFilter,
        "created_at",
    )
    search_fields = (
        "user__username",
        "=external_id",
        "memo",
        "=reference",
        "=bank_reference",
        "child_panel__domain",
    )
    list_select_related = ("user", "reversal", "child_panel")
    date_hierarchy = "created_at"
    readonly_fields = DEPOSIT_READONLY
    actions = ["reject_abandoned"]

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(DECIDE)

    @admin.action(
        description=gettext_lazy("Reject selected pending deposits (never paid)"),
        permissions=["decide"],
    )
    def reject_abandoned(self, request: AuthenticatedRequest, queryset: QuerySet[Deposit]) -> None:
        closed = 0
        for deposit in queryset.filter(status=Deposit.Status.PENDING):
            deposit_reject_everywhere(
                deposit_id=deposit.pk, admin=request.user, reason=gettext_noop("never paid")
            )
            closed += 1
        self.message_user(request, _("Rejected %(count)s pending deposit(s).") % {"count": closed})


@admin.register(UnmatchedDeposit)
class UnmatchedDepositAdmin(ReportsShown):
    # Narrow on purpose: the decision links stay visible beside the admin's side navigation.
    list_display = ("id", "decide", "created_at", "gateway", "status", "paid", "memo", "panel")
    list_filter = ("gateway", PanelFilter)
    search_fields = ("memo", "=external_id", "user__username", "child_panel__domain")
    list_select_related = ("user", "child_panel")
    readonly_fields = DEPOSIT_READONLY

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deposit]:
        return super().get_queryset(request).filter(status__in=DECIDABLE)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(DECIDE)

    @admin.display(description=gettext_lazy("Paid"))
    def paid(self, obj: Deposit) -> str:
        return money_shown(obj.amount, currency=obj.currency)

    @admin.display(description=gettext_lazy("Decide"))
    def decide(self, obj: Deposit) -> str:
        return format_html(
            '<a class="button" href="{}">{}</a> <a href="{}">{}</a>',
            reverse("admin:payments_deposit_assign", args=[obj.pk]),
            # No-break spaces keep the button on one line (the policy allows no style attribute).
            _("Assign to user").replace(" ", "\u00a0"),
            reverse("admin:payments_deposit_reject", args=[obj.pk]),
            _("Reject"),
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/assign/", view(self.assign_view), name="payments_deposit_assign"),
            path("<int:pk>/reject/", view(self.reject_view), name="payments_deposit_reject"),
            *super().get_urls(),
        ]

    def _decision(self, request: HttpRequest, pk: int, form_class: type[forms.Form]) -> tuple:
        deposit = get_object_or_404(Deposit, pk=pk)
        initial = {"username": deposit.user.username} if deposit.user else {}
        form = form_class(request.POST or None, initial=initial)
        return deposit, form

    def _render(
        self, request: HttpRequest, deposit: Deposit, form: forms.Form, title: str
    ) -> HttpResponse:
        arrival = credited_for_arrival(deposit)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "deposit": deposit,
            "asked": money_shown(deposit.amount, currency=deposit.currency),
            "received": (
                money_shown(deposit.received_amount, currency=deposit.received_currency)
                if deposit.received_amount is not None
                else ""
            ),
            "assign_credits": (
                money_shown(arrival, currency=settings.PANEL_CURRENCY)
                if arrival is not None
                else ""
            ),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/payments/deposit_decide.html", context)

    @requires_permission(DECIDE)
    def assign_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        deposit, form = self._decision(request, pk, AssignForm)
        if request.method == "POST" and form.is_valid():
            user = User.objects.filter(username__iexact=form.cleaned_data["username"]).first()
            if user is None:
                form.add_error("username", _("No such user."))
            else:
                try:
                    deposit_assign(
                        deposit_id=deposit.pk,
                        user_id=user.pk,
                        admin=request.user,
                        credited_amount=form.cleaned_data["credited_amount"],
                        reason=form.cleaned_data["reason"],
                    )
                except PanelError as exc:
                    form.add_error(None, error_display(exc))
                else:
                    self.message_user(
                        request,
                        _("Deposit #%(id)s credited to %(user)s.")
                        % {"id": deposit.pk, "user": user.username},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:payments_unmatcheddeposit_changelist")
                    )
        return self._render(
            request, deposit, form, _("Assign deposit #%(id)s to a customer") % {"id": deposit.pk}
        )

    @requires_permission(DECIDE)
    def reject_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        deposit, form = self._decision(request, pk, RejectForm)
        if request.method == "POST" and form.is_valid():
            try:
                deposit_reject_everywhere(
                    deposit_id=deposit.pk, admin=request.user, reason=form.cleaned_data["reason"]
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(
                    request, _("Deposit #%(id)s rejected.") % {"id": deposit.pk}, messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:payments_unmatcheddeposit_changelist"))
        return self._render(
            request, deposit, form, _("Reject deposit #%(id)s") % {"id": deposit.pk}
        )
