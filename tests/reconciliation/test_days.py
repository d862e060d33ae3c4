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
    assert (flag.expected, flag.reported) == (
        price_of(overcharged),
        price_of(overcharged) + Decimal("0.5"),
    )
    assert day.orders_difference == Decimal("0.5") + price_of(unrefunded) - Decimal("0.2")
    assert day.balance_difference == 0


def test_a_balance_move_no_order_explains_is_flagged(
    books: Books, sent_order: Callable[..., Order]
) -> None:
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


def test_a_difference_within_the_tolerance_is_not_flagged(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    books.open()
    order = sent_order()
    # Under 1 % of the order's price (PANEL_RECONCILE_ORDER_TOLERANCE_PERCENT), but counted.
    small = (price_of(order) / 200).quantize(Decimal("0.0001"))
    books.plant(order, extra_charge=str(small))
    books.force(order, "Completed")
    books.poll()
    books.close()

    day = books.reconcile()

    assert _flags(day) == set()
    assert day.orders_difference == small
    assert day.balance_difference == 0


def test_an_order_sent_while_the_closing_balance_was_read_is_tolerated_as_more(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    from reconciliation.models import BalanceSnapshot

    # given an order sent while the closing read was under way: the provider's balance holds
    # it, the panel counts it tomorrow (its sent_at is after the read was asked for)
    books.open()
    order = sent_order()
    closing = books.close()
    BalanceSnapshot.objects.filter(pk=closing.pk).update(
        requested_at=order.sent_at - __import__("datetime").timedelta(microseconds=1)
    )

    day = books.reconcile()

    assert day.orders_sent == 0
    assert day.balance_difference == price_of(order)
    assert day.slack_more == price_of(order)
    assert _flags(day) == set()


def test_an_add_with_an_unknown_outcome_is_tolerated_as_more(
    books: Books, place: Callable[..., Order]
) -> None:
    from django.utils import timezone

    from orders.models import DispatchState
    from orders.services import order_forward

    # given an add the provider took but whose answer never came back
    books.open()
    order = place(quantity=1000)
    assert order_forward(order_id=order.pk) == "sent"
    Order.objects.filter(pk=order.pk).update(
        upstream_id=None,
        dispatch_state=DispatchState.NEEDS_REVIEW,
        review_reason="add_unknown",
        sending_started_at=timezone.now(),
    )
    order.refresh_from_db()
    books.close()

    day = books.reconcile()

    assert day.orders_sent == 0
    assert day.balance_difference == price_of(order) == day.slack_more
    assert _flags(day) == set()


def test_a_rerun_updates_its_flags_and_settles_those_the_provider_put_right(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    from reconciliation.models import MismatchStatus

    books.open()
    order = sent_order()
    books.plant(order, extra_charge="0.5")
    books.force(order, "Completed")
    books.poll()
    books.close()
    first = books.reconcile()
    assert _flags(first) == {(MismatchKind.OVERCHARGED, order.pk)}

    # when the provider gives the overcharge back (after the day closed) and the day is
    # reconciled again
    books.plant(order, refund="0.5")
    again = books.reconcile()

    # then the order's flag settles itself; the day's balance still holds the 0.5 the provider
    # took that day, which no order explains any more (it comes back in tomorrow's balance)
    assert again.pk == first.pk
    flag = again.mismatches.get(order=order)
    assert flag.status == MismatchStatus.RECOVERED
    assert flag.history[-1]["auto"] is True
    assert _flags(again) == {(MismatchKind.OVERCHARGED, order.pk), (MismatchKind.BALANCE, None)}
    assert again.balance_difference == Decimal("0.5")


def test_orders_the_provider_does_not_answer_for_are_counted_not_flagged(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    books.open()
    order = sent_order()
    books.force(order, "Completed")
    books.poll()
    books.close()
    Order.objects.filter(pk=order.pk).update(upstream_id="999999999")

    day = books.reconcile()

    assert (day.orders_checked, day.orders_unanswered) == (0, 1)
    assert _flags(day) == set()


def test_without_snapshots_the_orders_are_still_checked_over_the_calendar_day(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    order = sent_order()
    books.plant(order, extra_charge="0.5")
    books.force(order, "Completed")
    books.poll()

    day = books.reconcile()

    assert not day.has_balance_check
    assert _flags(day) == {(MismatchKind.OVERCHARGED, order.pk)}


def test_a_provider_that_does_not_answer_leaves_the_day_as_it_was(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    from io import StringIO

    import pytest
    from django.core.management import CommandError, call_command

    from providers.models import Provider
    from reconciliation.models import ProviderDay
    from reconciliation.services import ProviderUnreachable

    books.open()
    order = sent_order()
    books.force(order, "Completed")
    books.poll()
    books.close()
    before = books.reconcile()
    # when the provider is down (nothing listens on the discard port)
    Provider.objects.filter(pk=books.provider.pk).update(api_url="http://127.0.0.1:9/api/v2")
    books.provider.refresh_from_db()

    with pytest.raises(ProviderUnreachable):
        books.reconcile()
    err = StringIO()
    with pytest.raises(CommandError, match="not checked: Sandbox"):
        call_command(
            "reconcile_providers", date=books.day.isoformat(), stdout=StringIO(), stderr=err
        )

    after = ProviderDay.objects.get()
    assert (after.reconciled_at, after.orders_checked) == (before.reconciled_at, 1)
    assert _flags(after) == set()
