"""Issue 17, item 9: an unconfirmed sign-up holds an address for PANEL_SIGNUP_CONFIRM_HOURS only,
confirming logs nobody in, and a reset of an unconfirmed account takes it from whoever made it."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey, TwoFactorDevice, User
from accounts.services import api_key_create
from accounts.signup import signups_expire
from accounts.tasks import signups_expire_task
from accounts.two_factor import two_factor_begin

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-phrase-9"


def _link(body: str) -> str:
    return re.search(r"http://testserver(/\S+)", body).group(1)


@pytest.fixture(autouse=True)
def _mail_after_commit(django_capture_on_commit_callbacks: Callable) -> None:
    global _capture
    _capture = django_capture_on_commit_callbacks


_capture: Callable = None  # type: ignore[assignment]


def _sign_up(client: Client, username: str, email: str) -> None:
    # The confirmation mail goes after commit, which the test's transaction never reaches.
    with _capture(execute=True):
        client.post(
            "/signup/",
            {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        )


def _age(user: User, hours: int) -> None:
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(hours=hours))


def test_an_expired_sign_up_frees_its_address_and_name_for_a_new_one(
    client: Client, settings: object
) -> None:
    settings.PANEL_SIGNUP_CONFIRM_HOURS = 48
    _sign_up(client, "squatter", "victim@example.com")
    squatter = User.objects.get(username="squatter")
    assert squatter.awaiting_confirmation and not squatter.is_active
    # Within the hours the address stays held...
    _sign_up(Client(), "victim", "victim@example.com")
    assert not User.objects.filter(username="victim").exists()
    # ...after them, the owner signs up with it, and the name is free too.
    _age(squatter, 49)
    _sign_up(Client(), "victim", "victim@example.com")
    assert User.objects.filter(username="victim", email="victim@example.com").exists()
    assert not User.objects.filter(pk=squatter.pk).exists()


def test_the_beat_task_deletes_expired_unconfirmed_sign_ups_only(settings: object) -> None:
    settings.PANEL_SIGNUP_CONFIRM_HOURS = 48
    old = User.objects.create(username="old", awaiting_confirmation=True, is_active=False)
    fresh = User.objects.create(username="fresh", awaiting_confirmation=True, is_active=False)
    # An account an admin switched off is not a sign-up: it stays however old.
    switched_off = User.objects.create(username="off", is_active=False)
    for user in (old, switched_off):
        _age(user, 100)
    assert signups_expire_task() == 1
    assert set(User.objects.values_list("username", flat=True)) == {"fresh", "off"}
    assert signups_expire() == 0 and fresh.pk


def test_confirming_activates_but_logs_nobody_in(client: Client) -> None:
    _sign_up(client, "newbie", "newbie@example.com")
    response = client.get(_link(mail.outbox[0].body))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    user = User.objects.get(username="newbie")
    assert user.is_active and not user.awaiting_confirmation


def test_a_link_of_an_expired_sign_up_does_not_activate_it(
    client: Client, settings: object
) -> None:
    settings.PANEL_SIGNUP_CONFIRM_HOURS = 48
    _sign_up(client, "newbie", "newbie@example.com")
    _age(User.objects.get(username="newbie"), 49)
    response = client.get(_link(mail.outbox[0].body))
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert not User.objects.get(username="newbie").is_active


def test_a_reset_of_an_unconfirmed_account_ends_its_sessions_and_keys(client: Client) -> None:
    _sign_up(client, "squatter", "victim@example.com")
    squatter = User.objects.get(username="squatter")
    # What the squatter could have left on it (an admin-minted key, a session, a device).
    api_key_create(user=squatter)
    two_factor_begin(user=squatter)
    lingering = Client()
    lingering.force_login(squatter)
    lingering_key = lingering.session.session_key
    assert Session.objects.filter(session_key=lingering_key).exists()
    mail.outbox.clear()

    owner = Client()
    owner.post("/password/reset/", {"email": "victim@example.com"})
    assert len(mail.outbox) == 1  # an unconfirmed account can be reset
    form_page = owner.get(_link(mail.outbox[0].body), follow=True)
    owner.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "owners-own-pass-77", "new_password2": "owners-own-pass-77"},
    )
    claimed = User.objects.get(pk=squatter.pk)
    assert claimed.is_active and not claimed.awaiting_confirmation
    assert not ApiKey.objects.filter(user=claimed, revoked_at__isnull=True).exists()
    assert not TwoFactorDevice.objects.filter(user=claimed).exists()
    assert not Session.objects.filter(session_key=lingering_key).exists()
    assert Client().login(username="squatter", password="owners-own-pass-77")
