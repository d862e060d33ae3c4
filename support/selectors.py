"""Reads of tickets: the customer's list with unread counts, and the unread totals the
navigation and the admin show."""

from django.db.models import Count, F, Q, QuerySet

from accounts.models import User
from support.models import Ticket, TicketStatus

# A ticket is unread by one side when the other side wrote after that side last opened it.
UNREAD_BY_CUSTOMER = Q(last_staff_message_at__isnull=False) & (
    Q(customer_read_at__isnull=True) | Q(last_staff_message_at__gt=F("customer_read_at"))
)
UNREAD_BY_STAFF = Q(last_customer_message_at__isnull=False) & (
    Q(staff_read_at__isnull=True) | Q(last_customer_message_at__gt=F("staff_read_at"))
)


def tickets_for_user(*, user: User) -> QuerySet[Ticket]:
    """The user's tickets, newest activity first, each with `unread`: support's messages
    since the customer last opened it."""
    unread = Q(messages__is_staff=True) & (
        Q(customer_read_at__isnull=True) | Q(messages__created_at__gt=F("customer_read_at"))
    )
    return (
        Ticket.objects.filter(user=user)
        .annotate(unread=Count("messages", filter=unread))
        .order_by("-updated_at", "-id")
    )


def tickets_for_staff() -> QuerySet[Ticket]:
    """Every ticket with `unread`: the customer's messages since support last opened it."""
    unread = Q(messages__is_staff=False) & (
        Q(staff_read_at__isnull=True) | Q(messages__created_at__gt=F("staff_read_at"))
    )
    return Ticket.objects.annotate(unread=Count("messages", filter=unread))


def unread_ticket_count(*, user: User) -> int:
    return Ticket.objects.filter(UNREAD_BY_CUSTOMER, user=user).count()


def staff_unread_ticket_count(*, child_panel_id: int | None = None) -> int:
    """Open tickets with customers' messages staff have not read: every panel's, or one child
    panel's only (its own admin's staff)."""
    tickets = Ticket.objects.filter(UNREAD_BY_STAFF).exclude(status=TicketStatus.CLOSED)
    if child_panel_id is not None:
        tickets = tickets.filter(user__child_panel_id=child_panel_id)
    return tickets.count()
