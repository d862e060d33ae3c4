"""Customer ticket pages and the admin's ticket pages."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications.models import Preferences
from orders.models import Order, Refill
from support.models import Ticket, TicketStatus
from support.services import ticket_answer, ticket_open
from tests.factories import UserFactory

TOKEN = "t" * 32


@pytest.fixture
def customer_client(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def test_a_customer_opens_a_ticket_and_reads_the_thread(
    customer_client: Client, completed: Callable[..., Order]
) -> None:
    order = completed()
    page = customer_client.get(reverse("ticket_new"))
    assert page.status_code == 200 and 'name="order_ids"' in page.content.decode()

    fields = {"kind": "order", "request": "refill", "order_ids": str(order.pk), "message": "Drop"}
    response = customer_client.post(reverse("ticket_new"), {**fields, "form_token": TOKEN})
    again = customer_client.post(reverse("ticket_new"), {**fields, "form_token": TOKEN})

    ticket = Ticket.objects.get()  # the double submit opened one ticket
    assert response.status_code == 302 and response.url == reverse(
        "ticket_detail", args=[ticket.pk]
    )
    assert again.status_code == 302 and again.url == response.url
    thread = customer_client.get(response.url).content.decode()
    assert "Drop" in thread and f"#{order.pk}" in thread


def test_the_form_shows_an_unknown_order_beside_its_field(
    customer_client: Client, other_reseller: User, completed: Callable[..., Order]
) -> None:
    theirs = completed(user=other_reseller)
    response = customer_client.post(
        reverse("ticket_new"),
        {
            "kind": "order",
            "request": "cancel",
            "order_ids": str(theirs.pk),
            "message": "x",
            "form_token": TOKEN,
        },
    )
    assert response.status_code == 200
    assert f"Unknown order ID: {theirs.pk}" in response.content.decode()
    assert not Ticket.objects.exists()


def test_html_in_messages_is_shown_as_text(customer_client: Client, customer: User) -> None:
    ticket = ticket_open(
        user=customer, kind="other", subject="<b>bold</b>", message="<script>alert(1)</script>"
    )
    page = customer_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_another_customers_ticket_is_not_found(
    customer_client: Client, other_reseller: User
) -> None:
    ticket = ticket_open(user=other_reseller, kind="other", subject="Mine", message="Private")
    assert customer_client.get(reverse("ticket_detail", args=[ticket.pk])).status_code == 404
    customer_client.post(reverse("ticket_close", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_unread_answers_show_in_the_navigation_and_list_until_read(
    customer_client: Client, customer: User, staff: User
) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    ticket_answer(ticket_id=ticket.pk, admin=staff, body="Answer")

    listing = customer_client.get(reverse("ticket_list")).content.decode()
    assert '<span class="nav-count"' in listing and "1 new" in listing

    customer_client.get(reverse("ticket_detail", args=[ticket.pk]))
    listing = customer_client.get(reverse("ticket_list")).content.decode()
    assert '<span class="nav-count"' not in listing and "1 new" not in listing


def test_reply_close_and_reopen_from_the_thread(customer_client: Client, customer: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    url = reverse("ticket_detail", args=[ticket.pk])

    customer_client.post(url, {"body": "More details"})
    customer_client.post(reverse("ticket_close", args=[ticket.pk]))
    closed = customer_client.get(url).content.decode()
    customer_client.post(reverse("ticket_reopen", args=[ticket.pk]))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 2
    assert "Reopen" in closed


def test_pages_fit_a_phone(customer_client: Client, customer: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    for url in (
        reverse("ticket_list"),
        reverse("ticket_new"),
        reverse("ticket_detail", args=[ticket.pk]),
    ):
        page = customer_client.get(url).content.decode()
        assert 'name="viewport" content="width=device-width' in page


def test_email_preferences_are_saved_from_the_account_page(
    customer_client: Client, customer: User
) -> None:
    page = customer_client.get(reverse("account")).content.decode()
    assert 'name="email_order_final"' in page and "checked" in page

    customer_client.post(reverse("notification_preferences"), {"email_ticket_answered": "on"})

    preferences = Preferences.objects.get(user=customer)
    assert preferences.email_ticket_answered and not preferences.email_order_final
    assert not preferences.email_refill_final and not preferences.email_deposit_credited


# --- Admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


def test_the_admin_shows_the_thread_unread_counts_and_replies(
    admin_client: Client, customer: User, completed: Callable[..., Order]
) -> None:
    order = completed()
    ticket = ticket_open(
        user=customer,
        kind="order",
        request="refill",
        order_ids=str(order.pk),
        subject="",
        message="<i>Help</i>",
    )

    listing = admin_client.get(reverse("admin:support_ticket_changelist")).content.decode()
    unread = admin_client.get(reverse("admin:support_ticket_changelist") + "?unread=yes")
    page = admin_client.get(
        reverse("admin:support_ticket_change", args=[ticket.pk])
    ).content.decode()
    admin_client.post(reverse("admin:support_ticket_reply", args=[ticket.pk]), {"body": "On it"})
    admin_client.post(reverse("admin:support_ticket_order_action", args=[ticket.pk, "refill"]))

    assert 'class="field-unread">1<' in listing and ticket.subject in unread.content.decode()
    assert "&lt;i&gt;Help&lt;/i&gt;" in page and "Refill all listed orders" in page
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED and ticket.staff_read_at is not None
    assert [m.body for m in ticket.messages.all()][1] == "On it"
    assert Refill.objects.get().order_id == order.pk


def test_admin_ticket_views_need_their_permissions(client: Client, customer: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Q", message="Question")
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(viewer)

    page = client.get(reverse("admin:support_ticket_change", args=[ticket.pk]))
    reply = client.post(reverse("admin:support_ticket_reply", args=[ticket.pk]), {"body": "x"})
    action = client.post(reverse("admin:support_ticket_order_action", args=[ticket.pk, "refill"]))
    get_reply = client.get(reverse("admin:support_ticket_reply", args=[ticket.pk]))

    assert page.status_code == 200 and "Send reply" not in page.content.decode()
    assert (reply.status_code, action.status_code, get_reply.status_code) == (403, 403, 403)
    assert ticket.messages.count() == 1


def test_staff_see_tickets_waiting_for_an_answer_in_their_navigation(
    client: Client, staff: User, customer: User
) -> None:
    ticket_open(user=customer, kind="other", subject="Q", message="Question")
    client.force_login(staff)

    page = client.get(reverse("dashboard")).content.decode()

    assert "Tickets to answer" in page and reverse("admin:support_ticket_changelist") in page


def test_a_ticket_form_without_its_token_opens_nothing(customer_client: Client) -> None:
    response = customer_client.post(
        reverse("ticket_new"), {"kind": "other", "subject": "Q", "message": "Question"}
    )
    assert response.status_code == 200 and "expired" in response.content.decode()
    assert not Ticket.objects.exists()
