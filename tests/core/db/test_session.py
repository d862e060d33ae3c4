"""The connection's per-transaction settings (core.db.session)."""

import pytest
from django.db import connection, transaction

from core.db.session import key_checks_planned_once


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
