"""Refills that keep their promise (docs/lifecycle.md, "Refills"): the service's rules, the same
on the web, the API and tickets; the escalation of a refill the provider rejects or does not
finish; every refill ends refilled or refunded, with the exact money, once."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import BalanceTransaction, User
from accounts.selectors import ledger_mismatches
from notifications.models import Notification
from orders.errors import RefillNotAvailable
from orders.lifecycle import Kind
from orders.models import DispatchState, Order, OrderStatus, Refill, RefillStatus, Source
from orders.refill_rules import Refusal, refill_history, refill_verdict
from orders.selectors import refill_success_rates
from orders.services import (
    Answer,
    order_forward,
    order_place,
    refill_forward,
    refill_request,
    refills_escalate_due,
    review_resolve,
)
from orders.services.polling import ORDERS, REFILLS, poll
from orders.services.refills_and_cancels import can_cancel
from providers.models import Provider, RefillEscalation, Service, ServiceType
from providers.services import catalog_sync, provider_create, route_add
from sandbox import SandboxConfig, SandboxServer
from tests.support import sandbox_control

D = DispatchState


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    # No random refill fates: each test says what the provider does.
    return SandboxConfig(key="sandbox-key", services=20, products=0, seed=7, refill_rejected_rate=0)


@pytest.fixture
def service(catalog: Provider) -> Service:
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT, has_refill=True)
        .order_by("pk")
        .first()
    )
    assert service is not None
    service.warranty_days = 30
    service.refill_cooldown_hours = 24
    service.refill_deadline_hours = 72
    service.save()
    return service


def _rule(service: Service, **values: object) -> None:
    Service.objects.filter(pk=service.pk).update(**values)


def _poll_order(order: Order, catalog: Provider, sandbox: SandboxServer, **force: object) -> None:
    sandbox_control(sandbox, "force", order=int(order.upstream_id), **force)
    Order.objects.filter(pk=order.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    poll(ORDERS, Provider.objects.get(pk=order.provider_id))
    order.refresh_from_db()


@pytest.fixture
def finished(
    service: Service, customer: User, catalog: Provider, sandbox: SandboxServer
) -> Callable[..., Order]:
    """A sent order of the refillable service, polled to Completed (or the given status)."""

    def make(status: str = "Completed", quantity: int | None = None, **force: object) -> Order:
        quantity = quantity or max(service.min, 1000)
        order = order_place(
            user=customer,
            service_id=service.pk,
            fields={
                "link": f"https://instagram.com/p/r{Order.objects.count() + 1}",
                "quantity": str(quantity),
            },
            source=Source.API,
        )
        assert order_forward(order_id=order.pk) == "sent"
        order.refresh_from_db()
        _poll_order(order, catalog, sandbox, status=status, **force)
        assert order.status == status
        return order

    return make


def _poll_refill(refill: Refill, sandbox: SandboxServer, status: str) -> Refill:
    refill.refresh_from_db()
    sandbox_control(sandbox, "force", refill=int(refill.upstream_id), status=status)
    Refill.objects.filter(pk=refill.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    poll(REFILLS, Provider.objects.get(pk=refill.provider_id))
    refill.refresh_from_db()
    return refill


def _refuse_refills(sandbox: SandboxServer, rate: float = 1) -> None:
    sandbox_control(sandbox, "config", refill_refuse_rate=rate)


def _refunds(refill: Refill) -> list[Decimal]:
    return list(
        BalanceTransaction.objects.filter(refill_id=refill.pk, kind="refund").values_list(
            "amount", flat=True
        )
    )


def _verdict(order: Order) -> Refusal | None:
    order = Order.objects.select_related("service").get(pk=order.pk)
    return refill_verdict(order=order, history=refill_history(order_id=order.pk)).refusal


# --- The rules ------------------------------------------------------------------------------


def test_one_refill_in_flight_then_the_cooldown_then_allowed(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> None:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)

    with pytest.raises(RefillNotAvailable) as running:
        refill_request(user=customer, order_id=order.pk)
    assert running.value.verdict.refusal is Refusal.IN_FLIGHT
    assert running.value.message == "Refill is not available for this order"

    assert refill_forward(refill_id=refill.pk) == "sent"
    assert _poll_refill(refill, sandbox, "Completed").status == RefillStatus.COMPLETED
    with pytest.raises(RefillNotAvailable) as cooling:
        refill_request(user=customer, order_id=order.pk)
    verdict = cooling.value.verdict
    assert verdict.refusal is Refusal.COOLDOWN
    assert verdict.possible_at == refill.created_at + timedelta(hours=24)
    assert "The next refill can be asked for from" in cooling.value.detail

    with time_machine.travel(refill.created_at + timedelta(hours=24, seconds=1)):
        assert refill_request(user=customer, order_id=order.pk).order_id == order.pk


def test_the_cap_per_order(
    finished: Callable[..., Order], customer: User, service: Service
) -> None:
    _rule(service, refill_max_per_order=1, refill_cooldown_hours=0)
    order = finished()
    first = refill_request(user=customer, order_id=order.pk)
    Refill.objects.filter(pk=first.pk).update(status=RefillStatus.COMPLETED)

    with pytest.raises(RefillNotAvailable) as capped:
        refill_request(user=customer, order_id=order.pk)

    assert capped.value.verdict.refusal is Refusal.CAP_REACHED
    assert str(capped.value.detail) == "This order has had its 1 refills."


def test_the_warranty_window_closes_days_after_the_order_finished(
    finished: Callable[..., Order], customer: User
) -> None:
    order = finished()
    ends = order.finished_at + timedelta(days=30)

    with time_machine.travel(ends - timedelta(minutes=1)):
        assert _verdict(order) is None
    with time_machine.travel(ends + timedelta(seconds=1)):
        with pytest.raises(RefillNotAvailable) as closed:
            refill_request(user=customer, order_id=order.pk)
    assert closed.value.verdict.refusal is Refusal.WINDOW_CLOSED
    assert closed.value.verdict.warranty_ends_at == ends
    assert not Refill.objects.exists()


def test_a_cooldown_that_outlasts_the_warranty_says_so(
    finished: Callable[..., Order], customer: User, service: Service
) -> None:
    _rule(service, warranty_days=1, refill_cooldown_hours=48)
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    Refill.objects.filter(pk=refill.pk).update(status=RefillStatus.COMPLETED)

    assert _verdict(order) is Refusal.COOLDOWN_PAST_WARRANTY


def test_an_order_still_running_or_a_service_without_refill_is_refused(
    finished: Callable[..., Order], customer: User, service: Service
) -> None:
    running = finished(status="In progress")
    assert _verdict(running) is Refusal.NOT_FINISHED
    done = finished()
    _rule(service, has_refill=False)
    assert _verdict(done) is Refusal.NO_REFILL


def test_a_refills_replacement_order_is_neither_refilled_nor_cancelled_by_the_customer(
    finished: Callable[..., Order],
) -> None:
    """The panel's own order of a refill's missing part: a cancel would refund the refill in cash,
    a refill would restart its warranty and cap (the customer refills the original instead)."""
    order = finished()
    Order.objects.filter(pk=order.pk).update(source=Source.REFILL)
    order = Order.objects.select_related("service").get(pk=order.pk)

    assert _verdict(order) == Refusal.NO_REFILL
    assert not can_cancel(order=order)


def test_the_api_answers_every_refusal_with_the_protocols_string(
    finished: Callable[..., Order], customer: User, client: Client
) -> None:
    from accounts.services import api_key_create

    key = api_key_create(user=customer)
    order = finished()

    first = client.post("/api/v2", {"key": key, "action": "refill", "order": order.pk})
    again = client.post("/api/v2", {"key": key, "action": "refill", "order": order.pk})
    batch = client.post("/api/v2", {"key": key, "action": "refill", "orders": str(order.pk)})

    assert json.loads(first.content) == {"refill": str(Refill.objects.get().pk)}
    assert json.loads(again.content) == {"error": "Refill is not available for this order"}
    assert json.loads(batch.content) == [
        {"order": order.pk, "refill": {"error": "Refill is not available for this order"}}
    ]


def test_the_order_page_shows_why_not_when_and_the_warranty_end(
    finished: Callable[..., Order], customer: User, client: Client
) -> None:
    order = finished()
    refill_request(user=customer, order_id=order.pk)
    client.force_login(customer)

    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    listing = client.get(reverse("order_list")).content.decode()
    pressed = client.post(reverse("order_refill", args=[order.pk]), follow=True)

    ends = timezone.localtime(order.finished_at + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    assert "30-day warranty" in page and f"until {ends}" in page
    assert "A refill of this order is still running." in page
    assert "A refill of this order is still running." in listing
    assert "Asked from the provider, due by" in page
    assert f"Order #{order.pk}: A refill of this order is still running." in (
        pressed.content.decode()
    )


def test_the_services_page_shows_the_warranty_in_vietnamese(
    service: Service, client: Client
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with translation.override("en"):  # the request's language stays with the request
        page = client.get(reverse("services")).content.decode()

    assert "Bảo hành 30 ngày" in page


def test_the_catalog_sync_keeps_the_operators_refill_rules(
    catalog: Provider, service: Service
) -> None:
    _rule(
        service,
        refill_max_per_order=3,
        refill_escalation=RefillEscalation.REORDER,
        refill_deadline_hours=12,
    )

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert (service.warranty_days, service.refill_max_per_order) == (30, 3)
    assert (service.refill_escalation, service.refill_deadline_hours) == ("reorder", 12)
    assert service.has_refill


# --- Escalation: every refill ends refilled or refunded, with the exact money -----------------


def test_refund_rule_a_refill_the_provider_refuses_is_refunded_once(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> None:
    order = finished()
    balance = User.objects.get(pk=customer.pk).balance
    refill = refill_request(user=customer, order_id=order.pk)
    _refuse_refills(sandbox)

    assert refill_forward(refill_id=refill.pk) == "failed"

    refill.refresh_from_db()
    # missing = the delivered quantity; charge × missing / quantity = the whole charge
    assert refill.missing_quantity == order.total_quantity
    assert (refill.status, refill.dispatch_state) == (RefillStatus.REJECTED, D.FAILED)
    assert (refill.escalation, refill.escalation_cause) == ("refund", "rejected")
    assert refill.refunded == order.charge
    assert _refunds(refill) == [order.charge]
    assert User.objects.get(pk=customer.pk).balance == balance + order.charge
    assert refills_escalate_due() == {}  # nothing left to do, nothing paid twice
    assert _refunds(refill) == [order.charge] and not ledger_mismatches()
    assert _verdict(order) is Refusal.REFUNDED
    email = Notification.objects.get(key=f"refill-final:{refill.pk}")
    assert email.payload["status"] == "Rejected"
    assert Decimal(email.payload["refund"]) == order.charge


def test_refund_of_a_partial_order_pays_back_only_what_it_still_holds(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> None:
    order = finished(status="Partial", quantity=1000, remains=400)
    assert order.refunded == (order.charge * 400 / 1000).quantize(Decimal("0.000001"))
    refill = refill_request(user=customer, order_id=order.pk)
    _refuse_refills(sandbox)

    refill_forward(refill_id=refill.pk)

    refill.refresh_from_db()
    assert refill.missing_quantity == 600
    assert refill.refunded == order.charge - order.refunded
    assert not ledger_mismatches()


def test_a_refill_the_provider_rejects_later_escalates_from_polling(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> None:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    refill_forward(refill_id=refill.pk)

    refill = _poll_refill(refill, sandbox, "Rejected")

    # Not final yet: it left polling and is due for its service's rule now.
    assert (refill.status, refill.dispatch_state) == (RefillStatus.PENDING, D.FAILED)
    assert refill.escalation_cause == "rejected" and refill.deadline_at <= timezone.now()
    assert refills_escalate_due() == {"refunded": 1}
    refill.refresh_from_db()
    assert (refill.status, refill.refunded) == (RefillStatus.REJECTED, order.charge)


def test_a_refill_not_done_by_its_deadline_escalates(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> None:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    refill_forward(refill_id=refill.pk)
    refill = _poll_refill(refill, sandbox, "In progress")

    assert refills_escalate_due() == {}
    with time_machine.travel(refill.deadline_at + timedelta(seconds=1)):
        assert refills_escalate_due() == {"refunded": 1}

    refill.refresh_from_db()
    assert (refill.status, refill.dispatch_state) == (RefillStatus.REJECTED, D.SENT)
    assert (refill.escalation_cause, refill.refunded) == ("deadline", order.charge)


def test_a_refill_the_provider_never_took_is_refunded_at_its_deadline(
    finished: Callable[..., Order], customer: User
) -> None:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)  # still queued

    with time_machine.travel(refill.deadline_at + timedelta(seconds=1)):
        assert refills_escalate_due() == {"refunded": 1}

    refill.refresh_from_db()
    assert (refill.status, refill.dispatch_state) == (RefillStatus.REJECTED, D.FAILED)
    assert refill.refunded == order.charge


def test_ask_again_rule_asks_once_and_the_second_ask_refills_it(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer, service: Service
) -> None:
    _rule(service, refill_escalation=RefillEscalation.ASK_AGAIN)
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    _refuse_refills(sandbox)

    assert refill_forward(refill_id=refill.pk) == "failed"
    refill.refresh_from_db()
    assert (refill.status, refill.dispatch_state) == (RefillStatus.PENDING, D.QUEUED)
    assert (refill.escalation, refill.upstream_id) == ("ask_again", None)

    _refuse_refills(sandbox, 0)
    assert refill_forward(refill_id=refill.pk) == "sent"
    refill = _poll_refill(refill, sandbox, "Completed")

    assert (refill.status, refill.refunded) == (RefillStatus.COMPLETED, Decimal(0))
    assert not _refunds(refill)


def test_ask_again_rule_refunds_when_the_second_ask_fails_too(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer, service: Service
) -> None:
    _rule(service, refill_escalation=RefillEscalation.ASK_AGAIN)
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    _refuse_refills(sandbox)

    refill_forward(refill_id=refill.pk)
    refill_forward(refill_id=refill.pk)

    refill.refresh_from_db()
    assert (refill.status, refill.escalation) == (RefillStatus.REJECTED, "refund")
    assert refill.refunded == order.charge and _refunds(refill) == [order.charge]


def test_an_admins_cancel_of_a_refill_in_review_refunds_it(
    finished: Callable[..., Order], customer: User, staff: User
) -> None:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    Refill.objects.filter(pk=refill.pk).update(
        dispatch_state=D.NEEDS_REVIEW, review_reason="add_unknown"
    )

    review_resolve(kind=Kind.REFILL, pk=refill.pk, resolution="cancel_refund", admin=staff)

    refill.refresh_from_db()
    assert (refill.status, refill.refunded) == (RefillStatus.REJECTED, order.charge)
    assert _refunds(refill) == [order.charge]


# --- Reorder at another route ------------------------------------------------------------------


@pytest.fixture
def backup_sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(key="backup-key", services=20, products=0, seed=7)
    with SandboxServer(config, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def backup(db: None, backup_sandbox: SandboxServer, service: Service) -> Provider:
    provider = provider_create(
        name="Backup", api_url=backup_sandbox.url, api_key="backup-key", new_items_on_sale=False
    )
    catalog_sync(provider=provider)
    target = Service.objects.get(provider=provider, upstream_id=service.upstream_id)
    route_add(service=service, target=target, priority=10)
    _rule(service, refill_escalation=RefillEscalation.REORDER)
    return provider


def _reordered(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> tuple[Order, Refill, Order]:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    _refuse_refills(sandbox)
    assert refill_forward(refill_id=refill.pk) == "failed"
    refill.refresh_from_db()
    assert refill.replacement_id is not None
    replacement = Order.objects.get(pk=refill.replacement_id)
    assert order_forward(order_id=replacement.pk) == "sent"
    replacement.refresh_from_db()
    return order, refill, replacement


def test_reorder_rule_buys_the_missing_quantity_elsewhere_once_and_refills(
    finished: Callable[..., Order],
    customer: User,
    sandbox: SandboxServer,
    backup: Provider,
    backup_sandbox: SandboxServer,
) -> None:
    order, refill, replacement = _reordered(finished, customer, sandbox)

    assert (replacement.provider_id, replacement.source) == (backup.pk, Source.REFILL)
    assert (replacement.quantity, replacement.link) == (order.total_quantity, order.link)
    assert replacement.charge == 0 and replacement.cost > 0
    assert (refill.status, refill.dispatch_state) == (RefillStatus.PENDING, D.FAILED)
    assert refills_escalate_due() == {}  # waiting for the replacement; never a second one
    assert Order.objects.filter(source=Source.REFILL).count() == 1

    _poll_order(replacement, backup, backup_sandbox, status="Completed")
    assert refills_escalate_due() == {"refilled": 1}

    refill.refresh_from_db()
    assert (refill.status, refill.refunded) == (RefillStatus.COMPLETED, Decimal(0))
    # The customer paid the order once and nothing for the replacement.
    assert User.objects.get(pk=customer.pk).balance == Decimal(100) - order.charge
    assert not ledger_mismatches()


def test_reorder_that_delivers_part_refunds_the_rest_pro_rata(
    finished: Callable[..., Order],
    customer: User,
    sandbox: SandboxServer,
    backup: Provider,
    backup_sandbox: SandboxServer,
) -> None:
    order, refill, replacement = _reordered(finished, customer, sandbox)

    _poll_order(replacement, backup, backup_sandbox, status="Partial", remains=250)
    assert refills_escalate_due() == {"refunded": 1}

    refill.refresh_from_db()
    expected = (order.charge * 250 / order.total_quantity).quantize(Decimal("0.000001"))
    assert (refill.status, refill.refunded) == (RefillStatus.REJECTED, expected)
    assert _refunds(refill) == [expected] and not ledger_mismatches()


def test_reorder_without_another_route_refunds(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer, service: Service
) -> None:
    _rule(service, refill_escalation=RefillEscalation.REORDER)
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    _refuse_refills(sandbox)

    refill_forward(refill_id=refill.pk)

    refill.refresh_from_db()
    assert (refill.status, refill.refunded) == (RefillStatus.REJECTED, order.charge)
    assert not Order.objects.filter(source=Source.REFILL).exists()


# --- Success rates -----------------------------------------------------------------------------


def test_refill_success_rates_per_service_and_provider(
    finished: Callable[..., Order], customer: User, sandbox: SandboxServer, service: Service
) -> None:
    _rule(service, refill_cooldown_hours=0)
    done = finished()
    ok = refill_request(user=customer, order_id=done.pk)
    refill_forward(refill_id=ok.pk)
    _poll_refill(ok, sandbox, "Completed")
    refused = finished()
    bad = refill_request(user=customer, order_id=refused.pk)
    _refuse_refills(sandbox)
    refill_forward(refill_id=bad.pk)
    refill_request(user=customer, order_id=done.pk)  # still open: not counted

    by_service = refill_success_rates(by="service")
    by_provider = refill_success_rates(by="provider")

    assert (by_service[service.pk].finished, by_service[service.pk].refilled) == (2, 1)
    assert by_service[service.pk].rate == Decimal("0.5000")
    assert by_provider[service.provider_id].rate == Decimal("0.5000")
    assert refill_success_rates(by="service", since=timezone.now()) == {}
    assert OrderStatus.COMPLETED  # the statuses the rates read are the protocol's


def test_a_refill_sent_again_from_review_gets_a_new_deadline(
    finished: Callable[..., Order], customer: User, staff: User
) -> None:
    order = finished()
    refill = refill_request(user=customer, order_id=order.pk)
    later = refill.deadline_at + timedelta(hours=1)
    Refill.objects.filter(pk=refill.pk).update(
        dispatch_state=D.NEEDS_REVIEW, review_reason="add_unknown"
    )

    with time_machine.travel(later):
        review_resolve(
            kind=Kind.REFILL,
            pk=refill.pk,
            resolution="send_again",
            admin=staff,
            answer=Answer(confirmed_absent=True),
        )
        assert refills_escalate_due() == {}

    refill.refresh_from_db()
    assert refill.dispatch_state == D.QUEUED and refill.deadline_at > later
