"""Issue 17, item 7: the lockout counts a name in every spelling the login accepts, a parallel
burst cannot get past it, and turning two-factor off is behind the same counters."""

import threading
import time

import pyotp
import pytest
from django.db import connection
from django.test import Client

from accounts.models import TwoFactorDevice, User
from accounts.two_factor import has_two_factor, two_factor_begin, two_factor_confirm
from tests.factories import UserFactory

THROTTLED = "Too many failed attempts"


@pytest.mark.django_db
def test_other_spellings_of_a_name_spend_the_same_attempts(
    client: Client, customer: User, settings: object
) -> None:
    settings.PANEL_LOGIN_FAILURES = 3
    # Each from its own address, so only the per-name counter can stop them.
    for index, spelling in enumerate(["ａlice", "𝐚lice", "alicᵉ"]):
        client.post(
            "/login/", {"username": spelling, "password": "wrong"}, REMOTE_ADDR=f"10.2.0.{index}"
        )
    locked = client.post(
        "/login/", {"username": "ALICE", "password": "pass12345"}, REMOTE_ADDR="10.2.9.9"
    )
    assert THROTTLED in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_right_password_does_not_use_up_an_attempt(
    client: Client, customer: User, settings: object
) -> None:
    settings.PANEL_LOGIN_FAILURES = 2
    for _ in range(3):
        assert (
            Client().post("/login/", {"username": "alice", "password": "pass12345"}).status_code
            == 302
        )
    client.post("/login/", {"username": "alice", "password": "wrong"})
    assert client.post("/login/", {"username": "alice", "password": "pass12345"}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_of_guesses_gets_no_more_checks_than_the_limit(settings: object) -> None:
    settings.PANEL_LOGIN_FAILURES = 3
    UserFactory(username="dave")
    guesses, barrier = 16, threading.Barrier(16)
    answers: list[str] = []

    def guess(index: int) -> None:
        try:
            barrier.wait()
            page = Client().post(
                "/login/",
                {"username": "dave", "password": f"wrong-{index}"},
                REMOTE_ADDR=f"10.3.0.{index}",
            )
            answers.append(page.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Checked against the password: at most the limit; the rest were refused unchecked.
    checked = [page for page in answers if THROTTLED not in page]
    assert len(answers) == guesses and len(checked) == 3


def _enrol(user: User) -> str:
    secret = two_factor_begin(user=user)
    two_factor_confirm(user=user, code=pyotp.TOTP(secret).now())
    return secret


@pytest.mark.django_db
def test_turning_two_factor_off_needs_a_code_and_is_throttled(
    client: Client, customer: User, settings: object
) -> None:
    settings.PANEL_LOGIN_FAILURES = 3
    secret = _enrol(customer)
    client.force_login(customer)
    for guess in ("000000", "111111", "222222"):
        client.post("/account/2fa/", {"code": guess})
    assert has_two_factor(customer)
    # The right code, after the limit: refused without being checked.
    right = pyotp.TOTP(secret).at(time.time() + 30)
    page = client.post("/account/2fa/", {"code": right}).content.decode()
    assert THROTTLED in page
    assert TwoFactorDevice.objects.filter(user=customer, confirmed_at__isnull=False).exists()


@pytest.mark.django_db
def test_turning_two_factor_off_with_a_current_code_works(client: Client, customer: User) -> None:
    secret = _enrol(customer)
    client.force_login(customer)
    response = client.post("/account/2fa/", {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert response.status_code == 302 and not has_two_factor(customer)
