"""The account pages: profile, the API key shown once, balance history, password change."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate, api_key_create, balance_credit, balance_debit
from tests.factories import UserFactory


@pytest.fixture
def logged_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


@pytest.mark.parametrize("name", ["account", "balance_history", "password_change"])
def test_account_pages_redirect_anonymous_visitors_to_login(
    client: Client, db: None, name: str
) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_account_page_shows_the_profile_and_offers_a_key(logged_in: Client, customer: User) -> None:
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal("12.5"))

    response = logged_in.get(reverse("account"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "alice" in html and "alice@example.com" in html
    assert "100.00 USD" in html
    assert "12.5%" in html
    assert "Generate a new key" in html
    assert "You have no API key yet" in html
    assert reverse("password_change") in html


def test_a_new_api_key_is_shown_once_and_works(logged_in: Client, customer: User) -> None:
    # when
    created = logged_in.post(reverse("api_key_generate"))
    later = logged_in.get(reverse("account"))

    # then
    key = created.context["new_key"]
    assert key.startswith("smm_")
    assert key in created.content.decode()
    assert 'class="keybox"' in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert key not in later.content.decode()
    assert f"{key[:12]}…" in later.content.decode()  # the prefix identifies it
    assert api_key_authenticate(key=key) == customer


def test_a_new_api_key_replaces_the_old_one_with_a_warning(
    logged_in: Client, customer: User
) -> None:
    old_key = api_key_create(user=customer)

    response = logged_in.post(reverse("api_key_generate"))

    assert "Your previous key has stopped working" in response.content.decode()
    assert api_key_authenticate(key=old_key) is None
    assert api_key_authenticate(key=response.context["new_key"]) == customer


def test_generating_a_key_needs_a_post(logged_in: Client, customer: User) -> None:
    response = logged_in.get(reverse("api_key_generate"))

    assert response.status_code == 405
    assert not ApiKey.objects.filter(user=customer).exists()


def test_revoking_the_key_stops_it(logged_in: Client, customer: User) -> None:
    key = api_key_create(user=customer)

    response = logged_in.post(reverse("api_key_revoke"))

    assert response["Location"] == reverse("account")
    assert api_key_authenticate(key=key) is None
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your API key was revoked: requests with it are refused from now on."
    ]


def test_the_account_page_shows_the_active_key_without_the_secret(
    logged_in: Client, customer: User
) -> None:
    key = api_key_create(user=customer)

    response = logged_in.get(reverse("account"))

    html = response.content.decode()
    assert key not in html
    assert response.context["active_key"].prefix == key[:12]
    assert "never" in html  # last used


def test_balance_history_lists_the_users_ledger_with_signs(
    logged_in: Client, customer: User
) -> None:
    balance_debit(user_id=customer.pk, amount=Decimal("2.5"), memo="Order 7: likes", order_id=7)
    balance_credit(
        user_id=customer.pk,
        amount=Decimal("0.25"),
        kind="refund",
        memo="Refund for order 7",
        order_id=7,
    )
    other = UserFactory(funds=Decimal("33"))
    balance_debit(user_id=other.pk, amount=Decimal("1"), memo="someone else's order")

    response = logged_in.get(reverse("balance_history"))

    rows = response.context["rows"]
    assert [(row["entry"].kind, row["amount"], row["balance_after"]) for row in rows] == [
        ("refund", Decimal("0.25"), Decimal("97.75")),
        ("charge", Decimal("-2.5"), Decimal("97.5")),
        ("deposit", Decimal("100"), Decimal("100")),
    ]
    html = response.content.decode()
    assert "someone else" not in html
    assert reverse("order_detail", args=[7]) in html
    assert 'num-debit">−2.50' in html and 'num-credit">+0.25' in html


def test_balance_history_paginates_by_fifty(logged_in: Client, customer: User) -> None:
    for _ in range(50):
        balance_debit(user_id=customer.pk, amount=Decimal("0.01"))

    first = logged_in.get(reverse("balance_history"))
    second = logged_in.get(reverse("balance_history"), {"page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 1


def test_password_change_keeps_the_user_logged_in(logged_in: Client, customer: User) -> None:
    form = logged_in.get(reverse("password_change"))
    response = logged_in.post(
        reverse("password_change"),
        {
            "old_password": "pass12345",
            "new_password1": "A-much-better-pass-42",
            "new_password2": "A-much-better-pass-42",
        },
        follow=True,
    )

    assert form.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert "Password changed" in response.content.decode()
    customer.refresh_from_db()
    assert customer.check_password("A-much-better-pass-42")
    assert logged_in.get(reverse("account")).status_code == 200


def test_password_change_shows_a_wrong_old_password(logged_in: Client) -> None:
    response = logged_in.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "A-much-better-pass-42",
            "new_password2": "A-much-better-pass-42",
        },
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
