from collections.abc import Callable
from decimal import Decimal

from orders.models import Order
from reconciliation.models import MismatchKind
from tests.reconciliation.conftest import Books, price_of


def _flags(day: object) -> set[tuple[str, int | None]]:
    return {(flag.kind, flag.order_id) for flag in day.mismatches.all()}  # type: ignore[attr-defined]


def test_a_day_without_faults_matches_to_the_cent(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    # given a day with orders ending Completed, Partial and Canceled
    books.open()
    completed, partial, canceled = sent_order(), sent_order(), sent_order()
    books.force(completed, "Completed")
    books.force(partial, "Partial", remains=250)
    books.force(canceled, "Canceled")
    books.poll()
    books.close()

    # when
    day = books.reconcile()

    # then
    assert _flags(day) == set()
    prices = [price_of(order) for order in (completed, partial, canceled)]
    assert day.orders_sent == 3
    assert day.charges_expected == sum(prices)
    assert day.refunds_expected == prices[1] / 4 + prices[2]
    assert (day.orders_checked, day.orders_unanswered) == (3, 0)
    assert day.orders_difference == 0
    assert day.balance_difference == 0
    assert day.balance_spent == day.spent_expected


def test_each_planted_fault_is_flagged_as_its_kind_and_the_balance_still_matches(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    books.open()
    overcharged, unrefunded, kept, clean = (sent_order() for _ in range(4))
    books.plant(overcharged, extra_charge="0.5")
    books.plant(unrefunded, skip_refund=True)
    books.plant(kept, refund="0.2")
    books.force(overcharged, "Completed")
    books.force(unrefunded, "Canceled")
    books.force(kept, "Completed")
    books.force(clean, "Completed")
    books.poll()
    books.close()

    day = books.reconcile()

    assert _flags(day) == {
        (MismatchKind.OVERCHARGED, overcharged.pk),
        (MismatchKind.REFUND_MISSING, unrefunded.pk),
        (MismatchKind.REFUND_KEPT, kept.pk),
    }
    flag = day.mismatches.get(order=overcharged)
    assert (flag.expected, flag.reported) == (price_of(overcharged), price_of(overcharged) + Decimal("0.5"))
    assert day.orders_difference == Decimal("0.5") + price_of(unrefunded) - Decimal("0.2")
    assert day.balance_difference == 0


def test_a_balance_move_no_order_explains_is_flagged(books: Books, sent_order: Callable[..., Order]) -> None:
    from tests.support import sandbox_control

    books.open()
    order = sent_order()
    books.force(order, "Completed")
    books.poll()
    sandbox_control(books.sandbox, "balance_adjust", amount="-3")
    books.close()

    day = books.reconcile()

    assert _flags(day) == {(MismatchKind.BALANCE, None)}
    flag = day.mismatches.get()
    assert flag.reported - flag.expected == Decimal(3)
    assert day.balance_difference == Decimal(3)
