from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from orders.models import Order


class TicketKind(models.TextChoices):
    ORDER = "order", _("Order")
    PAYMENT = "payment", _("Payment")
    OTHER = "other", _("Other")


class OrderRequest(models.TextChoices):
    REFILL = "refill", _("Refill")
    CANCEL = "cancel", _("Cancel")
    SPEED_UP = "speed_up", _("Speed up")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class Ticket(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("subject"), max_length=16, choices=TicketKind.choices)
    request = models.CharField(
        _("request"), max_length=16, choices=OrderRequest.choices, blank=True
    )
    orders = models.ManyToManyField(
        Order, blank=True, related_name="tickets", verbose_name=_("orders")
    )
    payment_reference = models.CharField(_("transaction reference"), max_length=120, blank=True)
    subject = models.CharField(_("title"), max_length=120)
    status = models.CharField(
        max_length=16,
        choices=TicketStatus.choices,
        default=TicketStatus.OPEN,
        verbose_name=_("status"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # Unread counts compare these: the newest message from each side with when the other side
    # last opened the ticket.
    last_customer_message_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("last customer message at")
    )
    last_staff_message_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("last staff message at")
    )
    customer_read_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("customer read at")
    )
    staff_read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("staff read at"))

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-updated_at"], name="ticket_user_recent"),
            models.Index(
                fields=["status"], condition=~Q(status="closed"), name="ticket_not_closed"
            ),
        ]
        permissions = [
            ("reply_ticket", gettext_noop("Can reply to tickets")),
            ("run_ticket_order_actions", gettext_noop("Can refill and cancel a ticket's orders")),
        ]

    def __str__(self) -> str:
        return gettext("Ticket %(id)s: %(subject)s") % {"id": self.pk, "subject": self.subject}


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    is_staff = models.BooleanField(
        default=False,
        help_text=_("Written by support, not the customer."),
        verbose_name=_("is staff"),
    )
    is_system = models.BooleanField(
        default=False,
        help_text=_("Written by the panel: results of an admin's order action."),
        verbose_name=_("is system"),
    )
    body = models.TextField(verbose_name=_("body"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["id"]

    def __str__(self) -> str:
        return gettext("Message %(id)s on ticket %(ticket)s") % {
            "id": self.pk,
            "ticket": self.ticket_id,
        }
