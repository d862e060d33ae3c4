"""Issue 23: a customer logs in with a username or an email address, and the two share one
lockout counter (a name spelled two ways must not escape it, issue 17)."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.selectors import login_name
from tests.factories import UserFactory


@pytest.mark.django_db
def test_an_email_address_logs_in_as_its_account(client: Client, customer: User) -> None:
    response = client.post("/login/", {"username": "ALICE@example.com", "password": "pass12345"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(customer.pk)


@pytest.mark.django_db
def test_a_name_with_an_at_sign_wins_and_a_shared_address_means_no_one(db: None) -> None:
    UserFactory(username="carol@example.com", email="other@example.com")
    UserFactory(username="dave", email="carol@example.com")
    UserFactory(username="erin", email="twins@example.com")
    UserFactory(username="frank", email="twins@example.com")
    UserFactory(username="gone", email="gone@example.com", is_active=False)

    assert login_name("carol@example.com") == "carol@example.com"
    assert login_name("twins@example.com") == "twins@example.com"  # fails like an unknown name
    assert login_name("gone@example.com") == "gone@example.com"
    assert login_name("dave") == "dave"


@pytest.mark.django_db
def test_the_address_and_the_name_spend_the_same_attempts(
    client: Client, customer: User, settings: object
) -> None:
    settings.PANEL_LOGIN_FAILURES = 2
    for index, typed in enumerate(["alice@example.com", "alice", "Alice@Example.com"]):
        client.post(
            "/login/", {"username": typed, "password": "wrong"}, REMOTE_ADDR=f"10.3.0.{index}"
        )

    locked = client.post(
        "/login/", {"username": "alice", "password": "pass12345"}, REMOTE_ADDR="10.3.9.9"
    )

    assert "Too many failed attempts" in locked.content.decode()


@pytest.mark.django_db
def test_logging_out_says_so_in_the_readers_language(client: Client, customer: User) -> None:
    client.force_login(customer)
    client.post("/i18n/setlang/", {"language": "vi"})

    page = client.post("/logout/", follow=True).content.decode()

    assert "Bạn đã đăng xuất." in page
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_home_page_leads_with_sign_up(client: Client) -> None:
    page = client.get("/").content.decode()

    assert page.index('href="/signup/"') < page.index('href="/login/"')
