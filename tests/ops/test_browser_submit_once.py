"""In a real browser, a form marked data-submit-once sends one request however often it is
submitted, and its button shows that it is busy (panel/static/panel/submit-once.js)."""

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import BalanceTransaction
from orders.models import Order
from tests.browser_pages import log_in
from tests.factories import ServiceFactory, UserFactory

pytestmark = [pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_a_double_submitted_mass_order_sends_one_request(live_server: Any, chromium: Any) -> None:
    customer = UserFactory(username="double-clicker", funds=Decimal(100))
    service = ServiceFactory(rate=Decimal("2.5"), min=100, max=10000)
    page = chromium.new_context().new_page()
    log_in(page, live_server.url, customer.username)
    page.goto(f"{live_server.url}{reverse('order_mass')}")
    page.fill("textarea[name=orders]", f"{service.pk} | https://instagram.com/p/abc | 1000")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    with page.expect_navigation():
        busy = page.evaluate(
            """() => {
                const form = document.querySelector("form[data-submit-once]");
                form.requestSubmit();
                form.requestSubmit();
                return new Promise((done) => setTimeout(() => done(
                    form.querySelector("button[type=submit]").disabled), 0));
            }"""
        )

    assert busy is True
    assert len(posts) == 1
    assert Order.objects.filter(user=customer).count() == 1
    assert BalanceTransaction.objects.filter(user=customer, kind="charge").count() == 1
