"""A customer orders a child panel himself and pays for it from his balance; renewal, suspension
after the grace period and resumption on payment."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, ChildPanel, ChildPanelCharge, ChildPanelState, User
from accounts.services import balance_credit, balance_debit
from core.errors import InsufficientFunds, InvalidRequest
from panel.child_panels.billing import child_panel_order, child_panel_renew, child_panels_bill
from panel.child_panels.services import child_panel_move
from tests.child_panels.conftest import CHILD_HOST

pytestmark = pytest.mark.django_db

FORM = {
    "domain": "https://Shop.Example.com/",
    "name": "My shop",
    "language": "vi",
    "admin_username": "boss",
    "admin_password": "a-long-password-1",
}


@pytest.fixture(autouse=True)
def _prices(settings: object) -> None:
    settings.PANEL_CHILD_PANEL_SETUP_PRICE = Decimal("20")  # type: ignore[attr-defined]
    settings.PANEL_CHILD_PANEL_MONTHLY_FEE = Decimal("10")  # type: ignore[attr-defined]
    settings.PANEL_CHILD_PANEL_GRACE_DAYS = 3  # type: ignore[attr-defined]


@pytest.fixture
def eligible(owner: User) -> User:
    User.objects.filter(pk=owner.pk).update(child_panels_allowed=True)
    owner.refresh_from_db()
    return owner


def _order(owner: User) -> ChildPanel:
    return child_panel_order(
        owner=owner,
        domain=CHILD_HOST,
        name="Shop",
        language="en",
        admin_username="boss",
        admin_password="a-long-password-1",
    )


def test_ordering_charges_setup_and_the_first_month_and_creates_the_owners_login(
    eligible: User,
) -> None:
    child = _order(eligible)

    eligible.refresh_from_db()
    assert eligible.balance == Decimal(70)
    assert sorted(
        BalanceTransaction.objects.filter(user=eligible, kind="child_panel").values_list(
            "amount", flat=True
        )
    ) == [Decimal(-20), Decimal(-10)]
    assert child.state == ChildPanelState.WAITING_DNS and child.paid_until is not None
    login = User.objects.get(child_panel=child)
    # his login is the panel's staff: it sees the fee notices on its pages
    assert (login.username, login.is_staff, login.currency) == ("boss", True, child.currency)


def test_only_eligible_customers_with_the_funds_may_order(owner: User) -> None:
    with pytest.raises(InvalidRequest):
        _order(owner)
    User.objects.filter(pk=owner.pk).update(child_panels_allowed=True)
    owner.refresh_from_db()
    balance_debit(user_id=owner.pk, amount=Decimal(75), memo="spent")
    with pytest.raises(InsufficientFunds):
        _order(owner)
    assert not ChildPanel.objects.exists()


def test_renewal_charges_once_per_period_then_suspends_after_grace_and_payment_resumes(
    eligible: User,
) -> None:
    child = _order(eligible)
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    due = child.paid_until

    assert child_panel_renew(child_panel_id=child.pk, now=due - timedelta(days=1)) == "not_due"
    assert child_panels_bill(now=due) == {"paid": 1}
    assert child_panels_bill(now=due) == {}  # run twice, charged once
    child.refresh_from_db()
    assert child.paid_until == due + timedelta(days=30)

    # the owner spends his balance; the next fee fails, then suspends past the grace period
    eligible.refresh_from_db()
    balance_debit(user_id=eligible.pk, amount=eligible.balance, memo="spent")
    later = child.paid_until
    assert child_panel_renew(child_panel_id=child.pk, now=later + timedelta(days=1)) == "unpaid"
    assert child_panel_renew(child_panel_id=child.pk, now=later + timedelta(days=3)) == "suspended"
    child.refresh_from_db()
    assert (child.state, child.suspended_reason) == (ChildPanelState.SUSPENDED, "unpaid")

    # a top-up and a payment open it again, its new month starting then
    balance_credit(user_id=eligible.pk, amount=Decimal(10), memo="top-up")
    paid_at = later + timedelta(days=9)
    assert child_panel_renew(child_panel_id=child.pk, now=paid_at) == "paid"
    child.refresh_from_db()
    assert child.state == ChildPanelState.ACTIVE and child.paid_until == paid_at + timedelta(
        days=30
    )
    assert ChildPanelCharge.objects.filter(child_panel=child, kind="month").count() == 3


def test_an_operators_suspension_runs_up_no_fee_and_a_payment_does_not_lift_it(
    eligible: User,
) -> None:
    child = _order(eligible)
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.SUSPENDED)

    assert child_panel_renew(child_panel_id=child.pk, now=child.paid_until) == "not_due"
    child.refresh_from_db()
    assert child.state == ChildPanelState.SUSPENDED


def test_the_page_orders_once_whatever_the_double_submit_and_shows_the_dns_record(
    eligible: User, settings: object
) -> None:
    settings.PANEL_CHILD_PANEL_TARGET = "panel.example.org"  # type: ignore[attr-defined]
    client = Client()
    client.force_login(eligible)
    page = client.get("/child-panels/")
    token = page.content.decode().split('name="form_token" value="')[1].split('"')[0]

    first = client.post("/child-panels/", {**FORM, "form_token": token})
    second = client.post("/child-panels/", {**FORM, "form_token": token})

    assert first.status_code == second.status_code == 302
    assert ChildPanel.objects.get().domain == "shop.example.com"
    eligible.refresh_from_db()
    assert eligible.balance == Decimal(70)
    listed = client.get("/child-panels/").content.decode()
    assert "panel.example.org" in listed and "shop.example.com" in listed


def test_the_page_is_a_child_panel_customers_404_and_offers_nothing_to_the_ineligible(
    owner: User,
) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get("/child-panels/")
    assert page.status_code == 200 and b"Order a child panel" not in page.content
    assert client.post("/child-panels/", {**FORM}).status_code == 200
    assert not ChildPanel.objects.exists()


def test_the_owner_adds_funds_to_his_panels_customer_only_once_per_form(eligible: User) -> None:
    child = _order(eligible)
    client = Client()
    client.force_login(eligible)
    page = client.get("/child-panels/").content.decode()
    token = (
        page.split(f'action="/child-panels/{child.pk}/credit/"')[1]
        .split('name="form_token" value="')[1]
        .split('"')[0]
    )
    sent = {"username": "BOSS", "amount": "12.50", "form_token": token}

    client.post(f"/child-panels/{child.pk}/credit/", sent)
    client.post(f"/child-panels/{child.pk}/credit/", sent)

    boss = User.objects.get(child_panel=child)
    assert boss.balance == Decimal("12.50")
    eligible.refresh_from_db()
    assert eligible.balance == Decimal(70)  # his own balance untouched


def test_an_owner_cannot_credit_another_owners_panel_or_a_parent_customer(
    eligible: User, customer: User
) -> None:
    from panel.child_panels.billing import child_panel_customer_credit

    child = _order(eligible)
    with pytest.raises(InvalidRequest):
        child_panel_customer_credit(
            owner=customer, child_panel_id=child.pk, username="boss", amount=Decimal(1)
        )
    with pytest.raises(InvalidRequest):
        child_panel_customer_credit(
            owner=eligible, child_panel_id=child.pk, username="alice", amount=Decimal(1)
        )


def test_a_child_panels_customers_hold_none_of_the_parents_ranks(eligible: User) -> None:
    from accounts.models import PricingTier
    from accounts.ranks import customer_percent_off
    from accounts.services import pricing_tiers_assign

    PricingTier.objects.create(name="VIP", threshold=Decimal(5), percent_off=Decimal(10))
    child = _order(eligible)
    boss = User.objects.get(child_panel=child)
    balance_credit(user_id=boss.pk, amount=Decimal(100), memo="paid the owner")

    pricing_tiers_assign()

    boss.refresh_from_db(), eligible.refresh_from_db()
    assert boss.pricing_tier is None and customer_percent_off(user=boss) == 0
    assert eligible.pricing_tier is not None


def test_the_page_states_the_fees_or_that_there_are_none(eligible: User, settings: object) -> None:
    client = Client()
    client.force_login(eligible)
    priced = client.get("/child-panels/").content.decode()
    assert "every 30 days" in priced and "Free: no setup fee" not in priced

    settings.PANEL_CHILD_PANEL_SETUP_PRICE = Decimal("0")  # type: ignore[attr-defined]
    settings.PANEL_CHILD_PANEL_MONTHLY_FEE = Decimal("0")  # type: ignore[attr-defined]
    free = client.get("/child-panels/").content.decode()
    assert "Free: no setup fee and no monthly fee." in free and "every 30 days" not in free
