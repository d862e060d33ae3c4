"""Issue 17, item 10: reset mails throttled per address and per client address, and the page
answers the same whether or not the address has an account."""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def _ask(email: str, address: str = "10.4.0.1") -> tuple[int, str]:
    response = Client().post("/password/reset/", {"email": email}, REMOTE_ADDR=address)
    return response.status_code, response["Location"]


def test_mails_per_address_stop_at_the_limit(customer: User, settings: object) -> None:
    settings.PANEL_PASSWORD_RESET_PER_ADDRESS = 3
    answers = {_ask(customer.email, address=f"10.4.1.{index}") for index in range(30)}
    assert len(mail.outbox) == 3
    assert answers == {(302, "/password/reset/sent/")}


def test_mails_per_client_address_stop_at_the_limit(db: None, settings: object) -> None:
    settings.PANEL_PASSWORD_RESET_PER_CLIENT = 4
    settings.PANEL_PASSWORD_RESET_PER_ADDRESS = 100
    for index in range(10):
        User.objects.create_user(f"user{index}", f"user{index}@example.com", "pass12345")
    for index in range(10):
        _ask(f"user{index}@example.com", address="10.4.2.2")
    assert len(mail.outbox) == 4
    _ask("user9@example.com", address="10.4.2.3")
    assert len(mail.outbox) == 5


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    customer: User, settings: object
) -> None:
    settings.PANEL_PASSWORD_RESET_PER_ADDRESS = 1
    # Under the limit and over it, for a known and an unknown address: one answer.
    answers = [_ask(email) for email in (customer.email, "nobody@example.com") for _ in range(2)]
    assert set(answers) == {(302, "/password/reset/sent/")}
    assert len(mail.outbox) == 1


def test_other_spellings_of_an_address_share_its_limit(customer: User, settings: object) -> None:
    settings.PANEL_PASSWORD_RESET_PER_ADDRESS = 1
    _ask("alice@example.com")
    _ask("ALICE@example.com", address="10.4.3.3")
    assert len(mail.outbox) == 1
