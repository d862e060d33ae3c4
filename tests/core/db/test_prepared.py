"""Statements prepared once per connection (core/db/prepared.py): the reads of every API
request and the ledger's move are parsed and planned once, then only bound and run."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import BalanceTransaction, User
from accounts.services import api_key_authenticate, balance_debit
from core.db.prepared import _numbered
from core.errors import InsufficientFunds
from orders.services import order_place
from providers.models import Provider, Service, ServiceType
from providers.selectors import service_for_order


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [statement for (statement,) in cursor.fetchall()]


def _a_service() -> Service:
    return Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk")[0]


def _reads(key: str, user: User, service: Service) -> None:
    assert api_key_authenticate(key=key) == user
    found = service_for_order(service_id=service.pk, user_id=user.pk, child_panel_id=None)
    assert found is not None and found.service == service


def test_the_reads_of_an_add_are_prepared_once_and_reused(
    catalog: Provider, reseller: User, reseller_key: str
) -> None:
    service = _a_service()

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            _reads(reseller_key, reseller, service)

    prepared = _prepared()
    assert len([s for s in prepared if '"accounts_apikey"' in s]) == 1
    assert len([s for s in prepared if '"providers_service"' in s]) == 1
    # still seen (and logged as written) by whoever watches the queries
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT u.")]
    assert len(reads) == 3 and all("%s" in sql for sql in reads)


def test_the_reads_survive_a_rollback_that_forgets_every_prepared_statement(
    catalog: Provider, reseller: User, reseller_key: str
) -> None:
    service = _a_service()
    _reads(reseller_key, reseller, service)

    # given: a rolled-back savepoint, after which psycopg deallocates what it prepared
    def read_then_fail() -> None:
        with transaction.atomic():
            _reads(reseller_key, reseller, service)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        read_then_fail()

    # when / then: the same reads prepare again and answer the same
    _reads(reseller_key, reseller, service)
    assert len([s for s in _prepared() if '"providers_service"' in s]) == 1


def test_the_ledger_move_is_prepared_and_a_refusal_changes_nothing(customer: User) -> None:
    balance = customer.balance
    balance_debit(user_id=customer.pk, amount=Decimal(4), kind=BalanceTransaction.Kind.CHARGE)

    with pytest.raises(InsufficientFunds):
        balance_debit(user_id=customer.pk, amount=balance, kind=BalanceTransaction.Kind.CHARGE)
    balance_debit(user_id=customer.pk, amount=balance - 4, kind=BalanceTransaction.Kind.CHARGE)

    customer.refresh_from_db()
    assert customer.balance == Decimal(0)
    charges = BalanceTransaction.objects.filter(user=customer, kind=BalanceTransaction.Kind.CHARGE)
    assert [t.balance_after for t in charges.order_by("pk")] == [balance - 4, 0]
    assert any('"accounts_balancetransaction"' in s for s in _prepared())


def test_switched_off_every_statement_goes_as_text(
    catalog: Provider, reseller: User, reseller_key: str, settings: Any
) -> None:
    settings.PANEL_DB_PREPARED_STATEMENTS = False
    service = _a_service()
    connection.ensure_connection()
    connection.connection._prepared.clear()  # this test's connection may carry earlier ones
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")

    _reads(reseller_key, reseller, service)

    assert _prepared() == []


def test_switched_off_an_order_with_its_charge_goes_as_text(
    catalog: Provider, reseller: User, settings: Any
) -> None:
    settings.PANEL_DB_PREPARED_STATEMENTS = False
    service = _a_service()

    order = order_place(
        user=reseller, service_id=service.pk, fields={"link": "@t", "quantity": str(service.min)}
    )

    charge = BalanceTransaction.objects.get(order_id=order.pk)
    assert (charge.amount, charge.memo_params["id"]) == (-order.charge, order.pk)
    assert User.objects.get(pk=reseller.pk).balance == Decimal(100) - order.charge


def test_placeholders_are_numbered_once_per_text_and_only_plain_ones_are_taken() -> None:
    assert _numbered("SELECT %s, 7 %% 2, %s") == "SELECT $1, 7 % 2, $2"
    # psycopg would find the placeholders of a statement of over 50 parameters on every run
    many = "SELECT " + ", ".join(["%s"] * 60)
    hits = _numbered.cache_info().hits
    assert (
        _numbered(many) == _numbered(many) == "SELECT " + ", ".join(f"${n}" for n in range(1, 61))
    )
    assert _numbered.cache_info().hits == hits + 1
    with pytest.raises(ValueError, match="%\\("):
        _numbered("SELECT %(name)s")
