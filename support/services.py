"""Every write to tickets: opening, replies from both sides, closing and reopening, and the
admin's one-click refill and cancel of a ticket's orders (the same order services as the API)."""

import re

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import InvalidRequest, InvalidTransition, PanelError, error_display
from core.ids import parse_id
from notifications.services import notify_ticket_answered, notify_ticket_opened
from orders.models import Order, Source
from orders.services import order_cancel, refill_request
from support.models import OrderRequest, Ticket, TicketKind, TicketMessage, TicketStatus

MAX_ORDER_IDS = 20
MAX_BODY = 5000


class TicketFieldError(InvalidRequest):
    """Bad input for one field of the ticket form; `field` is where a form shows it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_order_ids(text: str) -> list[int]:
    """Order ids as customers type them: "123, 456" or one per line; duplicates dropped."""
    ids: list[int] = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        pk = parse_id(word.lstrip("#"))
        if pk is None:
            raise TicketFieldError(
                "order_ids", _("“%(word)s” is not an order ID.") % {"word": word[:20]}
            )
        if pk not in ids:
            ids.append(pk)
    if len(ids) > MAX_ORDER_IDS:
        raise TicketFieldError(
            "order_ids", _("At most %(n)d orders per ticket.") % {"n": MAX_ORDER_IDS}
        )
    return ids


def _own_order_ids(user: User, ids: list[int]) -> list[int]:
    """The ids, each checked to be the user's: another user's order reads as unknown, exactly
    like an id that does not exist (never reveal that it does)."""
    found = set(Order.objects.filter(user=user, pk__in=ids).values_list("pk", flat=True))
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        raise TicketFieldError(
            "order_ids", _("Unknown order ID: %(ids)s") % {"ids": ", ".join(unknown)}
        )
    return ids


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise TicketFieldError("message", _("Write a message."))
    if len(body) > MAX_BODY:
        raise TicketFieldError("message", _("At most %(n)d characters.") % {"n": MAX_BODY})
    return body


def _post(
    ticket: Ticket, *, author: User | None, body: str, is_staff: bool, is_system: bool = False
) -> TicketMessage:
    now = timezone.now()
    message = TicketMessage.objects.create(
        ticket=ticket, author=author, body=body, is_staff=is_staff, is_system=is_system
    )
    if is_staff:
        ticket.last_staff_message_at, ticket.staff_read_at = now, now
        ticket.status = TicketStatus.ANSWERED
        notify_ticket_answered(
            ticket_id=ticket.pk,
            message_id=message.pk,
            user_id=ticket.user_id,
            subject=ticket.subject,
        )
    else:
        ticket.last_customer_message_at, ticket.customer_read_at = now, now
        ticket.status = TicketStatus.OPEN
    ticket.save()
    return message


def ticket_open(
    *,
    user: User,
    kind: str,
    subject: str,
    message: str,
    request: str = "",
    order_ids: str = "",
    payment_reference: str = "",
) -> Ticket:
    """Open a ticket with its first message. Order tickets name what is asked and one or more
    of the customer's own orders; payment tickets the transaction reference.

    Raises TicketFieldError naming the field at fault; nothing is written then.
    """
    if kind not in TicketKind.values:
        raise TicketFieldError("kind", _("Choose what the ticket is about."))
    subject = " ".join(subject.split())[:120]
    body = _clean_body(message)
    ids: list[int] = []
    if kind == TicketKind.ORDER:
        if request not in OrderRequest.values:
            raise TicketFieldError("request", _("Choose what you need for the order."))
        ids = _own_order_ids(user, parse_order_ids(order_ids))
        if not ids:
            raise TicketFieldError("order_ids", _("Give at least one order ID."))
        subject = subject or f"{OrderRequest(request).label}: {', '.join(map(str, ids))}"
    else:
        request = ""
    payment_reference = payment_reference.strip()[:120] if kind == TicketKind.PAYMENT else ""
    if kind == TicketKind.PAYMENT and not payment_reference:
        raise TicketFieldError("payment_reference", _("Give the transaction reference."))
    if not subject:
        raise TicketFieldError("subject", _("Give the ticket a title."))
    with transaction.atomic():
        ticket = Ticket.objects.create(
            user=user,
            kind=kind,
            request=request,
            payment_reference=payment_reference,
            subject=subject,
        )
        ticket.orders.set(ids)
        _post(ticket, author=user, body=body, is_staff=False)
        notify_ticket_opened(ticket_id=ticket.pk, username=user.username, subject=subject)
    return ticket


def ticket_reply(*, ticket: Ticket, user: User, body: str) -> TicketMessage:
    """The customer's reply; it reopens an answered ticket. A closed one must be reopened first."""
    body = _clean_body(body)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk, user=user)
        if ticket.status == TicketStatus.CLOSED:
            raise InvalidTransition(_("The ticket is closed: reopen it to reply."))
        return _post(ticket, author=user, body=body, is_staff=False)


def ticket_answer(*, ticket_id: int, admin: User, body: str) -> TicketMessage:
    """Support's reply: the ticket becomes answered and the customer gets an email."""
    body = _clean_body(body)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        return _post(ticket, author=admin, body=body, is_staff=True)


def _set_status(ticket_id: int, user: User | None, old: tuple[str, ...], new: str) -> bool:
    tickets = Ticket.objects.filter(pk=ticket_id, status__in=old)
    if user is not None:
        tickets = tickets.filter(user=user)
    return bool(tickets.update(status=new, updated_at=timezone.now()))


def ticket_close(*, ticket_id: int, user: User | None = None) -> bool:
    """Close an open or answered ticket (the customer's own when `user` is given)."""
    return _set_status(
        ticket_id, user, (TicketStatus.OPEN, TicketStatus.ANSWERED), TicketStatus.CLOSED
    )


def ticket_reopen(*, ticket_id: int, user: User | None = None) -> bool:
    return _set_status(ticket_id, user, (TicketStatus.CLOSED,), TicketStatus.OPEN)


def ticket_mark_read(*, ticket: Ticket, by_staff: bool) -> None:
    """The side opening the ticket has now seen every message of the other side."""
    field = "staff_read_at" if by_staff else "customer_read_at"
    Ticket.objects.filter(pk=ticket.pk).update(**{field: timezone.now()})


# --- The admin's one-click actions on a ticket's orders --------------------------------------


def _refill_line(ticket: Ticket, order_id: int) -> str:
    # The service's refill rules decide, as for the web and the API (orders.refill_rules).
    try:
        refill = refill_request(user=ticket.user, order_id=order_id, source=Source.ADMIN)
    except PanelError as exc:
        return _("Order %(order)d: refill refused: %(reason)s") % {
            "order": order_id,
            "reason": error_display(exc),
        }
    return _("Order %(order)d: refill %(refill)d requested from the provider.") % {
        "order": order_id,
        "refill": refill.pk,
    }


def _cancel_line(ticket: Ticket, order_id: int) -> str:
    try:
        order = order_cancel(user=ticket.user, order_id=order_id, source=Source.ADMIN)
    except PanelError as exc:
        return _("Order %(order)d: cancel refused: %(reason)s") % {
            "order": order_id,
            "reason": exc.message,
        }
    if order.is_final:
        return _("Order %(order)d: canceled and refunded.") % {"order": order_id}
    return _(
        "Order %(order)d: cancel requested from the provider; the refund follows its answer."
    ) % {"order": order_id}


def ticket_order_action(*, ticket_id: int, action: str, admin: User) -> TicketMessage:
    """Refill or cancel every order of an order ticket through the order services (as the
    customer would through the API), and post the results into the thread.

    A refill follows the service's refill rules (window, cap, cooldown, one in flight), so
    repeated tickets cannot make the provider refill the same order again and again. The
    ticket row is locked meanwhile: two admins clicking at once run one after the other.
    """
    if action not in (OrderRequest.REFILL, OrderRequest.CANCEL):
        raise InvalidRequest("Unknown action")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("user").get(pk=ticket_id)
        order_ids = list(ticket.orders.order_by("pk").values_list("pk", flat=True))
        if ticket.kind != TicketKind.ORDER or not order_ids:
            raise InvalidTransition("Only order tickets have orders to act on")
        # Written in the customer's language: the results are posted into their thread.
        with translation.override(ticket.user.preferred_language):
            if action == OrderRequest.REFILL:
                lines = [_refill_line(ticket, pk) for pk in order_ids]
            else:
                lines = [_cancel_line(ticket, pk) for pk in order_ids]
            body = "\n".join(lines)
        return _post(ticket, author=admin, body=body, is_staff=True, is_system=True)
