"""Coupons on deposits: chosen on the add-funds page, redeemed once when the deposit is
credited, whatever the gateway replays; a coupon that stopped applying is noted, not fatal."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from accounts.coupons import coupon_create
from accounts.models import BalanceTransaction, Coupon, CouponRedemption, User
from payments import services
from payments.config import gateway_config
from payments.models import BankCoupon, Deposit, Gateway, GatewaySettings, Method
from tests.factories import UserFactory
from tests.payments.senders import post_sepay, sepay_body

pytestmark = [pytest.mark.usefixtures("bank"), pytest.mark.django_db]


def _coupon_lines(user: User) -> list[Decimal]:
    return list(
        BalanceTransaction.objects.filter(user=user, memo_code="coupon_bonus")
        .order_by("id")
        .values_list("amount", flat=True)
    )


def _choose(client: Client, user: User, code: str, amount: str = "250000") -> object:
    client.force_login(user)
    return client.post("/add-funds/bank-coupon/", {"amount": amount, "coupon": code}, follow=True)


def test_bank_coupon_is_saved_with_the_bonus_it_would_give(client: Client, customer: User) -> None:
    coupon_create(code="welcome10", bonus_percent=Decimal(10))
    response = _choose(client, customer, "welcome10")
    assert response.status_code == 200
    # 250,000 VND at 25,000 per unit is 10; 10 % of it is 1
    assert "Coupon WELCOME10: a bonus of 1 " in response.content.decode()
    assert BankCoupon.objects.get(user=customer).code == "WELCOME10"


def test_unknown_bank_coupon_is_refused_and_nothing_saved(client: Client, customer: User) -> None:
    response = _choose(client, customer, "NOPE")
    assert "This coupon code is not valid" in response.content.decode()
    assert not BankCoupon.objects.exists()


def test_coupon_below_its_minimum_names_the_minimum(client: Client, customer: User) -> None:
    coupon_create(code="BIG", bonus_amount=Decimal(5), min_deposit=Decimal(100))
    response = _choose(client, customer, "BIG")
    assert "at least 100" in response.content.decode()
    assert not BankCoupon.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sepay_replayed_twenty_times_concurrently_pays_the_coupon_once(
    settings: object,
) -> None:
    # given
    customer = UserFactory(username="coupon-racer")
    coupon_create(code="RACE", bonus_percent=Decimal(10), max_uses=5)
    services.bank_coupon_choose(
        user=customer, code="race", amount=Decimal(100000), rate=Decimal(25000)
    )
    body = sepay_body(transfer_id=8801, amount=100000, content=f"NAP{customer.pk}")
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        try:
            barrier.wait()
            statuses.append(post_sepay(Client(), body).status_code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert statuses == [200] * 20
    assert _coupon_lines(customer) == [Decimal("0.4")]  # 10 % of 4
    redemption = CouponRedemption.objects.get()
    assert redemption.deposit_key == "sepay:8801"
    assert Coupon.objects.get(code="RACE").uses == 1
    deposit = Deposit.objects.get(external_id="8801")
    assert deposit.coupon_code == "RACE"
    assert (deposit.coupon_note_code, deposit.coupon_note_params) == (
        "coupon_applied",
        {"code": "RACE", "bonus": "0.4"},
    )
    assert not BankCoupon.objects.exists()  # taken by this transfer


def test_coupon_expired_before_the_money_arrived_is_noted_and_the_deposit_credited(
    client: Client, customer: User
) -> None:
    coupon = coupon_create(code="SOON", bonus_amount=Decimal(2))
    services.bank_coupon_choose(
        user=customer, code="SOON", amount=Decimal(100000), rate=Decimal(25000)
    )
    Coupon.objects.filter(pk=coupon.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = post_sepay(
        client, sepay_body(transfer_id=8802, amount=100000, content=f"NAP{customer.pk}")
    )
    assert response.status_code == 200
    deposit = Deposit.objects.get(external_id="8802")
    assert deposit.status == Deposit.Status.CREDITED
    with translation.override("en"):
        assert deposit.coupon_note_text == "Coupon SOON not applied: This coupon has expired"
    assert _coupon_lines(customer) == []
    customer.refresh_from_db()
    assert customer.balance == Decimal("104")


def test_a_transfer_below_the_coupons_minimum_notes_the_minimum_in_the_readers_notation(
    client: Client, customer: User
) -> None:
    coupon_create(code="BIG", bonus_amount=Decimal(5), min_deposit=Decimal(1000))
    services.bank_coupon_choose(
        user=customer, code="BIG", amount=Decimal(25_000_000), rate=Decimal(25000)
    )

    post_sepay(client, sepay_body(transfer_id=8803, amount=100000, content=f"NAP{customer.pk}"))

    deposit = Deposit.objects.get(external_id="8803")
    assert deposit.status == Deposit.Status.CREDITED
    assert deposit.coupon_note_params == {
        "code": "BIG",
        "reason": {"code": "coupon_needs_deposit", "params": {"amount": "1000"}},
    }
    with translation.override("en"):
        assert deposit.coupon_note_text == (
            "Coupon BIG not applied: This coupon needs a deposit of at least 1,000.00 USD"
        )
    with translation.override("vi"):
        assert deposit.coupon_note_text == (
            "Mã khuyến mãi BIG không được áp dụng: "
            "Mã khuyến mãi này cần khoản nạp tối thiểu 1.000,00 USD"
        )


def test_the_deposit_admin_names_the_coupon_code_and_its_outcome_apart_in_vietnamese(
    client: Client, customer: User
) -> None:
    # given a transfer credited with the customer's coupon
    coupon_create(code="WELCOME10", bonus_percent=Decimal(10))
    services.bank_coupon_choose(
        user=customer, code="WELCOME10", amount=Decimal(100000), rate=Decimal(25000)
    )
    post_sepay(client, sepay_body(transfer_id=8804, amount=100000, content=f"NAP{customer.pk}"))
    deposit = Deposit.objects.get(external_id="8804")

    # when a Vietnamese admin opens it
    client.force_login(UserFactory(is_staff=True, is_superuser=True, language="vi"))
    page = client.get(f"/admin/payments/deposit/{deposit.pk}/change/").content.decode()

    # then the code and what became of it have labels of their own (both "Coupon…" in English)
    assert re.findall(r"<label>([^<]*khuyến mãi[^<]*):</label>", page) == [
        "Mã khuyến mãi",
        "Kết quả mã khuyến mãi",
    ]
    assert "Mã khuyến mãi WELCOME10: thưởng 0,4" in page


def test_transfer_in_review_keeps_the_coupon_for_the_admins_credit(
    client: Client, customer: User, staff: User
) -> None:
    GatewaySettings.objects.create(method=Method.BANK, max_amount=Decimal(200000))
    coupon_create(code="LATER", bonus_amount=Decimal(3))
    services.bank_coupon_choose(
        user=customer, code="LATER", amount=Decimal(100000), rate=Decimal(25000)
    )
    post_sepay(client, sepay_body(transfer_id=8803, amount=500000, content=f"NAP{customer.pk}"))
    deposit = Deposit.objects.get(external_id="8803")
    assert deposit.status == Deposit.Status.REVIEW
    assert deposit.coupon_code == "LATER"
    services.deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)
    assert _coupon_lines(customer) == [Decimal("3")]


def test_card_payment_with_a_coupon_pays_its_bonus_once(customer: User) -> None:
    row = GatewaySettings(method=Method.STRIPE, currency="USD", rate=Decimal(1))
    row.secrets = {"secret_key": "sk_test_123", "webhook_secret": "whsec_x"}
    row.save()
    coupon_create(code="CARD5", bonus_percent=Decimal(5))
    deposit = services.deposit_start(
        user=customer,
        gateway=Gateway.STRIPE,
        config=gateway_config(method=Method.STRIPE),
        amount=Decimal(20),
        coupon_code="card5",
    )
    services.deposit_attach_external(deposit_id=deposit.pk, external_id="cs_coupon")
    for _ in range(3):
        services.deposit_confirm_paid(
            gateway=Gateway.STRIPE,
            external_id="cs_coupon",
            reference=str(deposit.reference),
            amount=Decimal(20),
            currency="usd",
            payload={},
        )
    assert _coupon_lines(customer) == [Decimal("1")]
    assert CouponRedemption.objects.get().deposit_key == "stripe:cs_coupon"


def test_card_payment_with_an_unknown_coupon_starts_nothing(
    client: Client, customer: User, stripe_gateway: GatewaySettings
) -> None:
    client.force_login(customer)
    response = client.post(
        "/add-funds/stripe/start/", {"amount": "25.00", "coupon": "NOPE"}, follow=True
    )
    assert "This coupon code is not valid" in response.content.decode()
    assert not Deposit.objects.exists()


def test_add_funds_page_offers_a_coupon_field_for_every_method(
    client: Client, customer: User, stripe_gateway: GatewaySettings
) -> None:
    client.force_login(customer)
    page = client.get("/add-funds/").content.decode()
    assert 'id="id_coupon_bank"' in page
    assert 'id="id_coupon_stripe"' in page
    assert "cannot travel with the transfer" in page
