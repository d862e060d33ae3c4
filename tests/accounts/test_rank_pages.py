"""What customers see of ranks and money on the dashboard, the account page and the top bar."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import PricingTier, User
from notifications.services import ranks_assign
from tests.factories import ServiceFactory, UserFactory
from tests.support import with_form_token


@pytest.fixture
def ladder(db: None) -> None:
    for name, name_vi, threshold, percent, unlocks in [
        ("Member", "Thành viên", 0, 0, False),
        ("Collaborator", "CTV", 1_000_000, 3, False),
        ("Agency", "Đại lý", 5_000_000, 6, True),
    ]:
        PricingTier.objects.create(
            name=name,
            name_vi=name_vi,
            threshold=Decimal(threshold),
            percent_off=Decimal(percent),
            unlocks_child_panels=unlocks,
        )


def _vnd_customer(deposited: int, language: str) -> User:
    user = UserFactory(language=language, funds=Decimal(deposited) if deposited else None)
    User.objects.filter(pk=user.pk).update(currency="VND")
    ranks_assign()
    return User.objects.get(pk=user.pk)


def _page(client: Client, user: User, name: str) -> str:
    client.force_login(user)
    return " ".join(client.get(reverse(name)).content.decode().split())


@pytest.mark.parametrize("name", ["dashboard", "account"])
def test_the_rank_card_shows_progress_in_vietnamese_dong(
    client: Client, ladder: None, name: str
) -> None:
    page = _page(client, _vnd_customer(1_200_000, "vi"), name)

    assert "CTV" in page
    assert "1.200.000 ₫ / 5.000.000 ₫ đã nạp" in page
    assert "Nạp thêm 3.800.000 ₫ để lên Đại lý" in page
    assert 'value="24"' in page  # the progress bar


def test_the_rank_card_in_english_names_the_operators_english_rank(
    client: Client, ladder: None
) -> None:
    page = _page(client, _vnd_customer(1_200_000, "en"), "dashboard")

    assert "Collaborator" in page
    assert "1,200,000 ₫ of 5,000,000 ₫ deposited" in page
    assert "Deposit 3,800,000 ₫ more to become Agency" in page
    assert re.search(r"As Agency:.*6% off every service and product.*Child panels", page)


def test_the_top_rank_shows_its_perks_and_no_next(client: Client, ladder: None) -> None:
    page = _page(client, _vnd_customer(6_000_000, "en"), "dashboard")

    assert "Agency" in page and "Highest rank" in page
    assert "Child panels unlocked" in page
    assert "more to become" not in page


def test_the_account_page_lists_the_ranks(client: Client, ladder: None) -> None:
    page = _page(client, _vnd_customer(1_200_000, "vi"), "account")

    assert re.search(r"Thành viên.*CTV.*Đại lý", page)
    assert re.search(r">5\.000\.000 ₫</span> <span class=\"sub\">đã nạp<", page)


def test_a_panel_without_ranks_shows_no_rank_card(client: Client, db: None) -> None:
    page = _page(client, UserFactory(funds=Decimal(10)), "dashboard")

    assert 'id="rank"' not in page


def test_a_zero_balance_newcomer_is_told_how_to_start(client: Client, ladder: None) -> None:
    page = _page(client, _vnd_customer(0, "en"), "dashboard")

    assert "How to start" in page
    assert f'href="{reverse("add_funds")}"' in page


def test_a_customer_with_a_balance_gets_no_start_card(client: Client, customer: User) -> None:
    assert "How to start" not in _page(client, customer, "dashboard")


def test_the_top_bar_balance_links_to_add_funds(client: Client, customer: User) -> None:
    page = _page(client, customer, "dashboard")

    assert re.search(r'<a class="balance" href="/add-funds/"[^>]*>100(\.00)? USD</a>', page)


def test_the_top_bar_balance_is_right_on_the_page_a_mass_order_answers_with(
    client: Client, customer: User
) -> None:
    service = ServiceFactory(rate=Decimal("2.5"), min=100, max=10000)
    client.force_login(customer)
    text = f"{service.pk} | https://instagram.com/p/one | 1000\n{service.pk} | https://instagram.com/p/two | 2000"

    response = client.post(reverse("order_mass"), with_form_token({"orders": text}))

    page = response.content.decode()
    balance = User.objects.get(pk=customer.pk).balance
    assert balance == Decimal("92.5")
    assert re.search(r'<a class="balance"[^>]*>92\.50 USD</a>', page)
