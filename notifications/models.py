"""The outbox: one row per event worth telling someone about, written once (a unique key per
event) and delivered at most once by the sender (`notifications/delivery.py`)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import money_field
from core.secrets import decrypt_secret, encrypt_secret


class Channel(models.TextChoices):
    EMAIL = "email", _("Email to the customer")
    TELEGRAM = "telegram", _("Telegram to the operators")
    # One email per event to every active staff member with an address, looked up when sent.
    STAFF_EMAIL = "staff_email", _("Email to the staff")
    # One POST per event to one of a customer's endpoints (notifications/webhooks/).
    WEBHOOK = "webhook", _("Webhook to the customer")


class Kind(models.TextChoices):
    ORDER_FINAL = "order_final", _("Order finished")
    REFILL_FINAL = "refill_final", _("Refill finished")
    TICKET_ANSWERED = "ticket_answered", _("Ticket answered")
    DEPOSIT_CREDITED = "deposit_credited", _("Deposit credited")
    RANK_PROMOTED = "rank_promoted", _("Rank reached")
    OPS_NEEDS_REVIEW = "ops_needs_review", _("Needs review")
    OPS_LOW_BALANCE = "ops_low_balance", _("Provider balance low")
    OPS_CREDENTIALS = "ops_credentials", _("Provider rejects credentials")
    OPS_NEW_TICKET = "ops_new_ticket", _("New ticket")
    OPS_DEPOSIT = "ops_deposit", _("Deposit credited (operators)")
    OPS_DEPOSIT_UNMATCHED = "ops_deposit_unmatched", _("Deposit unmatched")
    OPS_DAILY_REPORT = "ops_daily_report", _("Daily report")
    OPS_SERVICES_HELD = "ops_services_held", _("Services held by the margin guard")
    WEBHOOK = "webhook", _("Webhook")
    OPS_RECONCILIATION = "ops_reconciliation", _("Provider books do not match")
    OPS_PARTITIONS = "ops_partitions", _("Rows in a DEFAULT partition")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    # Taken by a sender but not yet handed to the mail server or Telegram: provably unsent,
    # so it goes back to pending when its lease runs out.
    CLAIMED = "claimed", _("Claimed")
    # Handed over; the outcome is recorded right after. A row left here by a dead worker is
    # never resent automatically (it may have gone out): it becomes `unknown`.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    UNKNOWN = "unknown", _("Outcome unknown, not resent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    key = models.CharField(max_length=200, help_text=_("One row per event."), verbose_name=_("key"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    kind = models.CharField(max_length=32, choices=Kind.choices, verbose_name=_("kind"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("user"),
    )
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    # A number the event is about (an order event id, a ticket id): lets a collector resume.
    ref = models.BigIntegerField(null=True, blank=True, verbose_name=_("ref"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    claim_token = models.CharField(max_length=32, blank=True, verbose_name=_("claim token"))
    error = models.CharField(max_length=500, blank=True, verbose_name=_("error"))
    # Customer rows go to email or, by the customer's choice, to their Telegram chat: which one
    # took it, written when it is handed over (empty: the row's own channel).
    sent_via = models.CharField(
        max_length=16, blank=True, default="", db_default="", verbose_name=_("sent via")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["channel", "id"],
                condition=Q(status="pending"),
                name="notification_pending",
            ),
            models.Index(
                fields=["lease_until"],
                condition=Q(status__in=["claimed", "sending"]),
                name="notification_leased",
            ),
            models.Index(fields=["kind", "ref"], name="notification_kind_ref"),
        ]
        # A constraint rather than unique=True: the field option also builds a second,
        # pattern-matching index on PostgreSQL that no query uses, and every finished order's
        # outbox row paid for it.
        constraints = [models.UniqueConstraint(fields=["key"], name="notification_unique_key")]

    def __str__(self) -> str:
        return self.key


class Preferences(models.Model):
    """Which emails a customer wants, and which of them go to their Telegram chat instead. No row
    means every email is on and nothing goes to Telegram."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    email_order_final = models.BooleanField(_("orders finished"), default=True)
    email_refill_final = models.BooleanField(_("refills finished"), default=True)
    email_ticket_answered = models.BooleanField(_("ticket answers"), default=True)
    email_deposit_credited = models.BooleanField(_("deposits credited"), default=True)
    telegram_order_final = models.BooleanField(
        default=False, verbose_name=_("Telegram order final")
    )
    telegram_refill_final = models.BooleanField(
        default=False, verbose_name=_("Telegram refill final")
    )
    telegram_ticket_answered = models.BooleanField(
        default=False, verbose_name=_("Telegram ticket answered")
    )
    telegram_deposit_credited = models.BooleanField(
        default=False, verbose_name=_("Telegram deposit credited")
    )
    telegram_rank_promoted = models.BooleanField(
        default=False, verbose_name=_("Telegram rank promoted")
    )
    email_rank_promoted = models.BooleanField(_("new ranks reached"), default=True)

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return gettext("Preferences of %(user)s") % {"user": self.user_id}

    def wants(self, kind: str) -> bool:
        """Whether the customer wants to hear of `kind` at all (by email or Telegram)."""
        return bool(getattr(self, f"email_{kind}", True))

    def wants_telegram(self, kind: str) -> bool:
        return self.wants(kind) and bool(getattr(self, f"telegram_{kind}", False))


EMAIL_KINDS = (
    Kind.ORDER_FINAL,
    Kind.REFILL_FINAL,
    Kind.TICKET_ANSWERED,
    Kind.DEPOSIT_CREDITED,
    Kind.RANK_PROMOTED,
)


class TelegramBot(models.Model):
    """The customers' bot (docs/telegram-bot.md): one row, edited in the admin. The token is
    encrypted at rest (core.secrets) and never shown again once saved."""

    token_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("token encrypted")
    )
    username = models.CharField(
        _("username"), max_length=64, blank=True, help_text=_("Filled in from Telegram.")
    )
    # Both the webhook path's last part and the X-Telegram-Bot-Api-Secret-Token header.
    webhook_secret = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name=_("webhook secret")
    )
    site_url = models.URLField(
        _("panel address"),
        blank=True,
        help_text=_(
            "The panel's public address, https://…; the webhook and the bot's links use it."
        ),
    )
    is_enabled = models.BooleanField(_("enabled"), default=False)
    webhook_set_at = models.DateTimeField(_("webhook registered"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("Telegram bot")
        verbose_name_plural = _("Telegram bot")

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else gettext("Telegram bot")

    @property
    def token(self) -> str:
        return decrypt_secret(self.token_encrypted) if self.token_encrypted else ""

    @token.setter
    def token(self, value: str) -> None:
        self.token_encrypted = encrypt_secret(value) if value else ""


class TelegramLink(models.Model):
    """A customer's Telegram chat: one chat per account and one account per chat. Until the
    customer sends the code to the bot, `chat_id` is empty and the code waits."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="telegram_link",
        verbose_name=_("user"),
    )
    chat_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("chat ID"))
    code = models.CharField(max_length=32, blank=True, verbose_name=_("code"))
    code_expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("code expires at"))
    telegram_name = models.CharField(max_length=128, blank=True, verbose_name=_("Telegram name"))
    linked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("linked at"))

    class Meta:
        verbose_name = _("Telegram link")
        verbose_name_plural = _("Telegram links")
        constraints = [
            models.UniqueConstraint(
                fields=["chat_id"], condition=Q(chat_id__isnull=False), name="telegram_link_chat"
            ),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="telegram_link_code"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Telegram of %(user)s") % {"user": self.user_id}


class WebhookEvent(models.TextChoices):
    """What a customer's endpoint can subscribe to; the value is the `type` of the body."""

    ORDER_STATUS = "order.status_changed", _("Order status changed")
    ORDER_FINISHED = "order.finished", _("Order finished")
    REFILL_FINISHED = "refill.finished", _("Refill finished")
    BALANCE_LOW = "balance.low", _("Balance low")


class WebhookEndpoint(models.Model):
    """A customer's HTTPS address that gets a signed POST per event it subscribed to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("user"),
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(default=list, verbose_name=_("events"))  # WebhookEvent values
    secret_encrypted = models.TextField(editable=False, verbose_name=_("secret encrypted"))
    # The balance under which `balance.low` fires, once per crossing: armed while the balance
    # is at or above it, fired (and disarmed) when it drops below, re-armed when it recovers.
    balance_threshold = money_field(
        null=True, blank=True, validators=[MinValueValidator(0)], verbose_name=_("balance under")
    )
    balance_low_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("balance low at")
    )
    balance_low_count = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("balance low count")
    )
    # Set by the provider subscription action (providers.services.webhooks): the endpoint of
    # a downstream copy of this panel, which it manages itself.
    is_panel_subscription = models.BooleanField(
        default=False, editable=False, verbose_name=_("is panel subscription")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "url"], name="webhook_endpoint_unique_url")
        ]
        indexes = [
            models.Index(
                fields=["balance_threshold"],
                condition=Q(balance_threshold__isnull=False),
                name="webhook_balance_watch",
            )
        ]

    def __str__(self) -> str:
        return self.url


class WebhookAttempt(models.Model):
    """One POST of one webhook delivery (a `Notification` row of the webhook channel) and how
    the endpoint answered: the customer's delivery log."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="webhook_attempts",
        verbose_name=_("notification"),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("endpoint"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("status code")
    )
    is_success = models.BooleanField(default=False, verbose_name=_("is success"))
    # The first few hundred characters of the answer, or why there was none (a refused
    # address, a timeout): enough to debug, never a whole page kept.
    answer_excerpt = models.CharField(max_length=300, blank=True, verbose_name=_("answer excerpt"))
    error_code = models.CharField(max_length=32, blank=True, verbose_name=_("error code"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration ms"))

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "-id"], name="webhook_attempt_endpoint")]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.status_code or self.error_code}"
