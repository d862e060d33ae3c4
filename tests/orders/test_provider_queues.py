"""Queues and forwarding slots per provider (docs/scaling.md): one provider that hangs holds its
own queue and at most its slots of worker processes, never the other providers' orders."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from core.db.locks import held_one_of, lock_key, locks_held
from orders.enqueue import provider_queue
from orders.models import DispatchState, Order
from orders.services import forwards_queue, order_forward
from orders.services.dispatch import forward_slots, providers_without_free_slot
from providers.models import Provider
from sandbox import SandboxServer
from tests.support import sandbox_stats


@contextmanager
def held_elsewhere(names: list[str]) -> Iterator[None]:
    """Hold advisory locks from another session, as a worker stuck in an upstream call does
    (a session's own advisory locks are re-entrant, so the test's connection cannot)."""
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=params.get("dbname") or connection.settings_dict["NAME"],
        user=params.get("user"),
        host=params.get("host"),
        port=params.get("port"),
        password=params.get("password"),
        autocommit=True,
    ) as other:
        for name in names:
            assert other.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(name)]).fetchone()[0]
        try:
            yield
        finally:
            # Now, not when the server gets round to ending the closed session.
            other.execute("SELECT pg_advisory_unlock_all()")


def test_provider_ids_that_follow_each_other_get_queues_of_their_own() -> None:
    queues = settings.PANEL_PROVIDER_QUEUES
    forwards = {provider_queue("forward", provider_id) for provider_id in range(7, 7 + queues)}
    polls = {provider_queue("poll", provider_id) for provider_id in range(7, 7 + queues)}

    assert len(forwards) == len(polls) == queues
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert forwards | polls <= declared  # a worker without -Q consumes every one of them
    assert provider_queue("forward", 7) == provider_queue("forward", 7 + queues)


@pytest.mark.django_db
def test_locks_held_sees_the_locks_of_other_sessions_only_while_they_hold_them() -> None:
    names = ["slot-test:a", "slot-test:b", "slot-test:c"]

    with held_elsewhere(names[:2]):
        assert locks_held(names) == {"slot-test:a", "slot-test:b"}
        with held_one_of(names) as slot:
            assert slot == "slot-test:c"  # the first one free
            assert locks_held(names) == set(names)
        with held_elsewhere(names[2:]), held_one_of(names) as slot:
            assert slot is None
    assert locks_held(names) == set()


def test_a_forward_finding_every_slot_of_its_provider_held_waits_without_a_call(
    place: Callable[..., Order], sandbox: SandboxServer, catalog: Provider
) -> None:
    # given an order whose provider has a call hanging in each of its forwarding slots
    order = place(link="https://instagram.com/p/slots")
    with held_elsewhere(forward_slots(catalog.pk)):
        assert providers_without_free_slot() == {catalog.pk}

        # when its forward task runs
        outcome = order_forward(order_id=order.pk)

        # then it leaves the row queued, due again shortly, and calls nobody
        order.refresh_from_db()
        assert outcome == "waiting"
        assert order.dispatch_state == DispatchState.QUEUED and order.dispatch_attempts == 0
        assert order.next_dispatch_at > timezone.now()
        assert sandbox_stats(sandbox)["add_calls"] == 0
        # and the forwarding sweep queues nothing of that provider while it is full
        assert forwards_queue(now=order.next_dispatch_at)["Order"] == 0

    # once a slot is free, the same order goes when due again, once
    assert providers_without_free_slot() == set()
    assert order_forward(order_id=order.pk) == "skipped"  # not due yet
    Order.objects.filter(pk=order.pk).update(next_dispatch_at=timezone.now())
    assert order_forward(order_id=order.pk) == "sent"
    assert sandbox_stats(sandbox)["adds_per_link"] == {"https://instagram.com/p/slots": 1}


@override_settings(PANEL_PROVIDER_FORWARD_SLOTS=3)
def test_one_slot_free_is_enough_to_forward(
    place: Callable[..., Order], sandbox: SandboxServer, catalog: Provider
) -> None:
    order = place()
    slots = forward_slots(catalog.pk)

    with held_elsewhere([slots[0], slots[2]]):
        assert providers_without_free_slot() == set()
        assert order_forward(order_id=order.pk) == "sent"
