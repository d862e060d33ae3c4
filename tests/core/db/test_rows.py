"""Instances read with hand-written SQL (core/db/rows.py) are the ones a queryset returns, and
the values written by hand the ones save() writes."""

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.db.models import Model

from accounts.models import BalanceTransaction, User
from core.db.rows import column_count, from_row, insert_parts, select_list
from orders.models import Order, OrderEvent, OrderStatus
from providers.models import Provider, Service
from tests.factories import UserFactory


def _read(model: type, pk: int) -> object:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select_list(model, 't')} FROM {model._meta.db_table} t WHERE t.id = %s",  # noqa: S608 - names from the models
            [pk],
        )
        return from_row(model, cursor.fetchone())


@pytest.mark.parametrize("model", [Service, Provider, User])
def test_from_row_builds_the_instance_a_queryset_builds(model: type, catalog: Provider) -> None:
    UserFactory(funds=Decimal("12.345678"))
    expected = model.objects.order_by("pk").first()

    instance = _read(model, expected.pk)

    assert type(instance) is model and not instance._state.adding
    assert {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in model._meta.concrete_fields
    }
    assert column_count(model) == len(model._meta.concrete_fields)


def _parameter(value: object) -> tuple[str, object]:
    # A JSON parameter is a wrapper without equality: compared by what it wraps.
    return type(value).__name__, getattr(value, "obj", value)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Order, {}),
        (Order, {"status": OrderStatus.COMPLETED, "dispatch_attempts": 3, "refunded": 1}),
        (OrderEvent, {"field": "status", "old_value": "", "period": 202612}),
        (
            BalanceTransaction,
            {"amount": Decimal("-1.5"), "kind": "charge", "memo": "", "period": 202612},
        ),
    ],
)
def test_insert_parts_are_the_values_save_would_insert(model: type[Model], values: dict) -> None:
    # given: an unsaved instance, its defaults kept or replaced
    instance = model(**values)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]

    # when
    with time_machine.travel("2026-12-06 12:00:00+00:00", tick=False):
        columns, parameters = insert_parts(instance)
        expected = [
            field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
        ]

    # then
    assert columns == ", ".join(f'"{field.column}"' for field in fields)
    assert [_parameter(value) for value in parameters] == [_parameter(value) for value in expected]
