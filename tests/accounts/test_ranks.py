"""Ranks: promotion right after the deposit that earns it (one email each), never an automatic
demotion, what a disabled or deleted rank does, the child-panel unlock, and the rank card."""

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import PricingTier, User
from accounts.ranks import can_order_child_panels, customer_percent_off, rank_card
from accounts.services import _ranks_move, balance_credit, balance_debit
from notifications.delivery import notifications_deliver
from notifications.models import Kind, Notification
from notifications.services import preferences_update, ranks_assign
from payments.services import deposit_create_manual
from tests.factories import UserFactory

Basis = PricingTier.Basis


@pytest.fixture
def ladder(db: None) -> dict[str, PricingTier]:
    """The demo's ranks, in VND."""
    steps = [
        ("Member", "Thành viên", 0, 0, False),
        ("Collaborator", "CTV", 1_000_000, 3, False),
        ("Agency", "Đại lý", 5_000_000, 6, True),
        ("VIP", "VIP", 20_000_000, 10, True),
    ]
    return {
        name: PricingTier.objects.create(
            name=name,
            name_vi=name_vi,
            threshold=Decimal(threshold),
            percent_off=Decimal(percent),
            unlocks_child_panels=unlocks,
        )
        for name, name_vi, threshold, percent, unlocks in steps
    }


def _promotions(user: User) -> list[str]:
    return list(
        Notification.objects.filter(kind=Kind.RANK_PROMOTED, user=user)
        .order_by("id")
        .values_list("payload__name", flat=True)
    )


def _rank_of(user: User) -> str | None:
    rank = User.objects.get(pk=user.pk).pricing_tier
    return rank.name if rank else None


def test_a_deposit_promotes_in_its_own_transaction_with_one_email(
    ladder: dict[str, PricingTier], staff: User
) -> None:
    # given
    user = UserFactory()
    # when
    deposit_create_manual(user_id=user.pk, amount=Decimal(1_200_000), memo="cash", admin=staff)
    # then: no pass needed
    assert _rank_of(user) == "Collaborator"
    assert _promotions(user) == ["Collaborator"]
    deposit_create_manual(user_id=user.pk, amount=Decimal(4_000_000), memo="cash", admin=staff)
    assert _rank_of(user) == "Agency"
    assert _promotions(user) == ["Collaborator", "Agency"]


def test_a_promotion_is_emailed_once_however_often_assignment_runs(
    ladder: dict[str, PricingTier],
) -> None:
    user = UserFactory(funds=Decimal(5_000_000))

    first = ranks_assign()
    assert ranks_assign() == [] and ranks_assign(user_ids=[user.pk]) == []

    assert [move.rank.name for move in first if move.rank] == ["Agency"]
    assert _promotions(user) == ["Agency"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_promote_and_email_once() -> None:
    # given
    PricingTier.objects.create(name="CTV", threshold=Decimal(100), percent_off=Decimal(3))
    users = [UserFactory(funds=Decimal(150)) for _ in range(20)]
    barrier = threading.Barrier(4)
    moved: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            moved.append(len(ranks_assign()))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: every user moved by exactly one of the passes, and emailed once
    assert sum(moved) == 20
    assert Notification.objects.filter(kind=Kind.RANK_PROMOTED).count() == 20
    assert {_rank_of(user) for user in users} == {"CTV"}


def test_the_starting_rank_is_given_without_an_email(ladder: dict[str, PricingTier]) -> None:
    user = UserFactory()

    moves = ranks_assign()

    assert _rank_of(user) == "Member"
    assert [move.is_promotion for move in moves] == [False]
    assert _promotions(user) == []


def test_a_raised_threshold_never_demotes(ladder: dict[str, PricingTier]) -> None:
    # given
    user = UserFactory(funds=Decimal(1_500_000))
    ranks_assign()
    assert _rank_of(user) == "Collaborator"
    # when
    PricingTier.objects.filter(name="Collaborator").update(threshold=Decimal(3_000_000))
    ranks_assign()
    # then: kept, at its discount
    assert _rank_of(user) == "Collaborator"
    assert customer_percent_off(user=User.objects.get(pk=user.pk)) == Decimal(3)
    newcomer = UserFactory(funds=Decimal(1_500_000))
    ranks_assign()
    assert _rank_of(newcomer) == "Member"  # the new threshold holds for those not there yet


def test_spend_that_falls_with_a_refund_never_demotes(db: None) -> None:
    spender = PricingTier.objects.create(
        name="Spender", basis=Basis.SPEND, threshold=Decimal(60), percent_off=Decimal(5)
    )

    user = UserFactory(funds=Decimal(100))
    balance_debit(user_id=user.pk, amount=Decimal(70), memo="charge")
    ranks_assign()
    assert _rank_of(user) == "Spender"

    balance_credit(user_id=user.pk, amount=Decimal(20), kind="refund", memo="refund")
    ranks_assign()

    assert User.objects.get(pk=user.pk).pricing_tier == spender


def test_a_disabled_or_deleted_rank_moves_its_holders_to_what_they_reach_without_an_email(
    ladder: dict[str, PricingTier],
) -> None:
    # given
    user = UserFactory(funds=Decimal(6_000_000))
    ranks_assign()
    assert _rank_of(user) == "Agency"
    # when: disabled
    PricingTier.objects.filter(name="Agency").update(is_active=False)
    moves = ranks_assign()
    # then
    assert _rank_of(user) == "Collaborator"
    assert [move.is_promotion for move in moves] == [False]
    assert customer_percent_off(user=User.objects.get(pk=user.pk)) == Decimal(3)
    # when: the rank held is deleted
    ladder["Collaborator"].delete()
    ranks_assign()
    # then
    assert _rank_of(user) == "Member"
    assert _promotions(user) == ["Agency"]


def test_a_pass_that_read_an_old_rank_leaves_a_newer_promotion_alone(
    ladder: dict[str, PricingTier],
) -> None:

    user = UserFactory()
    User.objects.filter(pk=user.pk).update(pricing_tier=ladder["Agency"])

    # A pass that read "no rank" and wants Member: the deposit's promotion came first.
    assert _ranks_move({(None, ladder["Member"].pk): [user.pk]}) == {
        (None, ladder["Member"].pk): []
    }
    assert _rank_of(user) == "Agency"


def test_child_panels_come_with_a_rank_that_unlocks_them_or_an_admins_grant(
    ladder: dict[str, PricingTier],
) -> None:
    user = UserFactory(funds=Decimal(1_000_000))
    ranks_assign()
    assert not can_order_child_panels(user=User.objects.get(pk=user.pk))

    User.objects.filter(pk=user.pk).update(child_panels_allowed=True)
    assert can_order_child_panels(user=User.objects.get(pk=user.pk))

    agency = UserFactory(funds=Decimal(5_000_000))
    ranks_assign()
    assert can_order_child_panels(user=User.objects.get(pk=agency.pk))
    PricingTier.objects.filter(name="Agency").update(is_active=False)
    assert not can_order_child_panels(user=User.objects.get(pk=agency.pk))


def test_the_rank_card_shows_the_way_to_the_next_rank(ladder: dict[str, PricingTier]) -> None:
    user = UserFactory(funds=Decimal(1_200_000))
    ranks_assign()

    card = rank_card(user=User.objects.get(pk=user.pk))

    assert card is not None and card.rank == ladder["Collaborator"]
    assert card.next_rank == ladder["Agency"]
    assert (card.reached, card.remaining, card.progress_percent) == (
        Decimal(1_200_000),
        Decimal(3_800_000),
        24,
    )
    assert not card.is_top and not card.child_panels


def test_the_top_rank_has_no_next_and_a_panel_without_ranks_no_card(
    ladder: dict[str, PricingTier],
) -> None:
    user = UserFactory(funds=Decimal(25_000_000))
    ranks_assign()

    card = rank_card(user=User.objects.get(pk=user.pk))
    assert card is not None and card.is_top and card.next_rank is None and card.child_panels

    PricingTier.objects.all().delete()
    assert rank_card(user=User.objects.get(pk=user.pk)) is None


def test_a_new_customer_is_shown_the_rank_their_totals_reach_before_any_pass(
    ladder: dict[str, PricingTier],
) -> None:
    card = rank_card(user=UserFactory())

    assert card is not None and card.rank == ladder["Member"]
    assert (card.reached, card.next_rank) == (Decimal(0), ladder["Collaborator"])


def test_the_promotion_email_names_the_rank_in_the_customers_language(
    ladder: dict[str, PricingTier],
) -> None:
    vi = UserFactory(language="vi", funds=Decimal(5_000_000))
    en = UserFactory(language="en", funds=Decimal(5_000_000))
    off = UserFactory(funds=Decimal(5_000_000))
    preferences_update(user=off, email_kinds=[])
    ranks_assign()
    # The operator renames the rank before the email goes: the reader still gets its names.
    PricingTier.objects.filter(name="Agency").update(name="Agency (renamed)")

    notifications_deliver()

    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {vi.email, en.email}
    assert "Đại lý" in by_address[vi.email].subject
    assert "6%" in by_address[vi.email].body
    assert "Agency" in by_address[en.email].subject
    assert "child panels" in by_address[en.email].body


def test_saving_or_deleting_a_rank_in_the_admin_moves_customers_at_once(
    admin_client: Client, customer: User
) -> None:
    # given: alice deposited 100
    admin_client.post(
        reverse("admin:accounts_pricingtier_add"),
        {
            "name": "Collaborator",
            "name_vi": "CTV",
            "basis": "deposits",
            "threshold": "50",
            "percent_off": "3",
            "is_active": "on",
        },
    )
    rank = PricingTier.objects.get(name="Collaborator")
    assert _rank_of(customer) == "Collaborator"
    assert _promotions(customer) == ["Collaborator"]
    # when
    admin_client.post(reverse("admin:accounts_pricingtier_delete", args=[rank.pk]), {"post": "yes"})
    # then
    assert _rank_of(customer) is None


@pytest.mark.django_db(transaction=True)
def test_deposits_racing_a_pass_end_at_the_rank_reached_with_one_email_each() -> None:
    # given: ten customers at 150, a rank at 100 and one at 300
    PricingTier.objects.create(name="CTV", threshold=Decimal(100), percent_off=Decimal(3))
    PricingTier.objects.create(name="Agency", threshold=Decimal(300), percent_off=Decimal(6))
    admin = UserFactory(is_staff=True)
    users = [UserFactory(funds=Decimal(150)) for _ in range(10)]
    barrier = threading.Barrier(3)

    def deposits(chunk: list[User]) -> None:
        try:
            barrier.wait()
            for user in chunk:
                deposit_create_manual(
                    user_id=user.pk, amount=Decimal(200), memo="cash", admin=admin
                )
        finally:
            connection.close()

    def passes() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                ranks_assign()
        finally:
            connection.close()

    # when
    threads = [
        threading.Thread(target=deposits, args=(users[:5],)),
        threading.Thread(target=deposits, args=(users[5:],)),
        threading.Thread(target=passes),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ranks_assign()
    # then: nobody left below what they reached, and one email per rank reached
    assert {_rank_of(user) for user in users} == {"Agency"}
    for user in users:
        names = _promotions(user)
        assert names[-1] == "Agency" and len(names) == len(set(names))


@pytest.mark.parametrize(
    ("percent", "english", "vietnamese"),
    [
        ("10.00", "Agency (10% off)", "Đại lý (giảm 10%)"),
        ("2.50", "Agency (2.5% off)", "Đại lý (giảm 2,5%)"),
    ],
)
def test_a_ranks_title_writes_its_percent_as_the_readers_language_does(
    db: None, percent: str, english: str, vietnamese: str
) -> None:
    rank = PricingTier.objects.create(
        name="Agency", name_vi="Đại lý", threshold=Decimal(0), percent_off=Decimal(percent)
    )
    rank.refresh_from_db()  # as the column gives it back: two decimals

    with translation.override("en"):
        assert str(rank) == english
    with translation.override("vi"):
        assert str(rank) == vietnamese


def test_the_admins_list_of_ranks_writes_percents_without_padding(admin_client: Client) -> None:
    PricingTier.objects.create(
        name="Agency",
        threshold=Decimal(0),
        percent_off=Decimal("2.50"),
        affiliate_percent=Decimal("12.00"),
    )

    page = admin_client.get(reverse("admin:accounts_pricingtier_changelist")).content.decode()

    assert ">2.5%<" in page
    assert ">12%<" in page
    assert "2.50" not in page
