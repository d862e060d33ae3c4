"""The outbox: one row per event worth telling someone about, written once (a unique key per
event) and delivered at most once by the sender (`notifications/delivery.py`)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
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
    key = models.CharField(max_length=200, help_text=_("One row per event."))
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    payload = models.JSONField(default=dict, blank=True)
    # A number the event is about (an order event id, a ticket id): lets a collector resume.
    ref = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Customer rows go to email or, by the customer's choice, to their Telegram chat: which one
    # took it, written when it is handed over (empty: the row's own channel).
    sent_via = models.CharField(max_length=16, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    email_order_final = models.BooleanField(_("orders finished"), default=True)
    email_refill_final = models.BooleanField(_("refills finished"), default=True)
    email_ticket_answered = models.BooleanField(_("ticket answers"), default=True)
    email_deposit_credited = models.BooleanField(_("deposits credited"), default=True)
    telegram_order_final = models.BooleanField(default=False)
    telegram_refill_final = models.BooleanField(default=False)
    telegram_ticket_answered = models.BooleanField(default=False)
    telegram_deposit_credited = models.BooleanField(default=False)
    telegram_rank_promoted = models.BooleanField(default=False)
    email_rank_promoted = models.BooleanField(_("new ranks reached"), default=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"

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

    token_encrypted = models.TextField(blank=True, editable=False)
    username = models.CharField(
        _("username"), max_length=64, blank=True, help_text=_("Filled in from Telegram.")
    )
    # Both the webhook path's last part and the X-Telegram-Bot-Api-Secret-Token header.
    webhook_secret = models.CharField(max_length=64, blank=True, editable=False)
    site_url = models.URLField(
        _("panel address"),
        blank=True,
        help_text=_(
            "The panel's public address, https://…; the webhook and the bot's links use it."
        ),
    )
    is_enabled = models.BooleanField(_("enabled"), default=False)
    webhook_set_at = models.DateTimeField(_("webhook registered"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Telegram bot")
        verbose_name_plural = _("Telegram bot")

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else "Telegram bot"

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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_link"
    )
    chat_id = models.BigIntegerField(null=True, blank=True)
    code = models.CharField(max_length=32, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    telegram_name = models.CharField(max_length=128, blank=True)
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chat_id"], condition=Q(chat_id__isnull=False), name="telegram_link_chat"
            ),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="telegram_link_code"
            ),
        ]

    def __str__(self) -> str:
        return f"Telegram of {self.user_id}"


class WebhookEvent(models.TextChoices):
    """What a customer's endpoint can subscribe to; the value is the `type` of the body."""

    ORDER_STATUS = "order.status_changed", _("Order status changed")
    ORDER_FINISHED = "order.finished", _("Order finished")
    REFILL_FINISHED = "refill.finished", _("Refill finished")
    BALANCE_LOW = "balance.low", _("Balance low")


class WebhookEndpoint(models.Model):
    """A customer's HTTPS address that gets a signed POST per event it subscribed to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(default=list)  # WebhookEvent values
    secret_encrypted = models.TextField(editable=False)
    # The balance under which `balance.low` fires, once per crossing: armed while the balance
    # is at or above it, fired (and disarmed) when it drops below, re-armed when it recovers.
    balance_threshold = money_field(
        null=True, blank=True, validators=[MinValueValidator(0)], verbose_name=_("balance under")
    )
    balance_low_at = models.DateTimeField(null=True, blank=True, editable=False)
    balance_low_count = models.PositiveIntegerField(default=0, editable=False)
    # Set by the provider subscription action (providers.services.webhooks): the endpoint of
    # a downstream copy of this panel, which it manages itself.
    is_panel_subscription = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        Notification, on_delete=models.CASCADE, related_name="webhook_attempts"
    )
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="attempts")
    created_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    is_success = models.BooleanField(default=False)
    # The first few hundred characters of the answer, or why there was none (a refused
    # address, a timeout): enough to debug, never a whole page kept.
    answer_excerpt = models.CharField(max_length=300, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "-id"], name="webhook_attempt_endpoint")]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.status_code or self.error_code}"
