"""Money in the admin as operators read it (core.admin_money): "750.000 ₫" in Vietnamese and
"750,000 ₫" in English, rounded to the currency's places, never the stored "750000,000000"."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.coupons import coupon_create
from accounts.models import BalanceTransaction, PricingTier, User
from orders.services import order_place
from payments.models import Deposit
from tests.factories import ServiceFactory, UserFactory
from tests.panel.test_admin_vietnamese import _admin_urls, admin_text
from tests.payments.senders import post_sepay, sepay_body

pytestmark = pytest.mark.django_db

# A stored amount written with all its places: "750000,000000", "0.250000", "1,00000000".
RAW = re.compile(r"\d[.,]\d{6,8}(?!\d)")


def _reader(language: str) -> Client:
    client = Client()
    client.force_login(
        UserFactory(username="quantri", is_staff=True, is_superuser=True, language=language)
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _readonly(html: str) -> dict[str, str]:
    """A change page's read-only fields: label -> text (the first of each label)."""
    fields: dict[str, str] = {}
    for label, value in re.findall(
        r'<label>([^<]*):</label>\s*<div class="readonly">(.*?)</div>', html, re.S
    ):
        fields.setdefault(label.strip(), value.strip())
    return fields


@pytest.fixture
def vnd_deposit(bank: None, customer: User) -> Deposit:
    """750.000 ₫ arrived by bank transfer, credited as 30 USD at 25.000 VND a dollar."""
    post_sepay(Client(), sepay_body(transfer_id=7, amount=750000, content=f"NAP{customer.pk}"))
    return Deposit.objects.get()


@pytest.mark.parametrize(
    ("language", "amount", "credited", "rate"),
    [("vi", "750.000 ₫", "30,00 USD", "25.000"), ("en", "750,000 ₫", "30.00 USD", "25,000")],
)
def test_the_deposit_page_writes_its_money_as_the_reader_does(
    vnd_deposit: Deposit, language: str, amount: str, credited: str, rate: str
) -> None:
    client = _reader(language)

    html = client.get(reverse("admin:payments_deposit_change", args=[vnd_deposit.pk])).content
    page = html.decode()

    fields = _readonly(page)
    heading = re.search(r"<h2>([^<]*)</h2>", page)
    title = re.search(r"<title>([^<|]*)", page)
    assert heading and title
    assert amount in heading.group(1) and amount in title.group(1)
    assert "750000,000000" not in page and "750000.000000" not in page
    amount_label, credited_label, rate_label = {
        "vi": ("Số tiền", "Số tiền đã cộng", "Tỷ giá"),
        "en": ("Amount", "Credited amount", "Exchange rate"),
    }[language]
    assert fields[amount_label] == amount
    assert fields[credited_label] == credited
    assert fields[rate_label] == rate
    assert not RAW.search(admin_text(page))


@pytest.mark.parametrize(("language", "cell"), [("vi", "750.000 ₫"), ("en", "750,000 ₫")])
def test_the_deposit_lists_write_the_amount_with_its_currency(
    vnd_deposit: Deposit, language: str, cell: str
) -> None:
    client = _reader(language)

    for name in ("admin:payments_deposit_changelist", "admin:payments_unmatcheddeposit_changelist"):
        page = client.get(reverse(name), {"status__exact": vnd_deposit.status}).content.decode()

        assert not RAW.search(page), name
    listed = client.get(reverse("admin:payments_deposit_changelist")).content.decode()
    assert f'<td class="field-amount_shown">{cell}</td>' in listed


@pytest.mark.parametrize(
    ("language", "title", "after"),
    [("vi", "30,00 USD", "130,00 USD"), ("en", "30.00 USD", "130.00 USD")],
)
def test_a_ledger_line_is_titled_and_shown_in_the_customers_currency(
    vnd_deposit: Deposit, language: str, title: str, after: str
) -> None:
    line = BalanceTransaction.objects.get(deposit_id=vnd_deposit.pk)
    client = _reader(language)

    page = client.get(
        reverse("admin:accounts_balancetransaction_change", args=[line.pk])
    ).content.decode()

    heading = re.search(r"<h2>([^<]*)</h2>", page)
    assert heading and title in heading.group(1)
    assert after in _readonly(page).values()
    assert not RAW.search(page)


def test_an_editable_amount_keeps_its_exact_input_without_the_padding_zeros() -> None:
    tier = PricingTier.objects.create(
        name="Reseller", name_vi="Đại lý", threshold=Decimal("1000.5"), percent_off=Decimal(5)
    )
    client = _reader("vi")

    page = client.get(reverse("admin:accounts_pricingtier_change", args=[tier.pk])).content
    listed = client.get(reverse("admin:accounts_pricingtier_changelist")).content.decode()

    assert re.search(r'name="threshold"[^>]*value="1000.5"', page.decode())
    assert '<td class="field-threshold_shown">1.000,50 USD</td>' in listed


def test_an_amount_read_only_on_an_editable_page_is_written_once_and_is_no_input() -> None:
    # given a coupon: its bonus is fixed once created, its minimum deposit stays editable
    coupon = coupon_create(
        code="TET2026",
        bonus_percent=Decimal(0),
        bonus_amount=Decimal("2.5"),
        min_deposit=Decimal("50"),
        max_uses=100,
        max_uses_per_user=1,
        expires_at=None,
    )
    client = _reader("en")

    page = client.get(reverse("admin:accounts_coupon_change", args=[coupon.pk])).content.decode()

    assert 'name="bonus_amount"' not in page
    assert page.count("field-bonus_amount_shown") == 1
    assert _readonly(page)["Bonus amount"] == "2.50 USD"
    assert re.search(r'name="min_deposit"[^>]*value="50"', page)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_admin_page_shows_a_stored_amount_with_all_its_places(
    vnd_deposit: Deposit, customer: User, language: str
) -> None:
    # given a row behind the pages money is most on: a deposit and its ledger, an order
    # (charge, cost, the provider's rate and exchange rate), the catalog, a rank
    service = ServiceFactory(upstream_rate=Decimal("2"), rate=Decimal("2.5"))
    order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/abc", "quantity": "1000"},
    )
    PricingTier.objects.create(
        name="Reseller", name_vi="Đại lý", threshold=Decimal(1000), percent_off=Decimal(5)
    )
    client = _reader(language)
    admin = User.objects.get(username="quantri")

    # when
    raw = {}
    for url in _admin_urls(admin):
        response = client.get(url)
        assert response.status_code == 200, url
        if found := RAW.findall(admin_text(response.content.decode())):
            raw[url] = found

    # then
    assert raw == {}
