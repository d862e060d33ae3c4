"""Provider books in the admin: each provider's reconciled days with the orders behind every
figure, and the mismatches with their ways out. Looking needs
`reconciliation.view_reconciliation`; resolving `reconciliation.resolve_reconciliation`."""

from datetime import datetime
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_money import Money
from core.errors import PanelError, error_display
from core.money import money_shown
from core.permissions import ReadOnlyAdmin, requires_permission
from reconciliation import selectors
from reconciliation.forms import ResolveForm
from reconciliation.models import Mismatch, MismatchStatus, ProviderDay
from reconciliation.services import mismatch_resolve, refund_lag, resolutions_for

RESOLVE = "{app_label}.resolve_reconciliation"
LISTED = 100  # orders shown per figure; the count says how many there are


def _money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    return money_shown(value, currency=currency or "USD")


class BooksAdmin(ReadOnlyAdmin):
    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("reconciliation.view_reconciliation")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(ProviderDay)
class ProviderDayAdmin(BooksAdmin):
    # A provider's day is counted in his currency (core.admin_money).
    money_currencies = {
        name: Money("currency")
        for name in (
            "opening_balance",
            "closing_balance",
            "charges_expected",
            "refunds_expected",
            "orders_difference",
            "balance_difference",
            "slack_more",
            "slack_less",
            "tolerance",
        )
    }
    # The state second: on a phone it is what shows before the table scrolls.
    list_display = (
        "day_text",
        "state",
        "provider",
        "orders_sent",
        "charges_text",
        "refunds_text",
        "spent_text",
        "unexplained_text",
    )
    list_display_links = ("day_text",)
    list_filter = ("provider",)
    date_hierarchy = "day"
    list_select_related = ("provider",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProviderDay]:
        unsettled = Q(mismatches__status__in=MismatchStatus.unsettled())
        return (
            super().get_queryset(request).annotate(unsettled=Count("mismatches", filter=unsettled))
        )

    def _money(self, value: Decimal | None, currency: str) -> str:
        return _money(value, currency)

    @admin.display(description=_("day"), ordering="day")
    def day_text(self, obj: ProviderDay) -> str:
        return date_format(obj.day, "SHORT_DATE_FORMAT")

    @admin.display(description=_("Charges expected"))
    def charges_text(self, obj: ProviderDay) -> str:
        return self._money(obj.charges_expected, obj.currency)

    @admin.display(description=_("Refunds expected"))
    def refunds_text(self, obj: ProviderDay) -> str:
        return self._money(obj.refunds_expected, obj.currency)

    @admin.display(description=_("Balance spent"))
    def spent_text(self, obj: ProviderDay) -> str:
        return self._money(obj.balance_spent, obj.currency)

    @admin.display(description=_("Unexplained"))
    def unexplained_text(self, obj: ProviderDay) -> str:
        return self._money(obj.balance_difference, obj.currency)

    @admin.display(description=_("Books"))
    def state(self, obj: ProviderDay) -> str:
        count = getattr(obj, "unsettled", 0)
        if count:
            return format_html("<strong>{}</strong>", _("%(count)d to resolve") % {"count": count})
        if not obj.has_balance_check:
            return str(_("Orders match; no balance check"))
        return str(_("Match"))

    def get_urls(self) -> list:
        resolve = self.admin_site.admin_view(self.resolve_view)
        return [
            path(
                "<int:pk>/resolve/<int:mismatch_id>/",
                resolve,
                name="reconciliation_providerday_resolve",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        provider_day = get_object_or_404(
            ProviderDay.objects.select_related("provider"), pk=object_id
        )
        return self._day_page(request, provider_day, forms={})

    def _day_page(
        self, request: HttpRequest, provider_day: ProviderDay, forms: dict[int, ResolveForm]
    ) -> TemplateResponse:
        can_resolve = request.user.has_perm("reconciliation.resolve_reconciliation")
        flags = []
        for flag in selectors.mismatches_of_day(provider_day):
            choices = [(status.value, status.label) for status in resolutions_for(flag)]
            form = forms.get(flag.pk) or ResolveForm(choices=choices, prefix=f"m{flag.pk}")
            steps = [{**step, "at": datetime.fromisoformat(step["at"])} for step in flag.history]
            flags.append(
                {"flag": flag, "steps": steps, "form": form if choices and can_resolve else None}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(provider)s, %(day)s")
            % {
                "provider": provider_day.provider.name,
                "day": provider_day.day.isoformat(),
            },
            "day": provider_day,
            "flags": flags,
            "figures": selectors.figure_orders(provider_day, refund_lag(), LISTED),
            "listed": LISTED,
            "status_choices": MismatchStatus.choices,
            "opts": self.model._meta,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/reconciliation/day.html", context)

    @requires_permission(RESOLVE)
    def resolve_view(self, request: HttpRequest, pk: int, mismatch_id: int) -> HttpResponse:
        provider_day = get_object_or_404(ProviderDay.objects.select_related("provider"), pk=pk)
        flag = get_object_or_404(Mismatch, pk=mismatch_id, provider_day=provider_day)
        url = reverse("admin:reconciliation_providerday_change", args=[pk])
        if request.method != "POST":
            return HttpResponseRedirect(url)
        choices = [(status.value, status.label) for status in resolutions_for(flag)]
        form = ResolveForm(request.POST, choices=choices, prefix=f"m{flag.pk}")
        if form.is_valid():
            try:
                mismatch_resolve(
                    mismatch_id=flag.pk,
                    to_status=form.cleaned_data["to_status"],
                    note=form.cleaned_data["note"],
                    admin=request.user,  # type: ignore[arg-type]
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(request, _("%(flag)s: done.") % {"flag": flag.get_kind_display()})
                return HttpResponseRedirect(url)
        return self._day_page(request, provider_day, forms={flag.pk: form})


@admin.register(Mismatch)
class MismatchAdmin(BooksAdmin):
    money_currencies = {
        name: Money("provider_day.currency") for name in ("full_price", "expected", "reported")
    }
    list_display = (
        "id",
        "day_link",
        "kind",
        "order_id",
        "expected_text",
        "reported_text",
        "status",
    )
    list_filter = ("status", "kind", "provider_day__provider")
    list_select_related = ("provider_day__provider",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mismatch]:
        return super().get_queryset(request).select_related("provider_day__provider")

    @admin.display(description=_("Provider day"))
    def day_link(self, obj: Mismatch) -> str:
        url = reverse("admin:reconciliation_providerday_change", args=[obj.provider_day_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.provider_day))

    @admin.display(description=_("Expected"))
    def expected_text(self, obj: Mismatch) -> str:
        return _money(obj.expected, obj.provider_day.currency)

    @admin.display(description=_("Reported"))
    def reported_text(self, obj: Mismatch) -> str:
        return _money(obj.reported, obj.provider_day.currency)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        flag = get_object_or_404(Mismatch, pk=object_id)
        url = reverse("admin:reconciliation_providerday_change", args=[flag.provider_day_id])
        return HttpResponseRedirect(f"{url}#mismatch-{flag.pk}")
