import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    BalanceTransaction,
    CommissionTransaction,
    Coupon,
    PricingTier,
    User,
)
from accounts.selectors import ledger_mismatches
from affiliates.models import Affiliate, Commission, Payout, Referral, ReferralChange, ReferralFlag
from affiliates.selectors import username_mask
from affiliates.services import (
    affiliate_ensure,
    affiliate_settle,
    commission_move_to_balance,
    payout_decide,
    payout_request,
    referral_record_signup,
    referral_review,
    referral_set_referrer,
)
from affiliates.services.settle import commission_percents
from core.errors import InvalidRequest, InvalidTransition
from payments.models import BonusRule, Deposit, DepositReversal, Gateway
from payments.services import (
    deposit_create_manual,
    deposit_payer_record,
    deposit_reversal_record,
)
from tests.affiliates.helpers import credited_deposit
from tests.factories import UserFactory

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer() -> User:
    return UserFactory(username="teacher")


@pytest.fixture
def referred(referrer: User) -> User:
    user = UserFactory(username="nguyen")
    code = affiliate_ensure(user_id=referrer.pk).code
    referral_record_signup(user=user, code=code, address="203.0.113.9", user_agent="UA-student")
    return user


def later(days: float) -> timezone.datetime:
    return timezone.now() + timedelta(days=days)


def book(user: User) -> Decimal:
    user.refresh_from_db()
    return user.commission_balance


# --- links and sign-up ------------------------------------------------------------------------


def test_referral_link_remembers_first_referrer_and_signup_records_it(referrer: User) -> None:
    # given two affiliates' links
    first = affiliate_ensure(user_id=referrer.pk)
    second = affiliate_ensure(user_id=UserFactory(username="other").pk)
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (test)")
    # when a browser follows both, then signs up
    assert client.get(f"/r/{first.code}/").status_code == 302
    client.get(f"/r/{second.code}/")
    client.get(f"/r/{first.code}/")
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "email": "n@example.com",
            "password1": "S3cret-pass-42",
            "password2": "S3cret-pass-42",
        },
    )
    # then the first link wins, and a repeat visit from the same browser counted once
    assert response.status_code == 200  # "check your email": the account waits for its link
    new = User.objects.get(username="newbie")
    assert Referral.objects.get(referred=new).referrer == referrer
    assert Affiliate.objects.get(pk=first.pk).visits == 1
    assert Affiliate.objects.get(pk=second.pk).visits == 0
    assert len(new.signup_trace.agent_digest) == 64  # a digest: the text is not kept


def test_the_link_is_remembered_for_the_configured_days(referrer: User, settings) -> None:
    settings.PANEL_AFFILIATE_COOKIE_DAYS = 3
    code = affiliate_ensure(user_id=referrer.pk).code
    cookie = Client().get(f"/r/{code}/").cookies["panel_ref"]
    assert (cookie["max-age"], cookie["httponly"], cookie["samesite"]) == (3 * 86400, True, "Lax")


def test_code_is_random_and_stable(referrer: User) -> None:
    code = affiliate_ensure(user_id=referrer.pk).code
    assert affiliate_ensure(user_id=referrer.pk).code == code
    other = affiliate_ensure(user_id=UserFactory(username="other").pk).code
    assert len(code) == 10 and code != other
    assert set(code) <= set("abcdefghjkmnpqrstuvwxyz23456789")


def test_unknown_code_sets_no_cookie() -> None:
    response = Client().get("/r/nosuchcode/")
    assert response.status_code == 302 and "panel_ref" not in response.cookies


def test_signup_through_own_link_records_nothing(referrer: User) -> None:
    code = affiliate_ensure(user_id=referrer.pk).code
    assert referral_record_signup(user=referrer, code=code, address="", user_agent="") is None


def test_a_customer_cannot_change_their_own_referrer(referred: User, referrer: User) -> None:
    # given a referred customer, signed in, and another affiliate's link
    other = affiliate_ensure(user_id=UserFactory(username="other").pk)
    client = Client()
    client.force_login(referred)
    # when they follow it and save their account page with a referrer in the form
    response = client.get(f"/r/{other.code}/")
    client.post(reverse("account"), {"referrer": "other", "phone": ""})
    # then nothing is remembered or counted, and the referral is the one sign-up recorded
    assert response.url == reverse("dashboard") and "panel_ref" not in response.cookies
    assert Affiliate.objects.get(pk=other.pk).visits == 0
    assert Referral.objects.get(referred=referred).referrer == referrer
    assert not ReferralChange.objects.exists()


def test_admin_changes_referrer_with_reason_only(referred: User, referrer: User) -> None:
    admin = UserFactory(username="boss", is_staff=True)
    other = UserFactory(username="other")
    with pytest.raises(InvalidRequest):
        referral_set_referrer(
            referred_id=referred.pk, referrer_id=other.pk, reason=" ", admin=admin
        )
    with pytest.raises(InvalidRequest):
        referral_set_referrer(
            referred_id=referred.pk, referrer_id=referred.pk, reason="x", admin=admin
        )
    referral_set_referrer(
        referred_id=referred.pk, referrer_id=other.pk, reason="wrong link", admin=admin
    )
    assert Referral.objects.get(referred=referred).referrer == other
    change = ReferralChange.objects.get()
    assert (change.old_referrer, change.new_referrer, change.reason) == (
        referrer,
        other,
        "wrong link",
    )


# --- commission -------------------------------------------------------------------------------


def test_bank_deposit_commission_is_held_then_settles(
    referred: User, referrer: User, settings
) -> None:
    settings.PANEL_AFFILIATE_PERCENT = D("10")
    settings.PANEL_AFFILIATE_HOLD_DAYS = 7
    BonusRule.objects.create(min_amount=D("1"), percent=D("50"))
    credited_deposit(referred, D("100"))
    # accrued pending on the credited amount only (the bonus is not paid for)
    assert affiliate_settle().accrued == 1
    commission = Commission.objects.get()
    assert (commission.amount, commission.status) == (D("10"), Commission.Status.PENDING)
    assert book(referrer) == 0
    # settles after the hold, once
    assert affiliate_settle(now=later(6)).settled == 0
    assert affiliate_settle(now=later(8)).settled == 1
    assert affiliate_settle(now=later(9)).settled == 0
    assert book(referrer) == D("10")
    assert Commission.objects.get().status == Commission.Status.AVAILABLE


def test_a_coupons_bonus_earns_no_commission(referred: User, referrer: User) -> None:
    Coupon.objects.create(code="TET2026", bonus_percent=D("20"))
    credited_deposit(referred, D("100"), gateway=Gateway.CRYPTOMUS, coupon_code="TET2026")
    affiliate_settle()
    referred.refresh_from_db()
    assert referred.balance == D("120")  # the coupon paid its bonus
    assert Commission.objects.get().amount == D("5")  # 5 % of the 100 paid, not of 120
    assert book(referrer) == D("5")


def test_no_commission_on_manual_credits_or_before_the_referral(referrer: User, settings) -> None:
    admin = UserFactory(username="boss", is_staff=True)
    user = UserFactory(username="late")
    credited_deposit(user, D("50"))  # before being referred
    referral_set_referrer(referred_id=user.pk, referrer_id=referrer.pk, reason="x", admin=admin)
    deposit_create_manual(user_id=user.pk, amount=D("70"), memo="gift", admin=admin)
    assert affiliate_settle().accrued == 0


def test_card_waits_dispute_window_and_crypto_settles_at_once(
    referred: User, referrer: User, settings
) -> None:
    settings.PANEL_AFFILIATE_CARD_HOLD_DAYS = 120
    credited_deposit(referred, D("100"), gateway=Gateway.STRIPE)
    credited_deposit(referred, D("40"), gateway=Gateway.CRYPTOMUS)
    result = affiliate_settle()
    assert (result.accrued, result.settled) == (2, 1)
    assert book(referrer) == D("2")
    assert affiliate_settle(now=later(119)).settled == 0
    assert affiliate_settle(now=later(121)).settled == 1
    assert book(referrer) == D("7")


def test_percent_override_beats_rank_and_rank_beats_global(
    referred: User, referrer: User, settings
) -> None:
    settings.PANEL_AFFILIATE_PERCENT = D("5")
    tier = PricingTier.objects.create(
        name="VIP", threshold=D("0"), percent_off=D("1"), affiliate_percent=D("8")
    )
    User.objects.filter(pk=referrer.pk).update(pricing_tier=tier)
    credited_deposit(referred, D("100"))
    affiliate_settle()
    Affiliate.objects.filter(user=referrer).update(percent=D("12"))
    credited_deposit(referred, D("100"))
    affiliate_settle()
    assert sorted(Commission.objects.values_list("percent", flat=True)) == [D("8"), D("12")]


def test_an_override_of_zero_percent_pays_nothing(referred: User, referrer: User) -> None:
    Affiliate.objects.filter(user=referrer).update(percent=D("0"))
    assert commission_percents(affiliate_ids={referrer.pk}) == {referrer.pk: D("0")}


def test_refund_before_settling_never_reaches_the_ledger(referred: User, referrer: User) -> None:
    deposit = credited_deposit(referred, D("100"))
    affiliate_settle()
    deposit_reversal_record(deposit_id=deposit.pk, kind=DepositReversal.Kind.REFUND)
    assert affiliate_settle(now=later(30)).reversed == 1
    assert Commission.objects.get().status == Commission.Status.REVERSED
    assert not CommissionTransaction.objects.exists()


def test_refund_after_payout_becomes_owed_and_is_recovered(
    referred: User, referrer: User, settings
) -> None:
    settings.PANEL_AFFILIATE_PERCENT = D("10")
    settings.PANEL_AFFILIATE_MIN_PAYOUT = D("5")
    admin = UserFactory(username="boss", is_staff=True)
    deposit = credited_deposit(referred, D("100"))
    affiliate_settle(now=later(8))
    payout = payout_request(user=referrer, amount=D("10"), details="VCB 0123 TEACHER")
    payout_decide(payout_id=payout.pk, paid=True, reason="", admin=admin)
    # when the deposit is charged back after the payout
    deposit_reversal_record(deposit_id=deposit.pk, kind=DepositReversal.Kind.CHARGEBACK)
    affiliate_settle(now=later(9))
    # then the commission book owes 10, the spending balance is untouched
    referrer.refresh_from_db()
    assert (referrer.commission_balance, referrer.balance) == (D("-10"), D("0"))
    with pytest.raises(InvalidRequest):
        commission_move_to_balance(user=referrer, amount=D("1"))
    # and the next commissions fill the hole first
    credited_deposit(referred, D("150"))
    affiliate_settle(now=later(20))
    assert book(referrer) == D("5")
    assert ledger_mismatches() == []


def test_reversal_is_recorded_once_and_only_for_credited(referred: User) -> None:
    deposit = credited_deposit(referred, D("10"))
    first = deposit_reversal_record(deposit_id=deposit.pk, kind=DepositReversal.Kind.REFUND)
    again = deposit_reversal_record(deposit_id=deposit.pk, kind=DepositReversal.Kind.CHARGEBACK)
    assert first.pk == again.pk
    pending = Deposit.objects.create(
        user=referred,
        gateway=Gateway.STRIPE,
        amount=D("5"),
        currency="USD",
        rate=D(1),
        status=Deposit.Status.PENDING,
    )
    with pytest.raises(InvalidTransition):
        deposit_reversal_record(deposit_id=pending.pk, kind=DepositReversal.Kind.REFUND)
    with pytest.raises(InvalidRequest):
        deposit_reversal_record(
            deposit_id=deposit.pk, kind="refund", admin=UserFactory(username="a"), reason=""
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_settle_runs_count_each_commission_once(settings) -> None:
    settings.PANEL_AFFILIATE_PERCENT = D("10")
    referrer = UserFactory(username="teacher")
    code = affiliate_ensure(user_id=referrer.pk).code
    for index in range(30):
        user = UserFactory(username=f"student{index}")
        referral_record_signup(user=user, code=code, address="", user_agent="")
        credited_deposit(user, D("10"), gateway=Gateway.CRYPTOMUS)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            affiliate_settle()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Commission.objects.count() == 30
    assert CommissionTransaction.objects.count() == 30
    assert book(referrer) == D("30")


# --- self-referral ----------------------------------------------------------------------------


def test_same_bank_account_name_flags_and_holds(referred: User, referrer: User) -> None:
    admin = UserFactory(username="boss", is_staff=True)
    credited_deposit(referrer, D("20"), gateway=Gateway.CASSO, payer_name="NGUYEN VAN A")
    credited_deposit(referred, D("100"), gateway=Gateway.CASSO, payer_name="NGUYEN VAN A")
    affiliate_settle()
    referral = Referral.objects.get(referred=referred)
    assert referral.review == Referral.Review.FLAGGED
    flag = ReferralFlag.objects.get()
    assert flag.reason == ReferralFlag.Reason.SAME_PAYER_NAME
    assert flag.evidence["payer"] == "NGUYEN VAN A"
    assert Commission.objects.get().status == Commission.Status.HELD
    # held: never settles on its own
    affiliate_settle(now=later(30))
    assert book(referrer) == 0
    # refused by an admin: never paid, later deposits neither
    referral_review(referral_id=referral.pk, refuse=True, reason="same person", admin=admin)
    credited_deposit(referred, D("100"))
    affiliate_settle(now=later(40))
    assert set(Commission.objects.values_list("status", flat=True)) == {"refused"}
    assert book(referrer) == 0
    with pytest.raises(InvalidTransition):
        referral_review(referral_id=referral.pk, refuse=False, reason="x", admin=admin)


def test_cleared_flag_settles_normally(referred: User, referrer: User) -> None:
    admin = UserFactory(username="boss", is_staff=True)
    credited_deposit(referrer, D("20"), payer_account="card:fp_1", gateway=Gateway.STRIPE)
    credited_deposit(referred, D("100"), payer_account="card:fp_1", gateway=Gateway.STRIPE)
    affiliate_settle()
    referral = Referral.objects.get(referred=referred)
    assert ReferralFlag.objects.get().reason == ReferralFlag.Reason.SAME_PAYER_ACCOUNT
    referral_review(referral_id=referral.pk, refuse=False, reason="siblings", admin=admin)
    affiliate_settle(now=later(200))
    assert book(referrer) == D("5")


def test_a_card_fingerprint_learnt_after_accrual_holds_it_at_settling(
    referred: User, referrer: User
) -> None:
    # given the referrer's card, and a referred card payment whose charge event (with the
    # fingerprint) comes after the pass accrued its commission
    credited_deposit(referrer, D("20"), payer_account="card:fp_9", gateway=Gateway.STRIPE)
    deposit = credited_deposit(referred, D("100"), gateway=Gateway.STRIPE)
    affiliate_settle()
    assert Commission.objects.get().status == Commission.Status.PENDING
    deposit_payer_record(deposit_id=deposit.pk, payer_account="card:fp_9")
    # when its dispute window is over
    result = affiliate_settle(now=later(121))
    # then it is held for an admin with the evidence, not paid
    assert result.settled == 0
    assert Commission.objects.get().status == Commission.Status.HELD
    flag = ReferralFlag.objects.get()
    assert (flag.reason, flag.evidence["payer"]) == (
        ReferralFlag.Reason.SAME_PAYER_ACCOUNT,
        "card:fp_9",
    )
    assert Referral.objects.get(referred=referred).review == Referral.Review.FLAGGED
    assert book(referrer) == 0


def test_a_referrer_paying_later_from_the_same_account_holds_the_pending_commission(
    referred: User, referrer: User
) -> None:
    # given a referred bank transfer accrued while the referrer had never paid
    credited_deposit(referred, D("100"), gateway=Gateway.CASSO, payer_account="0123456789")
    credited_deposit(referred, D("50"), gateway=Gateway.CRYPTOMUS)
    affiliate_settle()
    # when the referrer then pays from the same bank account before the hold ends
    credited_deposit(referrer, D("10"), gateway=Gateway.CASSO, payer_account="0123456789")
    affiliate_settle(now=later(8))
    # then the transfer's commission is held; the crypto one had settled at once
    statuses = dict(Commission.objects.values_list("deposit_amount", "status"))
    assert statuses == {D("100"): Commission.Status.HELD, D("50"): Commission.Status.AVAILABLE}
    assert ReferralFlag.objects.get().evidence["payer"] == "0123456789"
    assert book(referrer) == D("2.5")


def test_late_evidence_of_a_changed_referral_leaves_the_commission_with_who_earned_it(
    referred: User, referrer: User
) -> None:
    admin = UserFactory(username="boss", is_staff=True)
    deposit = credited_deposit(referred, D("100"), gateway=Gateway.STRIPE)
    affiliate_settle()
    referral_set_referrer(
        referred_id=referred.pk, referrer_id=None, reason="left the programme", admin=admin
    )
    credited_deposit(referrer, D("20"), payer_account="card:fp_2", gateway=Gateway.STRIPE)
    deposit_payer_record(deposit_id=deposit.pk, payer_account="card:fp_2")
    # no referral left to flag: the commission settles as accrued
    assert affiliate_settle(now=later(121)).settled == 1
    assert book(referrer) == D("5")


def test_same_signup_address_and_browser_flags(referrer: User) -> None:
    code = affiliate_ensure(user_id=referrer.pk).code
    first, second = UserFactory(username="farm1"), UserFactory(username="farm2")
    referral_record_signup(user=first, code=code, address="198.51.100.7", user_agent="Bot/1")
    referral_record_signup(user=second, code=code, address="198.51.100.7", user_agent="Bot/1")
    assert Referral.objects.get(referred=first).review == Referral.Review.NONE
    flagged = Referral.objects.get(referred=second)
    assert flagged.review == Referral.Review.FLAGGED
    assert flagged.flags.get().evidence == {"address": "198.51.100.7", "users": [first.pk]}


# --- payouts and moves ------------------------------------------------------------------------


def test_move_to_balance_touches_both_ledgers(referred: User, referrer: User) -> None:
    credited_deposit(referred, D("100"), gateway=Gateway.CRYPTOMUS)
    affiliate_settle()
    commission_move_to_balance(user=referrer, amount=D("3"))
    referrer.refresh_from_db()
    assert (referrer.commission_balance, referrer.balance) == (D("2"), D("3"))
    assert BalanceTransaction.objects.get(user=referrer).kind == BalanceTransaction.Kind.COMMISSION
    with pytest.raises(InvalidRequest):
        commission_move_to_balance(user=referrer, amount=D("2.5"))


def test_payout_minimum_reject_gives_back_and_decides_once(
    referred: User, referrer: User, settings
) -> None:
    settings.PANEL_AFFILIATE_MIN_PAYOUT = D("4")
    admin = UserFactory(username="boss", is_staff=True)
    credited_deposit(referred, D("100"), gateway=Gateway.CRYPTOMUS)
    affiliate_settle()
    with pytest.raises(InvalidRequest):
        payout_request(user=referrer, amount=D("3"), details="bank")
    with pytest.raises(InvalidRequest):
        payout_request(user=referrer, amount=D("6"), details="bank")
    payout = payout_request(user=referrer, amount=D("5"), details="bank")
    assert book(referrer) == 0
    with pytest.raises(InvalidRequest):
        payout_decide(payout_id=payout.pk, paid=False, reason="", admin=admin)
    payout_decide(payout_id=payout.pk, paid=False, reason="wrong account", admin=admin)
    assert book(referrer) == D("5")
    with pytest.raises(InvalidTransition):
        payout_decide(payout_id=payout.pk, paid=True, reason="", admin=admin)
    assert Payout.objects.get().status == Payout.Status.REJECTED


# --- pages, command, masks --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "vi"])
def test_affiliates_page_shows_link_qr_figures_and_masked_referrals(
    referred: User, referrer: User, language: str
) -> None:
    credited_deposit(referred, D("100"))
    affiliate_settle()
    client = Client()
    client.force_login(referrer)
    User.objects.filter(pk=referrer.pk).update(language=language)
    page = client.get("/affiliates/").content.decode()
    assert f"/r/{referrer.affiliate.code}/" in page
    assert "<svg" in page and "ng***n" in page and "nguyen" not in page
    assert 'data-copy="#ref-link"' in page  # the copy button (panel.js copies the link)


def test_page_forms_move_and_request(referred: User, referrer: User, settings) -> None:
    settings.PANEL_AFFILIATE_MIN_PAYOUT = D("1")
    credited_deposit(referred, D("100"), gateway=Gateway.CRYPTOMUS)
    affiliate_settle()
    client = Client()
    client.force_login(referrer)
    assert client.post("/affiliates/move/", {"amount": "2"}).status_code == 302
    response = client.post("/affiliates/payout/", {"amount": "9", "details": "VCB"})
    assert response.status_code == 200  # more than available: the form says so
    assert client.post("/affiliates/payout/", {"amount": "3", "details": "VCB"}).status_code == 302
    assert book(referrer) == 0


def test_settle_command_prints_counts(referred: User) -> None:
    from io import StringIO

    credited_deposit(referred, D("10"))
    out = StringIO()
    call_command("affiliate_settle", stdout=out)
    assert "accrued 1" in out.getvalue()


def test_check_ledger_covers_the_commission_book(referrer: User) -> None:
    User.objects.filter(pk=referrer.pk).update(commission_balance=D("1"))
    assert [m.book for m in ledger_mismatches()] == ["commission_balance"]
    User.objects.filter(pk=referrer.pk).update(commission_balance=D("0"))


@pytest.mark.parametrize(
    ("name", "masked"), [("nguyen", "ng***n"), ("abcd", "a***d"), ("ab", "a***")]
)
def test_username_mask(name: str, masked: str) -> None:
    assert username_mask(name) == masked


def test_demo_affiliate_has_settled_held_and_flagged_referrals(settings) -> None:
    from panel.demo_affiliates import seed_demo_affiliates

    settings.PANEL_BANK_BIN, settings.PANEL_BANK_ACCOUNT = "970436", "0011001800879"
    settings.PANEL_TRANSFER_PREFIX, settings.PANEL_VND_RATE = "NAP", "25000"
    for name in ("demo", "linh", "minh", "trang", "hoa"):
        UserFactory(username=name)
    assert seed_demo_affiliates(affiliate="demo") == 4
    assert seed_demo_affiliates(affiliate="demo") == 0
    demo = User.objects.get(username="demo")
    assert demo.commission_balance > 0
    assert demo.affiliate.visits > Referral.objects.filter(referrer=demo).count()
    assert Commission.objects.filter(status=Commission.Status.PENDING).exists()
    assert Referral.objects.get(referred__username="hoa").review == Referral.Review.FLAGGED
