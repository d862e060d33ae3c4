"""What the payments app writes for an admin to read is in the reader's language: a bonus rule's
and a chosen coupon's titles, and the ledger line of a deposit credited with another amount,
whose figures keep their currency (a child panel's đồng read by the parent's admin)."""

from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from accounts.models import BalanceTransaction, User
from core.tenancy import panel_scope
from panel.child_panels.services import child_panel_create
from payments.models import BankCoupon, BonusRule, Deposit, Gateway
from payments.services import deposit_assign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _read(thing: object, language: str) -> str:
    with translation.override(language):
        return str(thing)


@override_settings(PANEL_CURRENCY="VND")
def test_a_bonus_rule_reads_as_a_sentence_in_the_readers_language() -> None:
    every = BonusRule(gateway="", min_amount=Decimal(500000), percent=Decimal("10.50"))
    sepay = BonusRule(gateway=Gateway.SEPAY, min_amount=Decimal(1000000), percent=Decimal(5))

    assert _read(every, "en") == "+10.5% on deposits from 500,000 ₫ (every gateway)"
    assert _read(every, "vi") == "+10,5% cho khoản nạp từ 500.000 ₫ (mọi cổng thanh toán)"
    assert _read(sepay, "en") == "+5% on deposits from 1,000,000 ₫ (Bank transfer (SePay))"
    assert _read(sepay, "vi").startswith("+5% cho khoản nạp từ 1.000.000 ₫ (")


def test_a_chosen_coupon_reads_in_the_readers_language(customer: User) -> None:
    choice = BankCoupon(user=customer, code="TET2027")

    assert _read(choice, "en") == f"TET2027 for user #{customer.pk}"
    assert _read(choice, "vi") == f"TET2027 cho khách #{customer.pk}"


@override_settings(
    PANEL_CURRENCY="USD",
    PANEL_VND_RATE="25000",
    PANEL_CHILD_PANEL_API_URL="http://127.0.0.1:9/api/v2",
)
def test_another_amount_on_a_child_panel_in_dong_reads_in_dong_in_the_parents_admin(
    staff: User,
) -> None:
    # given: a child panel in đồng on a parent in dollars, a transfer into its owner's account
    owner = UserFactory(username="owner", funds=Decimal(100))
    child = child_panel_create(domain="shop.example.net", owner=owner, name="Shop", currency="VND")
    assert child.currency == "VND"
    with panel_scope(child.pk, currency=child.currency):
        carol = UserFactory(username="carol", child_panel=child)
    assert carol.currency == "VND"
    deposit = Deposit.objects.create(
        child_panel=child,
        gateway=Gateway.SEPAY,
        external_id="701",
        amount=Decimal(250000),
        currency="VND",
        received_amount=Decimal(250000),
        received_currency="VND",
        rate=Decimal(1),
        status=Deposit.Status.UNMATCHED,
    )

    # when: an admin credits another amount than what arrived
    deposit_assign(
        deposit_id=deposit.pk,
        user_id=carol.pk,
        admin=staff,
        credited_amount=Decimal(200000),
        reason="phí ngân hàng",
    )

    # then: each figure is stored with the customer's currency and read in it, outside his panel
    line = BalanceTransaction.objects.get(deposit_id=deposit.pk)
    assert line.memo_params["credited"] == {"amount": "200000", "currency": "VND"}
    assert line.memo_params["arrived"] == {"amount": "250000", "currency": "VND"}
    with translation.override("en"):
        assert "(200,000 ₫ instead of 250,000 ₫: phí ngân hàng, admin)" in line.memo_text
    with translation.override("vi"):
        assert "200.000 ₫ thay vì 250.000 ₫: phí ngân hàng, admin" in line.memo_text


@override_settings(PANEL_CURRENCY="USD")
def test_another_amount_stored_as_plain_text_by_an_older_panel_still_reads() -> None:
    line = BalanceTransaction(
        memo_code="deposit_other_amount",
        memo_params={
            "gateway": "stripe",
            "id": 4,
            "credited": "25",
            "arrived": "1",
            "reason": "rest by bank",
            "admin": "admin",
        },
    )
    with translation.override("en"):
        assert line.memo_text.endswith("(25.00 USD instead of 1.00 USD: rest by bank, admin)")


def test_the_admins_list_of_bonus_rules_writes_the_percent_as_the_reader_does(
    admin_client: Client,
) -> None:
    BonusRule.objects.create(percent=Decimal("10.50"), min_amount=Decimal("500000"))
    BonusRule.objects.create(percent=Decimal("3"), min_amount=Decimal("100000"), gateway="bank")
    url = reverse("admin:payments_bonusrule_changelist")

    english = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    admin_client.cookies["django_language"] = "vi"
    vietnamese = admin_client.get(url).content.decode()

    assert ">10.5%<" in english and "10.50" not in english
    assert ">10,5%<" in vietnamese and "10,50" not in vietnamese
    # a rule for every gateway says so, where the empty column read "-"
    assert ">every gateway<" in english and ">mọi cổng thanh toán<" in vietnamese
