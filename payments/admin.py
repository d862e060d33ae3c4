"""Admin: deposits with filters, the unmatched/review queue with "assign to user" and "reject",
gateway settings (credentials write-only), bonus rules, and manual deposits from the user page."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.admin import UserAdmin
from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.errors import PanelError
from core.money import money_str
from core.permissions import ReadOnlyAdmin, requires_permission
from payments.config import SECRET_FIELDS, gateway_config
from payments.forms import AssignForm, RejectForm
from payments.gateways import BANK_REPORTERS, GATEWAYS, bank_reporters
from payments.models import BonusRule, Deposit, GatewaySettings, Method, UnmatchedDeposit
from payments.services import deposit_assign, deposit_create_manual, deposit_reject

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


class ReportsShown(ReadOnlyAdmin):
    """A deposit's second reports, fetched with the page's rows rather than one query each."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deposit]:
        return super().get_queryset(request).prefetch_related("reports")

    @admin.display(description=gettext_lazy("Other reporters"))
    def also_reported(self, obj: Deposit) -> str:
        return also_reported(obj)


@admin.register(Deposit)
class DepositAdmin(ReportsShown):
    list_display = DEPOSIT_COLUMNS
    list_filter = ("status", "gateway", "currency", "created_at")
    search_fields = ("user__username", "=external_id", "memo", "=reference", "=bank_reference")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Deposit._meta.fields] + ["also_reported"]
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
            deposit_reject(deposit_id=deposit.pk, admin=request.user, reason="never paid")
            closed += 1
        self.message_user(request, _("Rejected %(count)s pending deposit(s).") % {"count": closed})


@admin.register(UnmatchedDeposit)
class UnmatchedDepositAdmin(ReportsShown):
    # Narrow on purpose: the decision links stay visible beside the admin's side navigation.
    list_display = ("id", "decide", "created_at", "gateway", "status", "paid", "memo")
    list_filter = ("gateway",)
    search_fields = ("memo", "=external_id", "user__username")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in Deposit._meta.fields] + ["also_reported"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deposit]:
        statuses = (Deposit.Status.UNMATCHED, Deposit.Status.REVIEW)
        return super().get_queryset(request).filter(status__in=statuses)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(DECIDE)

    @admin.display(description=gettext_lazy("Paid"))
    def paid(self, obj: Deposit) -> str:
        return f"{money_str(obj.amount)} {obj.currency}"

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
        form = form_class(request.POST or None)
        return deposit, form

    def _render(
        self, request: HttpRequest, deposit: Deposit, form: forms.Form, title: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "deposit": deposit,
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
                    deposit_assign(deposit_id=deposit.pk, user_id=user.pk, admin=request.user)
                except PanelError as exc:
                    form.add_error(None, exc.message)
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
                deposit_reject(
                    deposit_id=deposit.pk, admin=request.user, reason=form.cleaned_data["reason"]
                )
            except PanelError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, _("Deposit #%(id)s rejected.") % {"id": deposit.pk}, messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:payments_unmatcheddeposit_changelist"))
        return self._render(
            request, deposit, form, _("Reject deposit #%(id)s") % {"id": deposit.pk}
        )


class GatewaySettingsForm(forms.ModelForm):
    """Credentials are write-only: blank keeps the stored value, they are never shown again."""

    secret_names = (
        "sepay_api_key",
        "casso_checksum_key",
        "secret_key",
        "webhook_secret",
        "merchant_id",
        "payment_key",
    )

    sepay_api_key = forms.CharField(
        required=False, widget=forms.PasswordInput, label=gettext_lazy("SePay API key")
    )
    casso_checksum_key = forms.CharField(
        required=False, widget=forms.PasswordInput, label=gettext_lazy("Casso checksum key")
    )
    secret_key = forms.CharField(
        required=False, widget=forms.PasswordInput, label=gettext_lazy("Stripe secret key")
    )
    webhook_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput,
        label=gettext_lazy("Stripe webhook signing secret"),
    )
    merchant_id = forms.CharField(
        required=False, widget=forms.PasswordInput, label=gettext_lazy("Cryptomus merchant id")
    )
    payment_key = forms.CharField(
        required=False, widget=forms.PasswordInput, label=gettext_lazy("Cryptomus payment key")
    )
    # Turning a reporter off: its key stored here is forgotten (one set in the environment
    # stays, and the page keeps saying so).
    forget_reporters = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(gateway.key_field, gateway.name) for gateway in BANK_REPORTERS],
        label=gettext_lazy("Stop these reporters"),
        help_text=gettext_lazy("Forgets the key stored here; its reports are then refused."),
    )
    api_base = forms.URLField(
        assume_scheme="https",
        required=False,
        label=gettext_lazy("API base URL"),
        help_text=gettext_lazy(
            "Only to point Stripe or Cryptomus at a test server; empty is the real API."
        ),
    )

    class Meta:
        model = GatewaySettings
        fields = (
            "method",
            "is_enabled",
            "currency",
            "rate",
            "min_amount",
            "max_amount",
            "bank_bin",
            "bank_account",
            "bank_account_name",
            "transfer_prefix",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.secrets if self.instance.pk else {}
        for name in self.secret_names:
            self.fields[name].help_text = (
                _("Set; leave empty to keep it.") if stored.get(name) else _("Not set.")
            )
        self.fields["api_base"].initial = stored.get("api_base", "")

    def clean_transfer_prefix(self) -> str:
        prefix = self.cleaned_data["transfer_prefix"].strip().upper()
        if prefix and not (prefix.isascii() and prefix.isalpha()):
            raise forms.ValidationError(_("Letters A-Z only."))
        return prefix

    def save(self, commit: bool = True) -> GatewaySettings:
        settings_row = super().save(commit=False)
        secrets = dict(settings_row.secrets) if settings_row.pk else {}
        allowed = SECRET_FIELDS[Method(settings_row.method)]
        for name in allowed:
            if value := self.cleaned_data.get(name, "").strip():
                secrets[name] = value
        for name in self.cleaned_data.get("forget_reporters") or ():
            secrets.pop(name, None)
        if "api_base" in self.changed_data:
            secrets["api_base"] = self.cleaned_data["api_base"]
        settings_row.secrets = {name: value for name, value in secrets.items() if value}
        if commit:
            settings_row.save()
        return settings_row


@admin.register(GatewaySettings)
class GatewaySettingsAdmin(admin.ModelAdmin):
    form = GatewaySettingsForm
    list_display = (
        "method",
        "is_enabled",
        "currency",
        "rate",
        "min_amount",
        "max_amount",
        "updated_at",
    )

    fieldsets = (
        (
            None,
            {"fields": ("method", "is_enabled", "currency", "rate", "min_amount", "max_amount")},
        ),
        (
            gettext_lazy("Bank transfer (VietQR)"),
            {
                "fields": (
                    "bank_bin",
                    "bank_account",
                    "bank_account_name",
                    "transfer_prefix",
                    "reporters",
                    "sepay_api_key",
                    "casso_checksum_key",
                    "forget_reporters",
                )
            },
        ),
        (gettext_lazy("Card (Stripe)"), {"fields": ("secret_key", "webhook_secret")}),
        (gettext_lazy("Crypto (Cryptomus)"), {"fields": ("merchant_id", "payment_key")}),
        (gettext_lazy("Testing"), {"classes": ("collapse",), "fields": ("api_base",)}),
    )

    readonly_fields = ("reporters",)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Reporting transfers"))
    def reporters(self, obj: GatewaySettings | None = None) -> str:
        return reporters_text()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._warn_two_reporters(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            self._warn_two_reporters(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _warn_two_reporters(self, request: HttpRequest) -> None:
        if len(bank_reporters(gateway_config(method=Method.BANK))) > 1:
            self.message_user(request, two_reporters_warning(), messages.WARNING)


def two_reporters_warning() -> str:
    return _(
        "Both SePay and Casso report bank transfers. A transfer both report is credited once "
        "when their reports carry the same bank reference, account, amount and date; to be "
        "sure, keep one: switch the other's webhook off in its dashboard and stop it here."
    )


def reporters_text() -> str:
    """Which service reports bank transfers, as in force (the admin's keys over the
    environment's)."""
    names = [gateway.name for gateway in bank_reporters(gateway_config(method=Method.BANK))]
    if not names:
        return _("None: set the SePay API key or the Casso checksum key.")
    if len(names) == 1:
        return _("%(name)s is the active reporter.") % {"name": names[0]}
    return two_reporters_warning()


@admin.register(BonusRule)
class BonusRuleAdmin(admin.ModelAdmin):
    list_display = ("gateway", "min_amount", "percent", "is_enabled")
    list_filter = ("gateway", "is_enabled")
    list_editable = ("is_enabled",)


class PaymentsUserAdmin(UserAdmin):
    """The user page's "Add funds" records a manual deposit (with its ledger line)."""

    def record_deposit(
        self, request: HttpRequest, *, user: User, amount: Decimal, memo: str
    ) -> None:
        # The admin site lets only signed-in staff this far.
        admin_user = cast(User, request.user)
        deposit_create_manual(user_id=user.pk, amount=amount, memo=memo, admin=admin_user)


admin.site.unregister(User)
admin.site.register(User, PaymentsUserAdmin)
