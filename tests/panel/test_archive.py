"""Old months archived (docs/scaling.md, "Archiving"): written to files, dropped, every balance
still equal to its ledger, and an archived order's page and API answer saying so."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from accounts.models import LedgerArchivedTotal, User
from accounts.selectors import ledger_mismatches
from accounts.services import api_key_create, balance_credit
from core.db.partitions import current_period, next_period
from core.db.partitions import periods as period_registry
from orders.lifecycle.events import Actor, event_record
from orders.models import Order, OrderEvent, OrderStatus, Refill, RefillStatus, Source
from orders.services import order_place
from panel.archive import MonthNotArchivable, month_archive
from providers.models import Provider, Service, ServiceType
from support.models import Ticket
from tests.partitions import first_order_id


@pytest.fixture(autouse=True)
def _fresh_period_cache() -> Iterator[None]:
    period_registry._cache.clear()
    yield
    period_registry._cache.clear()


def _exists(relation: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [relation])
        return bool(cursor.fetchone()[0])


@pytest.fixture
def month(catalog: Provider, customer: User) -> tuple[int, list[Order]]:
    """Two finished orders in a month's partition (the one made two months ahead), with an
    event, a refund, a finished refill and a ticket that names one of them."""
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    template = order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/x", "quantity": str(service.min)},
        source=Source.API,
    )
    period = next_period(current_period(), 2)
    skip = {"link_key", "client_ref", "upstream_id", "status", "refunded"}
    fields = {
        field.attname: getattr(template, field.attname)
        for field in Order._meta.concrete_fields
        if not field.primary_key and field.attname not in skip
    }
    orders = [
        Order.objects.create(
            **fields, id=first_order_id(period) + 700_000, status=OrderStatus.COMPLETED
        ),
        Order.objects.create(
            **fields,
            id=first_order_id(period) + 700_001,
            status=OrderStatus.PARTIAL,
            refunded=template.charge,
        ),
    ]
    for order in orders:
        event_record(order, field="note", actor=Actor.ADMIN)
    balance_credit(
        user_id=customer.pk, amount=template.charge, kind="refund", order_id=orders[1].pk
    )
    Refill.objects.create(
        order=orders[0], user=customer, provider=catalog, status=RefillStatus.COMPLETED
    )
    Ticket.objects.create(user=customer, subject="where is it").orders.add(orders[0])
    return period, orders


@pytest.mark.django_db
def test_an_archived_month_is_written_out_and_dropped_and_every_balance_still_adds_up(
    month: tuple[int, list[Order]], customer: User, tmp_path: Path
) -> None:
    period, orders = month

    archived = month_archive(period=period, directory=tmp_path)

    assert archived.orders == 2
    written = {path.name for path in (tmp_path / str(period)).iterdir()}
    assert {"orders_order.csv.gz", "orders_orderevent.csv.gz", "orders_refill.csv.gz"} <= written
    assert not Order.objects.filter(pk__in=[order.pk for order in orders]).exists()
    assert not OrderEvent.objects.filter(order_id__in=[order.pk for order in orders]).exists()
    assert not _exists(f"orders_order_p{period}")
    assert LedgerArchivedTotal.objects.get(user=customer, kind="refund").amount > Decimal(0)
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_an_archived_orders_page_and_api_answer_say_so(
    month: tuple[int, list[Order]], customer: User, client: Client, tmp_path: Path
) -> None:
    period, orders = month
    month_archive(period=period, directory=tmp_path)
    client.force_login(customer)

    page = client.get(f"/orders/{orders[0].pk}/", HTTP_ACCEPT_LANGUAGE="en")
    answer = client.post(
        "/api/v2",
        {"key": api_key_create(user=customer), "action": "status", "order": orders[0].pk},
    )

    assert page.status_code == 410
    assert "archived month" in page.content.decode()
    assert answer.json() == {"error": "Incorrect order ID"}


@pytest.mark.django_db
def test_a_month_with_an_order_not_final_is_not_archived(
    month: tuple[int, list[Order]], tmp_path: Path
) -> None:
    period, orders = month
    Order.objects.filter(pk=orders[0].pk).update(status=OrderStatus.IN_PROGRESS)

    with pytest.raises(MonthNotArchivable, match="not final"):
        month_archive(period=period, directory=tmp_path)
    assert Order.objects.filter(pk=orders[0].pk).exists()
    assert _exists(f"orders_order_p{period}")


@pytest.mark.django_db
def test_the_command_asks_before_it_drops_a_month(
    month: tuple[int, list[Order]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    period, orders = month
    command = "panel.management.commands.archive_months"
    monkeypatch.setattr(f"{command}.months_archivable", lambda: [period])
    monkeypatch.setattr("builtins.input", lambda prompt: "n")

    with pytest.raises(CommandError, match="Nothing archived"):
        call_command("archive_months", directory=str(tmp_path))
    assert Order.objects.filter(pk__in=[order.pk for order in orders]).count() == 2

    call_command("archive_months", directory=str(tmp_path), yes=True)
    assert not Order.objects.filter(pk__in=[order.pk for order in orders]).exists()
