"""An upstream provider panel and the timed calls the dashboard reads."""

from datetime import datetime
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field, number_shown
from core.secrets import decrypt_secret, encrypt_secret
from providers.models.types import (
    DEFAULT_MARKUP_PERCENT,
    MAX_POLL_CONCURRENCY,
    percent_field,
)


class Provider(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    # The child panel this provider sells to (docs/child-panels.md): a child panel's one provider
    # is the parent panel itself, bought from as the panel's owner. Empty: the parent's own.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="providers",
        verbose_name=_("child panel"),
    )
    api_url = models.URLField(
        max_length=500,
        help_text=_("The provider's v2 endpoint, e.g. https://example.com/api/v2"),
        verbose_name=_("api URL"),
    )
    api_key_encrypted = models.TextField(editable=False, verbose_name=_("api key encrypted"))
    currency = models.CharField(
        max_length=3,
        default="USD",
        help_text=_("The currency the provider charges in."),
        verbose_name=_("currency"),
    )
    exchange_rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        default=Decimal(1),
        help_text=_("How much of the panel currency one unit of the provider currency is worth."),
        verbose_name=_("exchange rate"),
    )
    is_enabled = models.BooleanField(
        default=True,
        help_text=_("Off: no orders are sent, no syncs run."),
        verbose_name=_("is enabled"),
    )
    markup_percent = percent_field(
        default=DEFAULT_MARKUP_PERCENT,
        help_text=_("Default markup on upstream rates, in percent."),
        verbose_name=_("markup percent"),
    )
    markup_fixed = money_field(
        default=ZERO,
        help_text=_("Added to every rate per 1000 (panel currency), after the percent."),
        verbose_name=_("markup fixed"),
    )
    new_items_on_sale = models.BooleanField(
        default=True,
        help_text=_("New services and products go on sale at once; off: they wait for an admin."),
        verbose_name=_("new items on sale"),
    )
    low_balance_threshold = money_field(
        default=Decimal(10),
        help_text=_("Flag the provider when its balance falls below this."),
        verbose_name=_("low balance threshold"),
    )
    # Per provider because real providers throttle: some take 32 status calls at once, others
    # ban an address for more than a few.
    poll_concurrency = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POLL_CONCURRENCY)],
        help_text=_(
            "Status calls in flight at once while polling this provider, all workers together. "
            "Empty: the panel's default (PANEL_POLL_CONCURRENCY)."
        ),
        verbose_name=_("poll concurrency"),
    )
    balance = money_field(null=True, blank=True, editable=False, verbose_name=_("balance"))
    balance_currency = models.CharField(
        max_length=3, blank=True, editable=False, verbose_name=_("balance currency")
    )
    balance_checked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("balance checked at")
    )
    # Dispatch health: set by the forwarding service, cleared by an admin check or by time.
    dispatch_paused_until = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("dispatch paused until")
    )
    credentials_failed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("credentials failed at")
    )
    last_error = models.CharField(
        max_length=500, blank=True, editable=False, verbose_name=_("last error")
    )
    last_error_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last error at")
    )
    last_synced_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last synced at")
    )
    # What the last sync that finished saw and left (providers.services.catalog.fingerprint):
    # the same again lets the next sync skip reading an answer it already imported.
    catalog_fingerprint = models.JSONField(
        default=dict,
        db_default={},
        blank=True,
        editable=False,
        verbose_name=_("catalog fingerprint"),
    )
    # Set when the low-balance alert went out, cleared when the balance recovers: one alert
    # per crossing (providers.alerts).
    balance_alerted_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("balance alerted at")
    )
    # Set when the provider is a copy of this panel and pushes status webhooks to us
    # (providers.services.webhooks): the secret it signs them with, and where they come.
    webhook_secret_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("webhook secret encrypted")
    )
    webhook_id = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name=_("webhook ID")
    )
    webhook_url = models.CharField(
        max_length=500, blank=True, editable=False, verbose_name=_("webhook URL")
    )
    webhook_subscribed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("webhook subscribed at")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0), name="provider_exchange_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(markup_percent__gt=-100), name="provider_markup_above_minus_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        return decrypt_secret(self.api_key_encrypted) if self.api_key_encrypted else ""

    @api_key.setter
    def api_key(self, value: str) -> None:
        self.api_key_encrypted = encrypt_secret(value)

    @property
    def is_low_balance(self) -> bool:
        return self.balance is not None and self.balance < self.low_balance_threshold

    def can_dispatch_at(self, now: datetime) -> bool:
        return (
            self.is_enabled
            and self.credentials_failed_at is None
            and (self.dispatch_paused_until is None or self.dispatch_paused_until <= now)
        )


class ProviderCall(models.Model):
    """One timed `add` call: the dashboard's error rate and latency per provider come from here.
    Old rows are pruned by the dashboard rollup job."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        BUSY = "busy", _("Busy")
        UNAVAILABLE = "unavailable", _("Not sent")
        UNKNOWN = "unknown", _("Outcome unknown")
        AUTH = "auth", _("Key refused")
        ERROR = "error", _("Unexpected error")

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="calls", verbose_name=_("provider")
    )
    action = models.CharField(max_length=32, verbose_name=_("action"))
    result = models.CharField(max_length=16, choices=Outcome.choices, verbose_name=_("result"))
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration ms"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        indexes = [models.Index(fields=["provider", "created_at"], name="provider_call_recent")]

    def __str__(self) -> str:
        values = {
            "action": self.action,
            "result": self.get_result_display(),
            "ms": number_shown(self.duration_ms),
        }
        return gettext("%(action)s: %(result)s in %(ms)s ms") % values
