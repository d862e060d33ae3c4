"""A ticket from opening to an admin's reply, in a real browser (headless Chromium), with the
content security policy watching every page on the way."""

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from support.models import Ticket, TicketStatus
from tests.factories import UserFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: apt-get install chromium"),
]
_LISTEN = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline")));"""


@pytest.fixture
def browser() -> Iterator[Any]:
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _page(browser: Any, base: str, username: str, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.add_init_script(_LISTEN)
    page = context.new_page()
    page.goto(f"{base}{reverse('login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass12345")
    page.click("main button[type=submit]")  # the top bar's language switch has buttons too
    page.wait_for_load_state("load")
    return page


@pytest.mark.django_db(transaction=True)
def test_a_ticket_goes_from_the_customer_to_an_admin_reply_and_back(
    live_server: Any, browser: Any
) -> None:
    UserFactory(username="tina")
    UserFactory(username="sam", is_staff=True, is_superuser=True)
    base = live_server.url

    # the customer opens a payment ticket on a phone: only the payment fields show
    customer = _page(browser, base, "tina", 390)
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
    admin = _page(browser, base, "sam", 1280)
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

    assert customer.evaluate("window.__violations") == []
    assert admin.evaluate("window.__violations") == []
