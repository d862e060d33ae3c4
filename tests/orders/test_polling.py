from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    PollLease,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    RefillStatus,
)
from orders.services import (
    cancel_forward,
    order_cancel,
    order_forward,
    product_order_forward,
    product_order_place,
    refill_forward,
    refill_request,
)
from orders.services.polling import (
    CLAIMED_FIELDS,
    MISS_LIMIT,
    ORDERS,
    PRODUCT_ORDERS,
    REFILLS,
    _apply,
    _fetch,
    engine,
    poll,
    poll_delay,
)
from orders.services.polling.engine import _claim_due
from orders.services.polling.spec import PollSpec
from providers.models import Product, Provider
from providers.services import provider_client
from sandbox import SandboxConfig, SandboxServer
from tests.support import FakeClock, sandbox_control, sandbox_stats


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox_config(clock: FakeClock) -> SandboxConfig:
    return SandboxConfig(
        key="sandbox-key",
        services=40,
        products=6,
        seed=7,
        clock=clock,
        partial_rate=0,
        cancel_rate=0,
    )


def _make_due() -> None:
    for model in (Order, Refill, ProductOrder):
        model.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))


def _force(sandbox: SandboxServer, order: Order, status: str, **extra: object) -> None:
    sandbox_control(sandbox, "force", order=int(order.upstream_id), status=status, **extra)


def _refunds(order: Order) -> list[Decimal]:
    return list(
        BalanceTransaction.objects.filter(order_id=order.pk, kind="refund").values_list(
            "amount", flat=True
        )
    )


def test_poll_moves_orders_and_refunds_exactly_what_was_not_delivered(
    sent: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    # given three sent orders of 1000 that end Completed, Partial (remains 100) and Canceled
    completed, partial, canceled = (sent(quantity=1000) for _ in range(3))
    _force(sandbox, completed, "Completed", start_count=50)
    _force(sandbox, partial, "Partial", remains=100)
    _force(sandbox, canceled, "Canceled")
    _make_due()

    # when
    counts = poll(ORDERS, Provider.objects.get())

    # then
    for order in (completed, partial, canceled):
        order.refresh_from_db()
    assert (counts.polled, counts.changed, counts.finalized) == (3, 3, 3)
    assert (completed.status, completed.remains, completed.start_count, completed.refunded) == (
        "Completed",
        0,
        50,
        0,
    )
    assert partial.status == "Partial" and _refunds(partial) == [partial.charge * 100 / 1000]
    assert canceled.status == "Canceled" and _refunds(canceled) == [canceled.charge]
    assert partial.refunded == partial.charge / 10 and canceled.refunded == canceled.charge
    assert partial.finished_at is not None and partial.next_poll_at > timezone.now()
    assert partial.events.filter(field="status", new_value="Partial", actor="poller").exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - completed.charge - partial.charge + partial.refunded


def test_upstream_charge_becomes_the_cost_in_panel_currency(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = sent(quantity=1000)
    Order.objects.filter(pk=order.pk).update(exchange_rate=Decimal("2"))
    _force(sandbox, order, "Partial", remains=500)
    _make_due()

    poll(ORDERS, Provider.objects.get())

    order.refresh_from_db()
    upstream_charge = order.upstream_rate * 500 / 1000
    assert order.cost == upstream_charge * 2
    assert order.profit == order.charge - order.refunded - order.cost


def test_orders_that_do_not_move_are_polled_less_often(
    sent: Callable[..., Order], clock: FakeClock
) -> None:
    order = sent()
    provider = Provider.objects.get()
    _make_due()
    poll(ORDERS, provider)  # the first answer fills in start_count: a change
    delays = []
    for _ in range(4):
        _make_due()
        before = timezone.now()
        poll(ORDERS, provider)
        order.refresh_from_db()
        delays.append(round((order.next_poll_at - before).total_seconds()))

    assert delays[0] == poll_delay(1).total_seconds()
    assert delays == sorted(delays) and delays[-1] > delays[0]
    assert order.poll_idle_count == 4


def test_progress_resets_the_backoff(sent: Callable[..., Order], clock: FakeClock) -> None:
    order = sent(quantity=1000)
    Order.objects.filter(pk=order.pk).update(poll_idle_count=5)
    clock.advance(5)  # past Pending: now In progress
    _make_due()

    poll(ORDERS, Provider.objects.get())

    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS and order.poll_idle_count == 0


def test_a_round_leaves_no_object_frozen_and_keeps_a_freeze_it_did_not_make(
    sent: Callable[..., Order], clock: FakeClock
) -> None:
    import gc

    sent(quantity=1000)
    clock.advance(5)
    _make_due()
    thresholds = gc.get_threshold()

    poll(ORDERS, Provider.objects.get())
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds  # the collector's own again

    gc.freeze()
    try:
        _make_due()
        poll(ORDERS, Provider.objects.get())
        assert gc.get_freeze_count() > 0  # not thawed by the round
    finally:
        gc.unfreeze()


def test_a_round_polls_each_row_due_at_its_start_once_however_short_the_interval(
    sent: Callable[..., Order],
    sandbox: SandboxServer,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given rows due again the moment they are written, and a round that claims a row a chunk
    # while it writes earlier ones (a round longer than the interval: its first rows come due
    # again before it ends)
    settings.PANEL_POLL_INTERVAL_SECONDS = 0  # type: ignore[attr-defined]
    monkeypatch.setattr(engine, "CHUNK_SIZE", 1)
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    orders = [sent() for _ in range(4)]
    _make_due()
    before = sandbox_stats(sandbox)["requests"].get("status", 0)

    # when
    counts = poll(ORDERS, Provider.objects.get(), max_seconds=5, concurrency=1, lanes=1)

    # then each was polled once by this round, and is due for the next one
    assert counts.polled == 4
    assert sandbox_stats(sandbox)["requests"]["status"] - before == 4
    ids = [order.pk for order in orders]
    assert all(o.next_poll_at <= timezone.now() for o in Order.objects.filter(pk__in=ids))


def test_batches_of_100_ids_per_status_call(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    orders = [place() for _ in range(250)]
    for order in orders:
        order_forward(order_id=order.pk)
    _make_due()
    before = sandbox_stats(sandbox)["requests"].get("status", 0)

    counts = poll(ORDERS, Provider.objects.get())

    assert counts.polled == 250 and counts.calls == 3
    assert sandbox_stats(sandbox)["requests"]["status"] - before == 3


def test_orders_the_provider_no_longer_knows_go_to_review(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = sent()
    Order.objects.filter(pk=order.pk).update(upstream_id="999999999")
    provider = Provider.objects.get()

    for _ in range(MISS_LIMIT):
        _make_due()
        poll(ORDERS, provider)

    order.refresh_from_db()
    assert (
        order.dispatch_state == DispatchState.NEEDS_REVIEW and order.poll_miss_count == MISS_LIMIT
    )
    assert "Incorrect order ID" in order.dispatch_error


def test_unreachable_provider_leaves_orders_untouched(sent: Callable[..., Order]) -> None:
    order = sent()
    Provider.objects.update(api_url="http://127.0.0.1:9/api/v2")
    _make_due()

    counts = poll(ORDERS, Provider.objects.get())

    order.refresh_from_db()
    assert (
        counts.unreachable == 1
        and order.status == OrderStatus.PENDING
        and order.next_poll_at > timezone.now()
    )
    assert Provider.objects.get().last_error


def test_replayed_answers_refund_once(sent: Callable[..., Order], sandbox: SandboxServer) -> None:
    order = sent(quantity=1000)
    _force(sandbox, order, "Partial", remains=300)
    provider = Provider.objects.get()
    rows = _claimed(order)
    answers = _fetch(ORDERS, provider_client(provider), rows)

    _apply(ORDERS, provider, rows, answers)
    _apply(ORDERS, provider, rows, answers)  # the same answer again, as a late duplicate task would

    assert _refunds(order) == [order.charge * Decimal("0.3")]


@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_refund_each_order_once() -> None:
    # given 30 sent orders that all ended Partial upstream, and four pollers racing over them
    from orders.services import order_place
    from providers.services import catalog_sync, provider_create
    from tests.factories import UserFactory

    with SandboxServer(
        SandboxConfig(
            services=40, seed=7, partial_rate=1, cancel_rate=0, pending_seconds=0, run_seconds=0
        ),
        port=0,
    ) as server:
        provider = provider_create(name="Sandbox", api_url=server.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
        service = provider.service_set.filter(type="Default").order_by("pk").first()
        user = UserFactory(funds=Decimal(1000))
        orders = [
            order_place(
                user=user,
                service_id=service.pk,
                fields={"link": f"@p{i}", "quantity": str(service.min)},
            )
            for i in range(30)
        ]
        for order in orders:
            order_forward(order_id=order.pk)
        _make_due()
        rows = list(Order.objects.values(*CLAIMED_FIELDS, *ORDERS.fields, **ORDERS.computed))
        answers = _fetch(ORDERS, provider_client(provider), rows)

        def race(kind: int) -> None:
            try:
                if kind % 2:
                    poll(ORDERS, provider)
                else:
                    _apply(ORDERS, provider, rows, answers)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(race, range(4)))

    refunds = BalanceTransaction.objects.filter(kind="refund")
    assert refunds.count() == 30 == refunds.values("order_id").distinct().count()
    assert Order.objects.filter(status="Partial").count() == 30


def test_refill_flows_to_the_provider_and_back(
    sent: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    order = sent(has_refill=True)
    _force(sandbox, order, "Completed")
    _make_due()
    poll(ORDERS, Provider.objects.get())

    refill = refill_request(user=customer, order_id=order.pk)
    assert refill_forward(refill_id=refill.pk) == "sent"
    refill.refresh_from_db()
    sandbox_control(sandbox, "force", refill=int(refill.upstream_id), status="Completed")
    _make_due()
    poll(REFILLS, Provider.objects.get())

    refill.refresh_from_db()
    assert refill.status == RefillStatus.COMPLETED and refill.upstream_id


def test_cancel_request_goes_upstream_and_the_refund_follows_the_status(
    sent: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    order = sent(has_cancel=True, quantity=1000)

    order_cancel(user=customer, order_id=order.pk)
    request = order.cancel_requests.get()
    assert cancel_forward(cancel_request_id=request.pk) == "sent"
    request.refresh_from_db()
    assert request.outcome == "accepted"

    poll(ORDERS, Provider.objects.get())  # the accepted cancel made the order due at once

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and _refunds(order) == [order.charge]


def test_cancel_refused_upstream_is_recorded(
    sent: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    order = sent(has_cancel=True)
    _force(sandbox, order, "Completed")  # upstream already finished it; the panel does not know yet

    order_cancel(user=customer, order_id=order.pk)
    request = order.cancel_requests.get()
    assert cancel_forward(cancel_request_id=request.pk) == "failed"

    request.refresh_from_db()
    assert request.outcome == "rejected" and "Cancel is not available" in request.dispatch_error


def test_product_orders_are_forwarded_and_polled_with_results(
    customer: User, catalog: Provider, sandbox: SandboxServer
) -> None:
    product = Product.objects.filter(is_in_stock=True, provider=catalog).order_by("pk").first()
    done = product_order_place(
        user=customer, product_id=product.pk, quantity=product.min, require="acct"
    )
    dropped = product_order_place(
        user=customer, product_id=product.pk, quantity=product.min, require="acct"
    )
    for order in (done, dropped):
        assert product_order_forward(product_order_id=order.pk) == "sent"
        order.refresh_from_db()
    sandbox_control(
        sandbox, "force", product_order=int(done.upstream_id), status="Completed", result="code-1"
    )
    sandbox_control(
        sandbox,
        "force",
        product_order=int(dropped.upstream_id),
        status="Canceled",
        note="Out of stock",
    )
    _make_due()

    poll(PRODUCT_ORDERS, catalog)

    done.refresh_from_db(), dropped.refresh_from_db()
    assert (done.status, done.result, done.refunded) == (ProductOrderStatus.COMPLETED, "code-1", 0)
    assert (dropped.status, dropped.note, dropped.refunded) == (
        ProductOrderStatus.CANCELED,
        "Out of stock",
        dropped.charge,
    )
    assert (
        BalanceTransaction.objects.get(product_order_id=dropped.pk, kind="refund").amount
        == dropped.charge
    )


def _claimed(order: Order) -> list[dict]:
    """`order`'s row as a claim reads it."""
    return list(
        Order.objects.filter(pk=order.pk).values(*CLAIMED_FIELDS, *ORDERS.fields, **ORDERS.computed)
    )


def _sent(queries: CaptureQueriesContext, setting: str) -> bool:
    return any(setting in query["sql"] for query in queries.captured_queries)


def _commits_without_waiting(queries: CaptureQueriesContext) -> bool:
    return _sent(queries, "synchronous_commit")


def test_a_chunk_that_moves_a_row_commits_durably_one_that_only_reschedules_may_not(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    # given a sent order, polled once while nothing moved upstream, then once it ended Partial
    order = sent(quantity=1000)
    provider = Provider.objects.get()
    rows = _claimed(order)
    _apply(ORDERS, provider, rows, _fetch(ORDERS, provider_client(provider), rows))
    rows = _claimed(order)

    # when nothing moves, then the write may skip waiting for the disk
    with CaptureQueriesContext(connection) as idle:
        _apply(ORDERS, provider, rows, _fetch(ORDERS, provider_client(provider), rows))
    assert _commits_without_waiting(idle)

    # when the order moves and is refunded, then the commit waits for the disk
    _force(sandbox, order, "Partial", remains=300)
    with CaptureQueriesContext(connection) as moved:
        _apply(ORDERS, provider, rows, _fetch(ORDERS, provider_client(provider), rows))
    assert not _commits_without_waiting(moved)
    assert _refunds(order) == [order.charge * Decimal("0.3")]


def _checks_on_generic_plans(queries: CaptureQueriesContext) -> bool:
    return _sent(queries, "plan_cache_mode")


def test_a_chunk_that_writes_events_checks_their_orders_on_generic_plans(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    # given a sent order that ended upstream
    order = sent(quantity=1000)
    provider = Provider.objects.get()
    _force(sandbox, order, "Completed", remains=0)
    rows = _claimed(order)

    # when its chunk is written
    with CaptureQueriesContext(connection) as moved:
        _apply(ORDERS, provider, rows, _fetch(ORDERS, provider_client(provider), rows))

    # then the events' key checks at the commit ran on generic plans, and the order moved
    # with its event as before
    assert _checks_on_generic_plans(moved)
    order.refresh_from_db()
    assert order.status == "Completed"
    assert order.events.filter(field="status", new_value="Completed").exists()


@pytest.mark.parametrize("spec", [ORDERS, REFILLS, PRODUCT_ORDERS])
def test_the_due_count_is_unordered(spec: PollSpec, sent: Callable[..., Order]) -> None:
    # given a sent order (the models list newest first by default)
    sent()
    provider = Provider.objects.get()

    # when a round counts what is due
    with CaptureQueriesContext(connection) as queries:
        engine._due_count(spec, provider.pk, timezone.now(), up_to=1001)

    # then the count asks for no order: one by id walked the primary keys of every partition
    # past the finished rows instead of the due-for-poll index
    (query,) = queries.captured_queries
    assert "ORDER BY" not in query["sql"]


def test_a_sweeps_claims_start_past_the_live_leases_and_from_the_start_once_they_end(
    sent: Callable[..., Order],
) -> None:
    # given five due orders at one provider, the same next poll time for all (ties by id)
    orders = [sent(quantity=1000) for _ in range(5)]
    provider = Provider.objects.get()
    _make_due()
    now = timezone.now()
    ids = sorted(order.pk for order in orders)

    # when a round claims two rows, a webhook's hint claims the last, and the round claims on
    first, first_lease = _claim_due(ORDERS, provider.pk, now, 2)
    hinted, _ = _claim_due(ORDERS, provider.pk, now, 2, upstream_ids=[orders[-1].upstream_id])
    second, second_lease = _claim_due(ORDERS, provider.pk, now, 2)

    # then each claim took the rows after the last the sweep's leases hold, in (time, id)
    # order; the hint moved nothing (its lease records no place), and no row was taken twice
    assert [row["id"] for row in first] == ids[:2]
    assert [row["id"] for row in hinted] == [orders[-1].pk]
    assert [row["id"] for row in second] == ids[2:4]
    lease = PollLease.objects.get(pk=second_lease)
    assert (lease.provider_id, lease.after_id) == (provider.pk, ids[3])
    assert lease.after_at == Order.objects.get(pk=ids[3]).next_poll_at
    assert PollLease.objects.filter(after_at__isnull=True).count() == 1

    # when the first chunk's lease ends without its rows written (its poll failed) and the
    # round's last lease ends too, then the next claim starts from the start again: nothing
    # is left behind
    PollLease.objects.filter(pk__in=[first_lease, second_lease]).delete()
    again, _ = _claim_due(ORDERS, provider.pk, now, 10)
    assert [row["id"] for row in again] == [*ids[:4]]
