"""A form sent twice acts once: the order form and the mass order form carry a one-time token."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.form_tokens import (
    FIELD,
    AlreadySubmitted,
    FormExpired,
    form_submission_claim,
    form_submissions_purge,
    form_token_new,
)
from accounts.models import BalanceTransaction, FormSubmission, User
from orders.models import Order
from providers.models import Service
from tests.factories import ServiceFactory

LINK = "https://instagram.com/p/abc123"


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(rate=Decimal("2.5"), min=100, max=10000)


@pytest.fixture
def logged_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def _token_of(html: str) -> str:
    match = re.search(rf'name="{FIELD}" value="([^"]+)"', html)
    assert match, "the form carries no one-time token"
    return match.group(1)


def _charges(user: User) -> int:
    return BalanceTransaction.objects.filter(user=user, kind="charge").count()


def test_order_form_sent_twice_places_one_order_and_charges_once(
    logged_in: Client, customer: User, service: Service
) -> None:
    # given: the form as the browser got it
    token = _token_of(logged_in.get(reverse("order_new")).content.decode())
    fields = {"service": service.pk, "link": LINK, "quantity": "1000", FIELD: token}

    # when: it is sent twice (a double click)
    first = logged_in.post(reverse("order_new"), fields)
    second = logged_in.post(reverse("order_new"), fields)

    # then
    order = Order.objects.get(user=customer)
    assert _charges(customer) == 1
    customer.refresh_from_db()
    assert customer.balance == Decimal("97.5")
    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("order_detail", args=[order.pk])
    assert "nothing was placed or charged twice" in " ".join(
        str(message) for message in get_messages(second.wsgi_request)
    )


def test_mass_order_form_sent_twice_places_its_lines_once(
    logged_in: Client, customer: User, service: Service
) -> None:
    token = _token_of(logged_in.get(reverse("order_mass")).content.decode())
    text = f"{service.pk} | {LINK}/1 | 1000\n{service.pk} | {LINK}/2 | 1000"
    fields = {"orders": text, FIELD: token}

    first = logged_in.post(reverse("order_mass"), fields)
    second = logged_in.post(reverse("order_mass"), fields)

    assert first.status_code == 200 and len(first.context["results"]) == 2
    assert second.status_code == 302 and second["Location"] == reverse("order_list")
    assert Order.objects.filter(user=customer).count() == 2
    assert _charges(customer) == 2


def test_a_form_without_its_token_places_nothing_and_offers_a_fresh_one(
    logged_in: Client, customer: User, service: Service
) -> None:
    response = logged_in.post(
        reverse("order_new"), {"service": service.pk, "link": LINK, "quantity": "1000"}
    )

    assert response.status_code == 200
    assert "This form has expired" in response.context["error"]
    assert _token_of(response.content.decode())
    assert not Order.objects.exists() and _charges(customer) == 0


def test_a_refused_submit_leaves_its_token_free_for_the_corrected_form(
    logged_in: Client, customer: User, service: Service
) -> None:
    token = form_token_new()
    fields = {"service": service.pk, "link": LINK, FIELD: token}

    refused = logged_in.post(reverse("order_new"), {**fields, "quantity": "5"})
    placed = logged_in.post(reverse("order_new"), {**fields, "quantity": "500"})

    assert refused.status_code == 200 and placed.status_code == 302
    assert Order.objects.get(user=customer).quantity == 500


def test_a_mass_form_that_placed_nothing_can_be_sent_again(
    logged_in: Client, customer: User, service: Service
) -> None:
    token = form_token_new()
    logged_in.post(reverse("order_mass"), {"orders": f"{service.pk} | {LINK} | 5", FIELD: token})
    logged_in.post(reverse("order_mass"), {"orders": f"{service.pk} | {LINK} | 500", FIELD: token})

    assert Order.objects.get(user=customer).quantity == 500


def test_order_form_page_sends_once_in_the_browser(logged_in: Client, service: Service) -> None:
    html = logged_in.get(reverse("order_new")).content.decode()
    assert "data-submit-once" in html and "panel/submit-once.js" in html


def test_claim_refuses_malformed_tokens_and_reports_repeats(customer: User) -> None:
    for token in (None, "", "short", "x" * 65, "bad token with spaces!!"):
        with pytest.raises(FormExpired):
            form_submission_claim(user=customer, token=token)
    token = form_token_new()
    form_submission_claim(user=customer, token=token)
    with pytest.raises(AlreadySubmitted):
        form_submission_claim(user=customer, token=token)


def test_tokens_are_per_user(customer: User, reseller: User) -> None:
    token = form_token_new()
    form_submission_claim(user=customer, token=token)
    form_submission_claim(user=reseller, token=token)  # someone else's token means nothing here


def test_old_submissions_are_purged(customer: User) -> None:
    form_submission_claim(user=customer, token=form_token_new())
    FormSubmission.objects.update(created_at="2000-01-01T00:00:00Z")
    form_submission_claim(user=customer, token=form_token_new())

    assert form_submissions_purge(older_than=timedelta(days=2)) == 1
    assert FormSubmission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_of_one_form_place_one_order(service: Service) -> None:
    # given: one customer in two browser connections, sending the same form at the same moment
    customer = User.objects.create_user(username="racer", password="x")
    from accounts.services import balance_credit

    balance_credit(user_id=customer.pk, amount=Decimal(100), memo="test deposit")
    fields = {"service": service.pk, "link": LINK, "quantity": "1000", FIELD: form_token_new()}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def submit() -> None:
        from django.db import connection

        client = Client()
        client.force_login(customer)
        barrier.wait()
        try:
            statuses.append(client.post(reverse("order_new"), fields).status_code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert statuses == [302, 302]
    assert Order.objects.filter(user=customer).count() == 1
    assert _charges(customer) == 1
