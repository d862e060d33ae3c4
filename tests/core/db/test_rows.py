"""Instances read with hand-written SQL (core/db/rows.py) are the ones a queryset returns."""

from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import User
from core.db.rows import column_count, from_row, select_list
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
