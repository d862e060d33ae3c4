"""Provider accounts: health, balance and key checks, sync, pause and resume."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_money import Money
from core.money import money_shown
from providers.errors import ProviderError
from providers.forms import ProviderAdminForm
from providers.models import (
    Provider,
)
from providers.services import (
    catalog_reprice,
    catalog_sync,
    provider_check,
    provider_webhook_subscribe,
)

_PRICING_FIELDS = {"markup_percent", "markup_fixed", "exchange_rate"}


class HealthFilter(admin.SimpleListFilter):
    """The dashboard's "what needs hands" links land here."""

    title = _("health")
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("low_balance", _("Low balance")), ("key_refused", _("Key refused"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "low_balance":
            return queryset.filter(balance__lt=F("low_balance_threshold"))
        if self.value() == "key_refused":
            return queryset.filter(credentials_failed_at__isnull=False)
        return queryset


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderAdminForm
    # The fixed markup is added to rates per 1000: every stored digit (core.admin_money).
    money_currencies = {
        "balance": Money("balance_currency"),
        "low_balance_threshold": Money("currency"),
        "markup_fixed": Money(exact=True),
    }
    list_display = (
        "name",
        "host",
        "currency",
        "balance_display",
        "health",
        "is_enabled",
        "markup_percent",
        "last_synced_at",
    )
    list_filter = ("is_enabled", "currency", HealthFilter)
    search_fields = ("name",)  # not the URL: searching it would reveal credentials in it
    readonly_fields = (
        "balance_display",
        "balance_checked_at",
        "health",
        "last_error",
        "last_error_at",
        "last_synced_at",
        "changes_link",
        "webhook_subscribed_at",
    )
    actions = ["sync_catalog", "check_balance", "resume_dispatch", "subscribe_webhooks"]
    fieldsets = (
        (None, {"fields": ("name", "api_url", "api_key", "is_enabled")}),
        (
            _("Money"),
            {
                "fields": (
                    "currency",
                    "exchange_rate",
                    "markup_percent",
                    "markup_fixed",
                    "low_balance_threshold",
                    "balance_display",
                    "balance_checked_at",
                )
            },
        ),
        (_("Catalog"), {"fields": ("new_items_on_sale", "last_synced_at", "changes_link")}),
        (_("Health"), {"fields": ("health", "last_error", "last_error_at")}),
        (_("Polling"), {"fields": ("poll_concurrency", "webhook_subscribed_at")}),
    )

    @admin.display(description=_("API host"))
    def host(self, obj: Provider) -> str:
        # hostname and port only: an API URL may carry `user:password@`, and the list is seen
        # by every staff user who may view providers.
        parts = urlsplit(obj.api_url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{host}:{port}" if port else host

    # Calls to the provider run with no database transaction open (ATOMIC_REQUESTS would hold
    # one for the whole request, across an upstream call of up to the read timeout): these views
    # manage their own transactions, and the check after a save waits for its commit.
    @method_decorator(transaction.non_atomic_requests)
    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, extra_context)

    @method_decorator(transaction.non_atomic_requests)
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        return super().add_view(request, form_url, extra_context)

    @method_decorator(transaction.non_atomic_requests)
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("Balance"))
    def balance_display(self, obj: Provider) -> str:
        if obj.balance is None:
            return str(_("not checked"))
        text = money_shown(obj.balance, currency=obj.balance_currency)
        if obj.is_low_balance:
            return format_html('<strong style="color:#c01048">{} — {}</strong>', text, _("low"))
        return text

    @admin.display(description=_("Dispatch"))
    def health(self, obj: Provider) -> str:
        if not obj.is_enabled:
            return str(_("disabled"))
        if obj.credentials_failed_at:
            return format_html(
                '<strong style="color:#c01048">{}</strong>',
                _("key refused since %(when)s")
                % {
                    "when": date_format(
                        localtime(obj.credentials_failed_at), "SHORT_DATETIME_FORMAT"
                    )
                },
            )
        if obj.dispatch_paused_until and obj.dispatch_paused_until > timezone.now():
            return format_html(
                '<span style="color:#b54708">{}</span>',
                _("paused until %(when)s")
                % {"when": localtime(obj.dispatch_paused_until).strftime("%H:%M:%S")},
            )
        return str(_("ok"))

    @admin.display(description=_("Change log"))
    def changes_link(self, obj: Provider) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:providers_catalogchange_changelist") + f"?provider__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a>', url, _("Catalog changes of %(name)s") % {"name": obj.name}
        )

    def save_model(
        self, request: HttpRequest, obj: Provider, form: ProviderAdminForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and _PRICING_FIELDS & set(form.changed_data):
            repriced = catalog_reprice(provider=obj)
            self.message_user(
                request, _("Selling prices recomputed: %(count)d changed.") % {"count": repriced}
            )
        # The admin saves inside its own transaction; the provider is asked once it committed.
        transaction.on_commit(lambda: self._check(request, obj))

    def _check(self, request: HttpRequest, provider: Provider) -> None:
        try:
            balance = provider_check(provider=provider)
        except ProviderError as exc:
            self.message_user(
                request,
                _("%(name)s: check failed: %(error)s")
                % {"name": provider.name, "error": exc.message},
                messages.ERROR,
            )
        else:
            level = messages.WARNING if provider.is_low_balance else messages.SUCCESS
            self.message_user(
                request,
                _("%(name)s answers: balance %(balance)s.")
                % {
                    "name": provider.name,
                    "balance": money_shown(balance.balance, currency=balance.currency),
                },
                level,
            )
            if balance.currency and balance.currency.upper() != provider.currency.upper():
                self.message_user(
                    request,
                    _("%(name)s bills in %(billed)s, but its currency is set to %(currency)s.")
                    % {
                        "name": provider.name,
                        "billed": balance.currency,
                        "currency": provider.currency,
                    },
                    messages.WARNING,
                )

    @admin.action(description=_("Sync catalog now"), permissions=["change"])
    def sync_catalog(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                summary = catalog_sync(provider=provider)
            except ProviderError as exc:
                self.message_user(
                    request,
                    _("%(name)s: sync failed: %(error)s")
                    % {"name": provider.name, "error": exc.message},
                    messages.ERROR,
                )
            else:
                self.message_user(request, str(summary), messages.SUCCESS)

    @admin.action(description=_("Check balance and credentials"), permissions=["change"])
    def check_balance(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            self._check(request, provider)

    @admin.action(description=_("Resume sending orders (clears a pause)"), permissions=["change"])
    def resume_dispatch(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        resumed = queryset.update(dispatch_paused_until=None)
        self.message_user(
            request,
            ngettext(
                "%(count)d provider resumed; a refused key clears when a check passes.",
                "%(count)d providers resumed; a refused key clears when a check passes.",
                resumed,
            )
            % {"count": resumed},
        )
        for provider in queryset.filter(credentials_failed_at__isnull=False):
            self._check(request, provider)

    @admin.action(
        description=_("Subscribe to status webhooks (providers that are copies of this panel)"),
        permissions=["change"],
    )
    def subscribe_webhooks(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        if not settings.PANEL_PUBLIC_URL:
            self.message_user(
                request,
                _("Set PANEL_PUBLIC_URL first: providers need an address to post to."),
                messages.ERROR,
            )
            return
        for provider in queryset:
            if provider_webhook_subscribe(provider=provider):
                self.message_user(
                    request, _("%(name)s: subscribed.") % {"name": provider.name}, messages.SUCCESS
                )
            else:
                self.message_user(
                    request,
                    _("%(name)s: offers no webhooks (not a copy of this panel); polling only.")
                    % {"name": provider.name},
                    messages.WARNING,
                )
