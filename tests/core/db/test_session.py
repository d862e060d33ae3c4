"""The connection's per-transaction settings (core.db.session)."""

from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.db.bulk import bulk_insert_values
from core.db.partitions import current_period
from core.db.session import deferred_checks_now, key_checks_planned_once
from orders.models import Order, OrderEvent
from tests.support import unused_pk


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


# Its own transactions: inside a test's, `atomic` is a savepoint and SET LOCAL outlives it.
@pytest.mark.django_db(transaction=True)
def test_generic_plans_for_key_checks_last_only_for_the_transaction() -> None:
    # given the connection as it opens
    before = _plan_cache_mode()

    # when a transaction asks for generic plans, then it has them until it ends
    with transaction.atomic():
        key_checks_planned_once()
        assert _plan_cache_mode() == "force_generic_plan"

    # then the connection's next transaction plans as before
    assert _plan_cache_mode() == before == "auto"


def _event_of_a_missing_order() -> None:
    row = {"order_id": unused_pk(Order), "field": "status", "old_value": "Pending"}
    row |= {"new_value": "Completed", "message": "", "actor": "poller"}
    bulk_insert_values(
        OrderEvent, [row], same={"created_at": timezone.now(), "period": current_period()}
    )


def _failing_step(*steps: tuple[str, Callable[[], None]]) -> str:
    """The name of the step of one transaction that raised the broken key ("commit" when the
    commit did, "none" when nothing did)."""
    reached = ["commit"]
    try:
        with transaction.atomic():
            for name, run in steps:
                reached.append(name)
                run()
            reached.append("commit")
    except IntegrityError:
        return reached[-1]
    return "none"


@pytest.mark.django_db(transaction=True)
def test_deferred_checks_run_when_asked_and_later_ones_at_their_statement() -> None:
    # given: a key is checked at the commit
    assert _failing_step(("write", _event_of_a_missing_order)) == "commit"
    # when the checks are asked for after the write, then they find it there
    assert (
        _failing_step(("write", _event_of_a_missing_order), ("checks", deferred_checks_now))
        == "checks"
    )
    # and a statement after it is checked at its own end
    assert (
        _failing_step(("checks", deferred_checks_now), ("write", _event_of_a_missing_order))
        == "write"
    )
    # and every transaction rolled back, the next one deferring its checks again
    assert not OrderEvent.objects.exists()
    assert _failing_step(("write", _event_of_a_missing_order)) == "commit"
