"""A ticket from opening to an admin's reply, in a real browser (headless Chromium), with the
content security policy watching every page on the way."""

from typing import Any

import pytest
from django.urls import reverse

from support.models import Ticket, TicketStatus
from tests.browser_pages import CSP_LISTENER, csp_violations, log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow]


def _page(chromium: Any, base: str, username: str, width: int) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 844})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    log_in(page, base, username)
    return page


@pytest.mark.django_db(transaction=True)
def test_a_ticket_goes_from_the_customer_to_an_admin_reply_and_back(
    live_server: Any, chromium: Any
) -> None:
    UserFactory(username="tina")
    UserFactory(username="sam", is_staff=True, is_superuser=True)
    base = live_server.url

    # the customer opens a payment ticket on a phone: only the payment fields show
    customer = _page(chromium, base, "tina", 390)
    customer.goto(f"{base}{reverse('ticket_new')}")
    assert customer.is_visible("#id_order_ids") and customer.is_hidden("#id_payment_reference")
    customer.select_option("#id_kind", "payment")
    assert customer.is_visible("#id_payment_reference") and customer.is_hidden("#id_order_ids")
    customer.fill("#id_payment_reference", "FT26113300")
    customer.fill("#id_subject", "Transfer not credited")
    customer.fill("#id_message", "I sent <b>500000</b> VND")
    customer.click("#ticket-form button[type=submit]")
    customer.wait_for_load_state("load")
    ticket = Ticket.objects.get()
    assert customer.url.endswith(reverse("ticket_detail", args=[ticket.pk]))
    assert "I sent <b>500000</b> VND" in customer.inner_text(".thread")

    # the admin reads it and replies from the ticket's admin page
    admin = _page(chromium, base, "sam", 1280)
    admin.goto(f"{base}{reverse('admin:support_ticket_change', args=[ticket.pk])}")
    admin.fill("textarea[name=body]", "Credited now, sorry for the wait.")
    admin.click("input[value='Send reply']")
    admin.wait_for_load_state("load")
    assert "Credited now" in admin.inner_text(".ticket-admin")

    # the customer sees one unread answer in the navigation, then reads it
    customer.goto(f"{base}{reverse('ticket_list')}")
    assert customer.text_content(".mobile-nav .nav-count") == "1"
    customer.click(f"a[href='{reverse('ticket_detail', args=[ticket.pk])}']")
    customer.wait_for_load_state("load")
    assert "Credited now, sorry for the wait." in customer.inner_text(".thread")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED

    assert csp_violations(customer) == []
    assert csp_violations(admin) == []
