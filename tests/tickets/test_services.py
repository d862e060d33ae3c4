"""Tickets: opening, the thread, statuses, and the admin's order actions with their cooldown."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from core.errors import InvalidTransition
from notifications.models import Kind, Notification
from orders.models import Order, OrderStatus, Refill
from support.models import Ticket, TicketStatus
from support.selectors import staff_unread_ticket_count, tickets_for_user, unread_ticket_count
from support.services import (
    TicketFieldError,
    ticket_answer,
    ticket_close,
    ticket_open,
    ticket_order_action,
    ticket_reopen,
    ticket_reply,
)
from tests.factories import UserFactory
from tests.support import unused_pk


def _order_ticket(user: User, orders: list[Order], request: str = "refill") -> Ticket:
    return ticket_open(
        user=user,
        kind="order",
        request=request,
        order_ids=", ".join(str(o.pk) for o in orders),
        subject="",
        message="Please help",
    )


def test_an_order_ticket_names_the_customers_own_orders(
    completed: Callable[..., Order], customer: User
) -> None:
    first, second = completed(), completed()

    ticket = ticket_open(
        user=customer,
        kind="order",
        request="speed_up",
        order_ids=f"#{first.pk}\n{second.pk}, {first.pk}",
        subject="",
        message="Slow",
    )

    assert list(ticket.orders.order_by("pk")) == [first, second]
    assert ticket.subject == f"Speed up: {first.pk}, {second.pk}"
    assert ticket.status == TicketStatus.OPEN and ticket.messages.get().body == "Slow"


def test_another_users_order_id_is_refused_as_unknown(
    completed: Callable[..., Order], customer: User, other_reseller: User
) -> None:
    theirs = completed(user=other_reseller)
    mine = completed()

    with pytest.raises(TicketFieldError) as error:
        _order_ticket(customer, [mine, theirs])

    # the same words as for an id that does not exist: nothing reveals that it does
    assert error.value.field == "order_ids"
    assert error.value.message == f"Unknown order ID: {theirs.pk}"
    unknown = unused_pk(Order)
    with pytest.raises(TicketFieldError, match=f"Unknown order ID: {unknown}"):
        ticket_open(
            user=customer,
            kind="order",
            request="refill",
            order_ids=str(unknown),
            subject="",
            message="x",
        )
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "order", "request": "refill", "order_ids": ""}, "order_ids"),
        ({"kind": "order", "request": "", "order_ids": "1"}, "request"),
        ({"kind": "order", "request": "refill", "order_ids": "abc"}, "order_ids"),
        ({"kind": "payment", "payment_reference": " "}, "payment_reference"),
        ({"kind": "other", "subject": ""}, "subject"),
        ({"kind": "nonsense"}, "kind"),
        ({"kind": "other", "subject": "Hi", "message": "  "}, "message"),
    ],
)
def test_incomplete_tickets_are_refused_with_the_field_at_fault(
    customer: User, fields: dict, field: str
) -> None:
    values = {"subject": "Hi", "message": "Hello", **fields}
    with pytest.raises(TicketFieldError) as error:
        ticket_open(user=customer, **values)
    assert error.value.field == field
    assert not Ticket.objects.exists()


def test_a_payment_ticket_keeps_its_reference_and_alerts_the_operators(
    customer: User, settings: object
) -> None:
    settings.PANEL_TELEGRAM_BOT_TOKEN, settings.PANEL_TELEGRAM_CHAT_ID = "1:x", "-1"  # type: ignore[attr-defined]

    ticket = ticket_open(
        user=customer, kind="payment", payment_reference="FT2611", subject="Top-up", message="Paid"
    )

    assert ticket.payment_reference == "FT2611" and not ticket.orders.exists()
    alert = Notification.objects.get(kind=Kind.OPS_NEW_TICKET)
    assert alert.payload == {"id": ticket.pk, "username": "alice", "subject": "Top-up"}


def test_the_thread_moves_between_open_answered_and_closed(customer: User, staff: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")

    ticket_answer(ticket_id=ticket.pk, admin=staff, body="Answer")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    ticket_reply(ticket=ticket, user=customer, body="Thanks, one more")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN

    assert ticket_close(ticket_id=ticket.pk, user=customer)
    assert not ticket_close(ticket_id=ticket.pk, user=customer)  # already closed
    with pytest.raises(InvalidTransition):
        ticket_reply(ticket=ticket, user=customer, body="again")
    assert ticket_reopen(ticket_id=ticket.pk, user=customer)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert [m.is_staff for m in ticket.messages.all()] == [False, True, False]


def test_a_customer_cannot_close_someone_elses_ticket(customer: User, other_reseller: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    assert not ticket_close(ticket_id=ticket.pk, user=other_reseller)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_an_answer_emails_the_customer_once_per_message(customer: User, staff: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")

    ticket_answer(ticket_id=ticket.pk, admin=staff, body="One")
    ticket_answer(ticket_id=ticket.pk, admin=staff, body="Two")

    rows = Notification.objects.filter(kind=Kind.TICKET_ANSWERED)
    assert rows.count() == 2 and {r.user_id for r in rows} == {customer.pk}


def test_unread_counts_follow_who_wrote_last_and_who_looked(customer: User, staff: User) -> None:
    from support.services import ticket_mark_read

    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    assert (unread_ticket_count(user=customer), staff_unread_ticket_count()) == (0, 1)

    ticket_answer(ticket_id=ticket.pk, admin=staff, body="A1")
    ticket_answer(ticket_id=ticket.pk, admin=staff, body="A2")
    assert (unread_ticket_count(user=customer), staff_unread_ticket_count()) == (1, 0)
    assert tickets_for_user(user=customer).get().unread == 2

    ticket_mark_read(ticket=ticket, by_staff=False)
    assert unread_ticket_count(user=customer) == 0
    assert tickets_for_user(user=customer).get().unread == 0


def test_the_refill_action_refills_each_order_once_a_day(
    completed: Callable[..., Order], customer: User, staff: User
) -> None:
    # given a ticket about two completed orders
    first, second = completed(), completed()
    ticket = _order_ticket(customer, [first, second])

    # when an admin clicks refill twice, and again a day later
    message = ticket_order_action(ticket_id=ticket.pk, action="refill", admin=staff)
    again = ticket_order_action(ticket_id=ticket.pk, action="refill", admin=staff)

    # then: one refill per order; the second click is refused (one in flight, then the cooldown)
    refills = list(Refill.objects.order_by("order_id"))
    assert [r.order_id for r in refills] == [first.pk, second.pk]
    assert all(r.source == "admin" for r in refills)
    assert f"Order {first.pk}: refill {refills[0].pk} requested from the provider." in message.body
    assert "refill refused: A refill of this order is still running." in again.body
    assert again.is_system and again.is_staff
    Refill.objects.update(status="Completed")
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        later = ticket_order_action(ticket_id=ticket.pk, action="refill", admin=staff)
    assert "requested from the provider" in later.body
    assert Refill.objects.count() == 4
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED


def test_the_cooldown_counts_refills_the_customer_asked_for_through_the_api(
    completed: Callable[..., Order], customer: User, staff: User
) -> None:
    from orders.services import refill_request

    order = completed()
    refill_request(user=customer, order_id=order.pk, source="api")
    Refill.objects.update(status="Completed")
    ticket = _order_ticket(customer, [order])

    message = ticket_order_action(ticket_id=ticket.pk, action="refill", admin=staff)

    assert "refill refused: The next refill can be asked for from" in message.body
    assert Refill.objects.count() == 1


def test_the_cancel_action_uses_the_order_services_and_reports_each_result(
    completed: Callable[..., Order], customer: User, staff: User
) -> None:
    running, done = completed(status="In progress"), completed()
    ticket = _order_ticket(customer, [running, done], request="cancel")

    message = ticket_order_action(ticket_id=ticket.pk, action="cancel", admin=staff)

    assert f"Order {running.pk}: cancel requested from the provider" in message.body
    assert (
        f"Order {done.pk}: cancel refused: Cancel is not available for this order" in message.body
    )
    assert running.cancel_requests.get().source == "admin"


def test_order_actions_need_an_order_ticket(customer: User, staff: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    with pytest.raises(InvalidTransition):
        ticket_order_action(ticket_id=ticket.pk, action="refill", admin=staff)


def test_orders_of_a_ticket_stay_the_customers_even_if_they_change_hands(
    completed: Callable[..., Order], customer: User, staff: User
) -> None:
    # the actions run as the ticket's owner, so they can only ever touch that owner's orders
    order = completed()
    ticket = _order_ticket(customer, [order])
    stranger = UserFactory(username="mallory")
    Order.objects.filter(pk=order.pk).update(user=stranger)

    message = ticket_order_action(ticket_id=ticket.pk, action="refill", admin=staff)

    assert "Incorrect order ID" in message.body and not Refill.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
