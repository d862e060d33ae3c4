"""A deposit's reason keeps its figures as data (an amount and its currency) and writes them as
the reader's language does: "750.000 ₫" in Vietnamese, "750,000 ₫" / "1.00 USD" in English; so
does the refusal of an amount outside a gateway's limits."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from accounts.models import User
from core.errors import InvalidRequest
from payments.config import gateway_config
from payments.models import Deposit, GatewaySettings, Method
from payments.services import deposit_confirm_paid, deposit_start
from tests.payments.senders import post_sepay, sepay_body

MIGRATION = importlib.import_module("payments.migrations.0013_reason_figures_as_data")

pytestmark = pytest.mark.django_db


def _paid(customer: User, *, asked: str, currency: str, paid: str, paid_in: str) -> Deposit:
    deposit = Deposit.objects.create(
        user=customer,
        gateway="stripe",
        amount=Decimal(asked),
        currency=currency,
        rate=Decimal(1),
        status=Deposit.Status.PENDING,
    )
    outcome = deposit_confirm_paid(
        gateway="stripe",
        external_id="",
        reference=str(deposit.reference),
        amount=Decimal(paid),
        currency=paid_in,
        payload={"paid": paid},
    )
    return outcome.deposit


def _read(deposit: Deposit, language: str) -> str:
    with translation.override(language):
        return deposit.reason_text


def test_a_payment_of_another_amount_keeps_each_figure_with_its_currency(customer: User) -> None:
    deposit = _paid(customer, asked="25", currency="USD", paid="1", paid_in="usd")

    assert deposit.status == Deposit.Status.REVIEW
    assert deposit.reason_params == {
        "paid": {"amount": "1", "currency": "USD"},
        "asked": {"amount": "25", "currency": "USD"},
    }
    assert _read(deposit, "en") == "paid 1.00 USD for 25.00 USD"
    assert _read(deposit, "vi") == "đã trả 1,00 USD cho khoản 25,00 USD"


def test_a_payment_in_dong_reads_as_each_language_writes_dong(customer: User) -> None:
    deposit = _paid(customer, asked="750000", currency="VND", paid="1", paid_in="usd")

    assert _read(deposit, "vi") == "đã trả 1,00 USD cho khoản 750.000 ₫"
    assert _read(deposit, "en") == "paid 1.00 USD for 750,000 ₫"


def test_a_payment_a_fraction_of_a_cent_short_shows_every_digit(customer: User) -> None:
    deposit = _paid(customer, asked="25", currency="USD", paid="24.995", paid_in="USD")

    assert _read(deposit, "en") == "paid 24.995 USD for 25.00 USD"


def test_a_reason_stored_as_text_by_an_older_panel_still_reads_in_the_readers_language() -> None:
    deposit = Deposit(
        reason_code="paid_after_rejected",
        reason_params={
            "before": {
                "code": "paid_other_amount",
                "params": {"paid": "1.00 USD", "asked": "750000 VND"},
                "text": "",
            }
        },
    )

    assert _read(deposit, "vi") == (
        "thanh toán sau khi đã bị từ chối (đã trả 1,00 USD cho khoản 750.000 ₫)"
    )
    assert _read(deposit, "en") == "paid after it was rejected (paid 1.00 USD for 750,000 ₫)"


def test_the_migration_turns_stored_figures_into_data(customer: User) -> None:
    # given rows as the panel stored them before
    review = Deposit.objects.create(
        user=customer,
        gateway="stripe",
        amount=Decimal(25),
        currency="USD",
        rate=Decimal(1),
        status=Deposit.Status.REVIEW,
        reason_code="paid_other_amount",
        reason_params={"paid": "1.00 USD", "asked": "25.000000 USD"},
    )
    late = Deposit.objects.create(
        user=customer,
        gateway="stripe",
        amount=Decimal(750000),
        currency="VND",
        rate=Decimal(25000),
        status=Deposit.Status.PAID_LATE,
        reason_code="paid_after_rejected",
        reason_params={
            "before": {"code": "paid_other_amount", "params": {"paid": "1 usd"}, "text": ""}
        },
    )

    coupon = Deposit.objects.create(
        user=customer,
        gateway="sepay",
        amount=Decimal(100000),
        currency="VND",
        rate=Decimal(25000),
        status=Deposit.Status.REVIEW,
        coupon_note_code="coupon_not_applied",
        coupon_note_params={
            "code": "BIG",
            "reason": "This coupon needs a deposit of at least 1000.000000",
        },
    )

    # when
    MIGRATION.forwards(apps, None)

    # then
    review.refresh_from_db()
    late.refresh_from_db()
    assert review.reason_params == {
        "paid": {"amount": "1", "currency": "USD"},
        "asked": {"amount": "25", "currency": "USD"},
    }
    assert late.reason_params["before"]["params"] == {"paid": {"amount": "1", "currency": "USD"}}
    assert _read(review, "vi") == "đã trả 1,00 USD cho khoản 25,00 USD"
    coupon.refresh_from_db()
    assert coupon.coupon_note_params["reason"] == {
        "code": "coupon_needs_deposit",
        "params": {"amount": "1000"},
    }
    with translation.override("vi"):
        assert coupon.coupon_note_text.endswith("cần khoản nạp tối thiểu 1.000,00 USD")
    MIGRATION.forwards(apps, None)  # a second run changes nothing
    review.refresh_from_db()
    assert review.reason_params["paid"] == {"amount": "1", "currency": "USD"}
    MIGRATION.backwards(apps, None)
    review.refresh_from_db()
    assert review.reason_params == {"paid": "1 USD", "asked": "25 USD"}
    coupon.refresh_from_db()
    assert coupon.coupon_note_params["reason"] == "This coupon needs a deposit of at least 1000"


@pytest.mark.usefixtures("bank")
@pytest.mark.parametrize(
    ("limit", "amount", "english", "vietnamese"),
    [
        (
            {"min_amount": Decimal(10000)},
            5000,
            "below the minimum of 10,000 ₫",
            "dưới mức tối thiểu 10.000 ₫",
        ),
        (
            {"max_amount": Decimal(1000000)},
            2000000,
            "above the maximum of 1,000,000 ₫",
            "vượt mức tối đa 1.000.000 ₫",
        ),
    ],
)
def test_a_transfer_outside_the_limits_names_the_limit_in_dong(
    client: Client, customer: User, limit: dict, amount: int, english: str, vietnamese: str
) -> None:
    GatewaySettings.objects.create(method=Method.BANK, **limit)

    post_sepay(client, sepay_body(transfer_id=11, amount=amount, content=f"NAP{customer.pk}"))

    deposit = Deposit.objects.get(external_id="11")
    assert deposit.status == Deposit.Status.REVIEW
    assert _read(deposit, "en") == english
    assert _read(deposit, "vi") == vietnamese


@pytest.mark.parametrize(
    ("limit", "amount", "english", "vietnamese"),
    [
        ("min_amount", "5", "The minimum is 1,000.50 USD", "Tối thiểu là 1.000,50 USD"),
        ("max_amount", "5000", "The maximum is 1,000.50 USD", "Tối đa là 1.000,50 USD"),
    ],
)
def test_an_amount_outside_a_gateways_limits_is_refused_in_the_readers_notation(
    customer: User,
    stripe_gateway: GatewaySettings,
    limit: str,
    amount: str,
    english: str,
    vietnamese: str,
) -> None:
    setattr(stripe_gateway, limit, Decimal("1000.5"))
    stripe_gateway.save()
    config = gateway_config(method="stripe")

    for language, refusal in (("en", english), ("vi", vietnamese)):
        with translation.override(language), pytest.raises(InvalidRequest) as caught:
            deposit_start(user=customer, gateway="stripe", config=config, amount=Decimal(amount))
        assert caught.value.message == refusal
