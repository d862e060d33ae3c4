"""The affiliates' admin: the flagged queue's review, the change of referrer and the payout
queue, each through its service and refused to staff without the permission."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from affiliates.models import Payout, Referral, ReferralFlag
from affiliates.services import (
    affiliate_ensure,
    affiliate_settle,
    commission_move_to_balance,
    payout_request,
    referral_record_signup,
)
from payments.models import Gateway
from tests.affiliates.helpers import credited_deposit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral() -> Referral:
    referrer = UserFactory(username="teacher")
    referred = UserFactory(username="student")
    code = affiliate_ensure(user_id=referrer.pk).code
    referral_record_signup(user=referred, code=code, address="", user_agent="")
    return Referral.objects.get(referred=referred)


@pytest.fixture
def admin_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_review_shows_evidence_and_refuses_with_a_reason(
    referral: Referral, admin_client: Client
) -> None:
    credited_deposit(referral.referrer, Decimal("10"), payer_name="NGUYEN VAN A")
    credited_deposit(referral.referred, Decimal("10"), payer_name="NGUYEN VAN A")
    affiliate_settle()
    assert ReferralFlag.objects.filter(referral=referral).exists()
    url = f"/admin/affiliates/referral/{referral.pk}/review/"
    page = admin_client.get(url).content.decode()
    assert "NGUYEN VAN A paid deposit" in page and "Same bank account holder name" in page
    assert admin_client.post(url, {"decision": "refuse", "reason": ""}).status_code == 200
    response = admin_client.post(url, {"decision": "refuse", "reason": "one person"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.review, referral.review_reason) == ("refused", "one person")


def test_change_referrer_needs_a_known_user_and_a_reason(
    referral: Referral, admin_client: Client
) -> None:
    other = UserFactory(username="coach")
    url = f"/admin/affiliates/referral/{referral.pk}/referrer/"
    assert admin_client.post(url, {"referrer": "nobody", "reason": "x"}).status_code == 200
    assert admin_client.post(url, {"referrer": "coach", "reason": ""}).status_code == 200
    assert admin_client.post(url, {"referrer": "COACH", "reason": "typo"}).status_code == 302
    assert Referral.objects.get(referred=referral.referred).referrer == other


def test_payout_queue_marks_paid(referral: Referral, admin_client: Client, settings) -> None:
    settings.PANEL_AFFILIATE_MIN_PAYOUT = Decimal("1")
    credited_deposit(referral.referred, Decimal("100"), gateway=Gateway.CRYPTOMUS)
    affiliate_settle()
    payout = payout_request(user=referral.referrer, amount=Decimal("5"), details="VCB 1")
    assert "Decide" in admin_client.get("/admin/affiliates/payout/").content.decode()
    url = f"/admin/affiliates/payout/{payout.pk}/decide/"
    assert admin_client.post(url, {"decision": "paid", "reason": ""}).status_code == 302
    assert Payout.objects.get().status == Payout.Status.PAID


def test_affiliate_list_shows_figures(referral: Referral, admin_client: Client) -> None:
    # given one bank deposit still held and one crypto deposit settled, 2 of it moved out
    credited_deposit(referral.referred, Decimal("100"))
    credited_deposit(referral.referred, Decimal("60"), gateway=Gateway.CRYPTOMUS)
    affiliate_settle()
    commission_move_to_balance(user=referral.referrer, amount=Decimal("2"))
    # when
    response = admin_client.get("/admin/affiliates/affiliate/")
    # then the page's figures, as money is written (not "5.000000")
    row = response.context["cl"].result_list[0]
    assert (row.signups, row.paying, row.deposits) == (1, 1, Decimal("160"))
    assert (row.pending, row.paid_out - row.moved) == (Decimal("5"), Decimal("2"))
    page = response.content.decode()
    assert "teacher" in page and "160.00" in page and "5.000000" not in page


@pytest.mark.parametrize(
    "path",
    ["referral/{referral}/review/", "referral/{referral}/referrer/", "payout/{payout}/decide/"],
)
def test_staff_without_the_permission_get_403(referral: Referral, path: str) -> None:
    payout = Payout.objects.create(affiliate=referral.referrer, amount=Decimal("1"), details="x")
    clerk = User.objects.create_user(username="clerk", password="x", is_staff=True)
    client = Client()
    client.force_login(clerk)
    url = "/admin/affiliates/" + path.format(referral=referral.pk, payout=payout.pk)
    assert client.get(url).status_code == 403
