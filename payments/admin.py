"""Admin: deposits with filters, the unmatched/review queue with "assign to user" and "reject",
gateway settings (credentials write-only), bonus rules, and manual deposits from the user page."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.admin import UserAdmin
from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.errors import PanelError, error_display
from core.money import money_str, money_text
from core.permissions import ReadOnlyAdmin, requires_permission
from core.tenancy import current_panel_id
from payments import admin_bank_accounts  # registers the bank accounts' admin too
from payments.admin_reversals import ReversalViews
from payments.config import gateway_config
from payments.forms import AssignForm, RejectForm
from payments.gateways import BANK_REPORTERS, GATEWAYS, bank, bank_reporters
from payments.gateways.closing import deposit_reject_everywhere
from payments.models import BonusRule, Deposit, GatewaySettings, Method, UnmatchedDeposit
from payments.registry import method_labels, secret_fields, settings_fields
from payments.services import deposit_assign, deposit_create_manual
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


def _amount(value: Decimal, currency: str) -> str:
    """An amount as the reader's language writes money (core.money)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return money_text(value, currency=currency, language=language)


class ReportsShown(ReadOnlyAdmin):
    """A deposit's second reports, fetched with the page's rows rather than one query each."""

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

    @admin.display(description=gettext_lazy("Coupon"))
    def coupon_note_text(self, obj: Deposit) -> str:
        return obj.coupon_note_text


# Every field, read-only, with the stored reason and coupon note shown in the reader's language.
_SHOWN_AS = {"reason": "reason_text", "coupon_note": "coupon_note_text"}
DEPOSIT_READONLY = [
    _SHOWN_AS.get(field.name, field.name)
    for field in Deposit._meta.fields
    if field.name not in ("reason_code", "reason_params", "coupon_note_code", "coupon_note_params")
] + ["also_reported"]


@admin.register(Deposit)
class DepositAdmin(ReversalViews, ReportsShown):
    list_display = (*DEPOSIT_COLUMNS, "reversal_link")
    list_filter = ("status", "gateway", "currency", "created_at")
    search_fields = ("user__username", "=external_id", "memo", "=reference", "=bank_reference")
    list_select_related = ("user", "reversal")
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
    list_display = ("id", "decide", "created_at", "gateway", "status", "paid", "memo")
    list_filter = ("gateway",)
    search_fields = ("memo", "=external_id", "user__username")
    list_select_related = ("user",)
    readonly_fields = DEPOSIT_READONLY

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deposit]:
        return super().get_queryset(request).filter(status__in=DECIDABLE)

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
            "asked": _amount(deposit.amount, deposit.currency),
            "received": (
                _amount(deposit.received_amount, deposit.received_currency)
                if deposit.received_amount is not None
                else ""
            ),
            "assign_credits": (
                _amount(arrival, settings.PANEL_CURRENCY) if arrival is not None else ""
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


COMMON_SETTINGS = ("method", "is_enabled", "currency", "rate", "min_amount", "max_amount")


class GatewaySettingsBaseForm(forms.ModelForm):
    """Credentials are write-only: blank keeps the stored value, they are never shown again.
    Which credentials a method has is its gateways' fact (gateway_settings_form adds them)."""

    # Turning a reporter off: its key stored here is forgotten (one set in the environment
    # stays, and the page keeps saying so).
    forget_reporters = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(gateway.key_field, gateway.name) for gateway in BANK_REPORTERS],
        label=gettext_lazy("Stop these reporters"),
        help_text=gettext_lazy("Forgets the key stored here; its reports are then refused."),
    )

    class Meta:
        model = GatewaySettings
        fields = (*COMMON_SETTINGS, *bank.ACCOUNT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.secrets if self.instance.pk else {}
        for secret in secret_fields():
            self.fields[secret.name].help_text = (
                _("Set; leave empty to keep it.") if stored.get(secret.name) else _("Not set.")
            )

    def clean_transfer_prefix(self) -> str:
        prefix = self.cleaned_data["transfer_prefix"].strip().upper()
        if prefix and not (prefix.isascii() and prefix.isalpha()):
            raise forms.ValidationError(_("Letters A-Z only."))
        return prefix

    def save(self, commit: bool = True) -> GatewaySettings:
        settings_row = super().save(commit=False)
        allowed = [secret.name for secret in secret_fields(settings_row.method)]
        # Only this method's credentials are kept: anything else an older version stored (an
        # API base URL) is dropped on the next save.
        stored = settings_row.secrets if settings_row.pk else {}
        secrets = {name: stored[name] for name in allowed if stored.get(name)}
        for name in allowed:
            if value := self.cleaned_data.get(name, "").strip():
                secrets[name] = value
        for name in self.cleaned_data.get("forget_reporters") or ():
            secrets.pop(name, None)
        settings_row.secrets = {name: value for name, value in secrets.items() if value}
        if commit:
            settings_row.save()
        return settings_row


def gateway_settings_form() -> type[GatewaySettingsBaseForm]:
    """The form with one write-only field per credential the registered gateways declare."""
    fields = {
        secret.name: forms.CharField(required=False, widget=forms.PasswordInput, label=secret.label)
        for secret in secret_fields()
    }
    return type("GatewaySettingsForm", (GatewaySettingsBaseForm,), fields)


def _method_fieldsets(only: str | None = None) -> tuple[tuple[object, dict], ...]:
    """A section per method (or for the one method `only`): the settings its gateways use, then
    their credentials."""
    return tuple(
        (
            label,
            {
                "fields": (
                    *settings_fields(method),
                    *(secret.name for secret in secret_fields(method)),
                    *(
                        ("accounts", "reporters", "forget_reporters")
                        if method == Method.BANK
                        else ()
                    ),
                )
            },
        )
        for method, label in method_labels().items()
        if only is None or method == only
    )


@admin.register(GatewaySettings)
class GatewaySettingsAdmin(admin.ModelAdmin):
    list_display = (*COMMON_SETTINGS, "updated_at")
    readonly_fields = ("accounts", "reporters")

    # Built per request from the registry: a gateway's credentials are its own fact.
    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = gateway_settings_form()
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        # A saved row is one method's: the other methods' credentials would only confuse.
        only = obj.method if isinstance(obj, GatewaySettings) else None
        return ((None, {"fields": COMMON_SETTINGS}), *_method_fieldsets(only))

    def get_queryset(self, request: HttpRequest) -> QuerySet[GatewaySettings]:
        # The served panel's own rows: child panels' owners set theirs on /child-panels/.
        return super().get_queryset(request).filter(child_panel_id=current_panel_id())

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Bank accounts"))
    def accounts(self, obj: GatewaySettings | None = None) -> str:
        return admin_bank_accounts.accounts_summary()

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
