"""The outbox: one row per event worth telling someone about, written once (a unique key per
event) and delivered at most once by the sender (`notifications/delivery.py`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email to the customer")
    TELEGRAM = "telegram", _("Telegram to the operators")
    # One email per event to every active staff member with an address, looked up when sent.
    STAFF_EMAIL = "staff_email", _("Email to the staff")


class Kind(models.TextChoices):
    ORDER_FINAL = "order_final", _("Order finished")
    REFILL_FINAL = "refill_final", _("Refill finished")
    TICKET_ANSWERED = "ticket_answered", _("Ticket answered")
    DEPOSIT_CREDITED = "deposit_credited", _("Deposit credited")
    OPS_NEEDS_REVIEW = "ops_needs_review", _("Needs review")
    OPS_LOW_BALANCE = "ops_low_balance", _("Provider balance low")
    OPS_CREDENTIALS = "ops_credentials", _("Provider rejects credentials")
    OPS_NEW_TICKET = "ops_new_ticket", _("New ticket")
    OPS_DEPOSIT = "ops_deposit", _("Deposit credited (operators)")
    OPS_DEPOSIT_UNMATCHED = "ops_deposit_unmatched", _("Deposit unmatched")
    OPS_DAILY_REPORT = "ops_daily_report", _("Daily report")
    OPS_SERVICES_HELD = "ops_services_held", _("Services held by the margin guard")
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
    """Which emails a customer wants. No row means every email is on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    email_order_final = models.BooleanField(_("orders finished"), default=True)
    email_refill_final = models.BooleanField(_("refills finished"), default=True)
    email_ticket_answered = models.BooleanField(_("ticket answers"), default=True)
    email_deposit_credited = models.BooleanField(_("deposits credited"), default=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, f"email_{kind}", True))


EMAIL_KINDS = (Kind.ORDER_FINAL, Kind.REFILL_FINAL, Kind.TICKET_ANSWERED, Kind.DEPOSIT_CREDITED)
