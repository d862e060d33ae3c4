"""Old months archived (docs/scaling.md, "Archiving"): written to files, dropped, every balance
still equal to its ledger, its product orders and refills accounted for, a retried client_ref
answered with the archived order, and an archived order's page answering its owner only."""

import csv
import gzip
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone, translation

from accounts.models import BalanceTransaction, LedgerArchivedTotal, User
from accounts.ranks import Basis, ledger_totals
from accounts.selectors import ledger_mismatches
from accounts.services import api_key_create, balance_credit
from core.db.partitions import current_period, next_period, partitions_prepare
from core.db.partitions import periods as period_registry
from orders.lifecycle.events import Actor, event_record
from orders.models import (
    ArchivedOrder,
    Order,
    OrderClientRef,
    OrderEvent,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    RefillStatus,
    Source,
)
from orders.services import order_place, product_order_place
from panel.archive import MonthNotArchivable, month_archive
from payments.models import Deposit
from payments.services import deposit_assign, deposit_reject
from providers.models import Provider, Service, ServiceType
from support.models import Ticket
from tests.factories import ProductFactory, UserFactory
from tests.partitions import first_order_id, month_start
from tests.payments.test_closing_expired import aged_deposit

pytestmark = pytest.mark.usefixtures("fresh_period_registry")


def _exists(relation: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [relation])
        return bool(cursor.fetchone()[0])


def _mark_month(model: type[ProductOrder | Refill | Deposit], period: int) -> None:
    """The rows of `model` made from now on belong to `period`, as beat marks at its start."""
    partitions_prepare(
        by_id=[], by_period=[], anchors=[model._meta.db_table], now=month_start(period)
    )
    period_registry._cache.clear()


def _written(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as rows:
        return list(csv.DictReader(rows))


@pytest.fixture
def template(catalog: Provider, customer: User) -> Order:
    """An order of this month whose fields the orders of other months copy."""
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    return order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/x", "quantity": str(service.min)},
        source=Source.API,
    )


def _copy(template: Order, **values: object) -> Order:
    skip = {"link_key", "client_ref", "upstream_id", "status", "refunded", *values}
    fields = {
        field.attname: getattr(template, field.attname)
        for field in Order._meta.concrete_fields
        if not field.primary_key and field.attname not in skip
    }
    return Order.objects.create(**fields, **values)


@pytest.fixture
def month(template: Order, catalog: Provider, customer: User) -> tuple[int, list[Order]]:
    """Two finished orders in next month's partition, one placed with a client_ref, with an
    event, a refund, a finished refill and a ticket that names one of them."""
    period = next_period(current_period())
    first = first_order_id(period)
    orders = [
        _copy(template, id=first + 700_000, status=OrderStatus.COMPLETED, client_ref="ref-1"),
        _copy(
            template,
            id=first + 700_001,
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
    month: tuple[int, list[Order]], template: Order, customer: User, tmp_path: Path
) -> None:
    period, orders = month

    archived = month_archive(period=period, directory=tmp_path)

    assert archived.orders == 2
    written = {path.name for path in (tmp_path / str(period)).iterdir()}
    assert {"orders_order.csv.gz", "orders_orderevent.csv.gz", "orders_refill.csv.gz"} <= written
    assert not Order.objects.filter(pk__in=[order.pk for order in orders]).exists()
    assert not OrderEvent.objects.filter(order_id__in=[order.pk for order in orders]).exists()
    assert not _exists(f"orders_order_p{period}")
    assert LedgerArchivedTotal.objects.get(user=customer, kind="refund").amount == template.charge
    assert set(ArchivedOrder.objects.values_list("order_id", "user_id", "period")) == {
        (order.pk, customer.pk, period) for order in orders
    }
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_the_totals_add_up_the_rows_dropped_month_after_month_and_no_row_of_default(
    month: tuple[int, list[Order]], template: Order, customer: User, tmp_path: Path
) -> None:
    # given a refund of the same user and kind in the DEFAULT partition (a month no partition
    # covers), and a canceled order with its refund in the month after the fixture's
    period, _orders = month
    far = next_period(current_period(), 40)
    with time_machine.travel(month_start(far), tick=False):
        stray = balance_credit(
            user_id=customer.pk, amount=Decimal("0.25"), kind="refund", memo="late"
        )
    later = next_period(period)
    canceled = _copy(
        template,
        id=first_order_id(later) + 700_000,
        status=OrderStatus.CANCELED,
        refunded=template.charge,
    )
    balance_credit(user_id=customer.pk, amount=template.charge, kind="refund", order_id=canceled.pk)

    month_archive(period=period, directory=tmp_path)
    month_archive(period=later, directory=tmp_path)

    # then each month's refund is added once, and the DEFAULT row is neither counted nor dropped
    total = LedgerArchivedTotal.objects.get(user=customer, kind="refund").amount
    assert total == template.charge + template.charge
    assert BalanceTransaction.objects.filter(pk=stray.pk, period=far).exists()
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_a_refill_of_a_later_month_has_its_events_written_before_it_goes(
    month: tuple[int, list[Order]], catalog: Provider, customer: User, tmp_path: Path
) -> None:
    # given a refill of the month's order asked for the month after, with its own event
    period, orders = month
    later = next_period(period)
    _mark_month(Refill, later)
    refill = Refill.objects.create(
        order=orders[0], user=customer, provider=catalog, status=RefillStatus.REJECTED
    )
    event = event_record(refill, field="note", actor=Actor.ADMIN)
    assert event.period == later

    month_archive(period=period, directory=tmp_path)

    # then the refill and its event are gone from the database, and the event is in the files
    assert not Refill.objects.filter(pk=refill.pk).exists()
    assert not OrderEvent.objects.filter(pk=event.pk).exists()
    rows = _written(tmp_path / str(period) / "orders_orderevent_of_refills.csv.gz")
    assert [(row["id"], row["refill_id"], row["period"]) for row in rows] == [
        (str(event.pk), str(refill.pk), str(later))
    ]


@pytest.mark.django_db
def test_a_months_product_orders_are_final_and_refunded_before_it_goes_and_are_kept(
    month: tuple[int, list[Order]], template: Order, customer: User, tmp_path: Path
) -> None:
    # given a product order of the month, still moving
    period, _orders = month
    _mark_month(ProductOrder, period)
    product = ProductFactory(rate=Decimal("2.5"))
    product_order = product_order_place(
        user=customer, product_id=product.pk, quantity="2", require="me@x.com"
    )
    charge = product_order.charge
    assert charge == Decimal("5")

    with pytest.raises(MonthNotArchivable, match="a product order is not final"):
        month_archive(period=period, directory=tmp_path)
    # when it ends canceled, its refund not yet written
    ProductOrder.objects.filter(pk=product_order.pk).update(status=ProductOrderStatus.CANCELED)
    with pytest.raises(MonthNotArchivable, match="a product order's refund is not written"):
        month_archive(period=period, directory=tmp_path)
    # and once it is
    balance_credit(
        user_id=customer.pk, amount=charge, kind="refund", product_order_id=product_order.pk
    )
    ProductOrder.objects.filter(pk=product_order.pk).update(refunded=charge)

    month_archive(period=period, directory=tmp_path)

    # then its ledger rows are in the totals, its row stays and is in the files too
    totals = dict(LedgerArchivedTotal.objects.filter(user=customer).values_list("kind", "amount"))
    assert totals == {"charge": -charge, "refund": template.charge + charge}
    assert ProductOrder.objects.filter(pk=product_order.pk).exists()
    rows = _written(tmp_path / str(period) / "orders_productorder.csv.gz")
    assert [row["id"] for row in rows] == [str(product_order.pk)]
    assert ledger_mismatches() == []


@pytest.mark.django_db
@pytest.mark.parametrize("subject", ["deposit_id", "refill_id", "product_order_id"])
def test_a_credit_of_an_archived_month_cannot_be_written_again(
    month: tuple[int, list[Order]],
    template: Order,
    catalog: Provider,
    customer: User,
    tmp_path: Path,
    subject: str,
) -> None:
    # given a deposit, a refill (of this month's order) and a product order of the month,
    # each credited once
    period, _orders = month
    for model in (Deposit, Refill, ProductOrder):
        _mark_month(model, period)
    deposit = Deposit.objects.create(
        user=customer,
        gateway="manual",
        amount=Decimal("3"),
        currency="USD",
        rate=Decimal("1"),
        status=Deposit.Status.CREDITED,
        credited_amount=Decimal("3"),
        credited_at=timezone.now(),
    )
    refill = Refill.objects.create(
        order=template,
        user=customer,
        provider=catalog,
        status=RefillStatus.REJECTED,
        refunded=Decimal("0.5"),
    )
    product_order = product_order_place(
        user=customer, product_id=ProductFactory().pk, quantity="1", require="me@x.com"
    )
    ProductOrder.objects.filter(pk=product_order.pk).update(
        status=ProductOrderStatus.CANCELED, refunded=product_order.charge
    )
    credits = {
        "deposit_id": ("deposit", deposit.pk, Decimal("3")),
        "refill_id": ("refund", refill.pk, Decimal("0.5")),
        "product_order_id": ("refund", product_order.pk, product_order.charge),
    }
    for column, (kind, subject_id, amount) in credits.items():
        balance_credit(user_id=customer.pk, amount=amount, kind=kind, **{column: subject_id})
    progress = ledger_totals(user_ids=[customer.pk], bases={Basis.DEPOSITS, Basis.SPEND})
    month_archive(period=period, directory=tmp_path)
    # rank progress counts the archived month as before
    assert ledger_totals(user_ids=[customer.pk], bases={Basis.DEPOSITS, Basis.SPEND}) == progress
    customer.refresh_from_db()
    balance = customer.balance

    # when one of them is credited again
    kind, subject_id, amount = credits[subject]
    with pytest.raises(IntegrityError), transaction.atomic():
        balance_credit(user_id=customer.pk, amount=amount, kind=kind, **{subject: subject_id})

    # then nothing moved, as before the month went
    customer.refresh_from_db()
    assert customer.balance == balance
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_a_month_waits_for_its_deposits_and_closes_the_abandoned_ones_as_it_goes(
    month: tuple[int, list[Order]], customer: User, staff: User, tmp_path: Path
) -> None:
    # given deposits of the month: a Stripe payment abandoned (its "expired" webhook lost), one
    # started yesterday, and a Cryptomus payment in review
    period, _orders = month
    _mark_month(Deposit, period)
    day = timedelta(days=1)
    abandoned = aged_deposit(customer, "stripe", Deposit.Status.PENDING, age=40 * day)
    started = aged_deposit(customer, "stripe", Deposit.Status.PENDING, age=day)
    review = aged_deposit(
        customer,
        "cryptomus",
        Deposit.Status.REVIEW,
        age=39 * day,
        received_amount=Decimal("24"),
        received_currency="USD",
    )
    review.refresh_from_db()

    # when it is archived, then it is refused, naming the deposits that may still be credited
    with pytest.raises(MonthNotArchivable) as refused:
        month_archive(period=period, directory=tmp_path)
    day_made = timezone.localtime(review.created_at)
    assert str(refused.value) == (
        f"{period}: 2 deposits not credited or rejected yet, the oldest "
        f"#{review.pk} of {day_made:%Y-%m-%d} ({Deposit.Status.REVIEW.label})"
    )
    # and the refusal keeps its values, put into the reader's words as it is shown
    with translation.override("vi"):
        assert str(refused.value) == (
            f"{period}: còn 2 khoản nạp tiền chưa cộng tiền hoặc chưa từ chối, cũ nhất là "
            f"#{review.pk} ngày {day_made:%d/%m/%Y} ({Deposit.Status.REVIEW.label})"
        )
    # and the month is as it was: the abandoned deposit too
    assert Deposit.objects.get(pk=abandoned.pk).status == Deposit.Status.PENDING
    assert _exists(f"accounts_balancetransaction_p{period}")

    # when an admin decides both and it is archived again
    deposit_assign(deposit_id=review.pk, user_id=customer.pk, admin=staff)
    deposit_reject(deposit_id=started.pk, admin=staff, reason="never paid")
    archived = month_archive(period=period, directory=tmp_path)

    # then the abandoned one went as never paid, the credit with the month's ledger
    assert archived.deposits_closed == 1
    assert Deposit.objects.get(pk=abandoned.pk).status == Deposit.Status.REJECTED
    totals = LedgerArchivedTotal.objects.filter(user=customer, kind="deposit")
    assert list(totals.values_list("amount", flat=True)) == [Decimal("24")]
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_a_month_with_an_order_spilled_into_the_default_partition_is_not_archived(
    template: Order, tmp_path: Path
) -> None:
    # given an order of the newest month whose id ran past its range
    newest = next_period(current_period(), 2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT end_id FROM panel_period_start WHERE table_name = 'orders_order' "
            "AND period = %s",
            [newest],
        )
        past_range = cursor.fetchone()[0]
    _copy(template, id=past_range + 5, status=OrderStatus.COMPLETED)

    with pytest.raises(MonthNotArchivable, match="DEFAULT partition"):
        month_archive(period=newest, directory=tmp_path)
    assert _exists(f"orders_order_p{newest}")


@pytest.mark.django_db
def test_a_retried_client_ref_of_an_archived_order_answers_that_order_and_charges_nothing(
    month: tuple[int, list[Order]], customer: User, client: Client, tmp_path: Path
) -> None:
    # given the month of an order placed with client_ref "ref-1" archived
    period, orders = month
    month_archive(period=period, directory=tmp_path)
    customer.refresh_from_db()
    balance, order_count = customer.balance, Order.objects.count()
    service = Service.objects.get(pk=orders[0].service_id)

    # when the reseller sends that `add` again
    answer = client.post(
        "/api/v2",
        {
            "key": api_key_create(user=customer),
            "action": "add",
            "service": service.pk,
            "link": "https://instagram.com/p/x",
            "quantity": service.min,
            "client_ref": "ref-1",
        },
    )

    # then it answers the archived order, and nothing is placed or charged
    assert answer.json() == {"order": orders[0].pk}
    customer.refresh_from_db()
    assert (customer.balance, Order.objects.count()) == (balance, order_count)
    assert ledger_mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_two_retries_of_an_archived_client_ref_racing_both_answer_it_and_charge_nothing(
    template: Order, customer: User
) -> None:
    # given an order's keys as archiving leaves them: its client_ref and owner kept, its row gone
    period = next_period(current_period())
    archived_id = first_order_id(period) + 700_000
    OrderClientRef.objects.create(order_id=archived_id, user_id=customer.pk, client_ref="ref-9")
    ArchivedOrder.objects.create(order_id=archived_id, user=customer, period=period)
    customer.refresh_from_db()
    balance = customer.balance
    barrier = threading.Barrier(2)

    def retry(_: int) -> int:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                return order_place(
                    user=customer,
                    service_id=template.service_id,
                    fields={
                        "link": "https://instagram.com/p/y",
                        "quantity": str(template.quantity),
                    },
                    client_ref="ref-9",
                    source=Source.API,
                ).pk
        finally:
            connection.close()

    # when the reseller's two retries of that `add` arrive at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(retry, range(2)))

    # then both answer the archived order, and nothing is placed or charged
    assert answers == [archived_id, archived_id]
    customer.refresh_from_db()
    assert customer.balance == balance
    assert list(Order.objects.filter(user=customer)) == [template]


@pytest.mark.django_db
def test_an_archived_orders_page_and_api_answer_say_so_to_its_owner(
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
def test_an_archived_orders_page_is_not_found_for_another_customer_and_archived_for_staff(
    month: tuple[int, list[Order]], staff: User, client: Client, tmp_path: Path
) -> None:
    period, orders = month
    month_archive(period=period, directory=tmp_path)
    stranger = UserFactory(username="mallory")

    client.force_login(stranger)
    assert client.get(f"/orders/{orders[0].pk}/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/orders/{orders[0].pk}/").status_code == 410


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
def test_the_command_speaks_the_operators_language(
    month: tuple[int, list[Order]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a month with an order still running, and a panel in Vietnamese
    period, orders = month
    Order.objects.filter(pk=orders[0].pk).update(status=OrderStatus.IN_PROGRESS)
    monkeypatch.setattr(
        "panel.management.commands.archive_months.months_archivable", lambda: [period]
    )
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")

    with translation.override("vi"):
        # then the question, the answer and the refusal are in Vietnamese
        with pytest.raises(CommandError, match="^Không lưu trữ tháng nào.$"):
            call_command("archive_months", directory=str(tmp_path))
        with pytest.raises(CommandError) as refused:
            call_command("archive_months", directory=str(tmp_path), yes=True)

    assert asked == [f"Lưu trữ {period} ra tệp và xóa khỏi cơ sở dữ liệu? [y/N] "]
    assert str(refused.value) == f"{period}: còn đơn hàng chưa kết thúc"


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


@pytest.mark.django_db
def test_the_command_says_how_many_abandoned_deposits_it_rejected(
    month: tuple[int, list[Order]],
    customer: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    period, _orders = month
    _mark_month(Deposit, period)
    aged_deposit(customer, "cryptomus", Deposit.Status.PENDING, age=timedelta(days=8))
    out = io.StringIO()

    monkeypatch.setattr(
        "panel.management.commands.archive_months.months_archivable", lambda: [period]
    )
    call_command("archive_months", directory=str(tmp_path), yes=True, stdout=out)

    assert out.getvalue() == (
        f"{period}: 2 orders -> {tmp_path / str(period)}, 1 abandoned pending deposit rejected\n"
    )
