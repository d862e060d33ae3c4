"""The poll round's lock dies with its holder: a worker killed mid-round does not stop polling."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from core.db.locks import held_lock
from orders.models import Order, PollLease
from orders.services.polling import ORDERS
from orders.services.polling.engine import CLAIMED_FIELDS, LEASE, _claim_due
from orders.services.polling.leases import poll_leases_release
from orders.tasks import provider_poll_task
from providers.models import Provider

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time
import django
django.setup()
from core.db.locks import held_lock
with held_lock(sys.argv[1]) as held:
    print("held" if held else "busy", flush=True)
    time.sleep(300)
"""
# A worker whose poll round hangs at the provider: it holds whatever lock the round takes.
STUCK_ROUND = """
import sys, time
import django
django.setup()
import orders.services
def stuck(**kwargs):
    print("held", flush=True)
    time.sleep(300)
orders.services.provider_poll = stuck
from orders.tasks import provider_poll_task
provider_poll_task(int(sys.argv[1]))
"""
# A worker killed after its round claimed rows and while it waits for the provider's answer.
CLAIMED_THEN_STUCK = """
import sys, time
import django
django.setup()
from orders.services.polling import engine
def stuck(*args, **kwargs):
    print("held", flush=True)
    time.sleep(300)
engine._timed_fetch = stuck
from orders.tasks import provider_poll_task
provider_poll_task(int(sys.argv[1]))
"""


@pytest.fixture
def holder(db: None) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start another process (as a worker would be) that takes a lock and keeps it."""
    started: list[subprocess.Popen] = []

    def start(name: str, script: str = HOLDER) -> subprocess.Popen:
        settings = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "panel.settings_test",
            # The test database, not the one the settings name: locks are per database.
            "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        }
        process = subprocess.Popen(
            [sys.executable, "-c", script, name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout.readline().strip() == "held"
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _free_within(name: str, seconds: float) -> bool:
    """The server notices the dead connection at once; give it a moment, not minutes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with held_lock(name) as held:
            if held:
                return True
        time.sleep(0.05)
    return False


def test_a_lock_held_elsewhere_is_not_taken(holder: Callable[[str], subprocess.Popen]) -> None:
    holder("test-lock")
    with held_lock("test-lock") as held:
        assert not held


def test_a_lock_is_free_again_once_released(db: None) -> None:
    with held_lock("test-lock") as first:
        assert first
    with held_lock("test-lock") as second:
        assert second


def test_a_killed_holder_does_not_block_the_lock(holder: Callable[[str], subprocess.Popen]) -> None:
    process = holder("test-lock")

    _kill(process)

    assert _free_within("test-lock", seconds=5)


@pytest.mark.django_db(transaction=True)
def test_poll_round_skips_while_a_live_worker_polls_and_resumes_after_it_is_killed(
    holder: Callable[..., subprocess.Popen],
    sent: Callable[..., Order],
    catalog: Provider,
) -> None:
    # given: a due order, and another worker stuck in this provider's round
    order = sent()
    Order.objects.filter(pk=order.pk).update(next_poll_at="2000-01-01T00:00:00Z")
    worker = holder(str(catalog.pk), STUCK_ROUND)

    provider_poll_task(catalog.pk)
    order.refresh_from_db()
    assert order.next_poll_at.year == 2000  # skipped: the other worker's round is running

    # when: that worker is SIGKILLed mid-round
    _kill(worker)
    deadline = time.monotonic() + 5
    while order.next_poll_at.year == 2000 and time.monotonic() < deadline:
        provider_poll_task(catalog.pk)
        order.refresh_from_db()
        time.sleep(0.05)

    # then: the next round polls within moments, not minutes later
    assert order.next_poll_at.year > 2000


@pytest.mark.django_db(transaction=True)
def test_rows_a_killed_round_claimed_are_polled_by_the_next_round_not_after_the_lease(
    holder: Callable[..., subprocess.Popen],
    sent: Callable[..., Order],
    catalog: Provider,
) -> None:
    # given: a due order, claimed by a round whose worker then dies waiting for the answer
    order = sent()
    Order.objects.filter(pk=order.pk).update(next_poll_at="2000-01-01T00:00:00Z")
    worker = holder(str(catalog.pk), CLAIMED_THEN_STUCK)
    lease = PollLease.objects.get()
    assert (lease.holder, lease.ids) == (f"poll:{catalog.pk}", [order.pk])
    assert lease.until > timezone.now() + timedelta(minutes=4)
    # the claim wrote nothing to the row, and no other poller may take it while the lease lives
    order.refresh_from_db()
    assert order.next_poll_at.year == 2000
    assert _claim_due(ORDERS, catalog.pk, timezone.now(), 10) == ([], None)
    _kill(worker)
    assert _free_within(f"poll:{catalog.pk}", seconds=5)

    # when: the next round runs
    provider_poll_task(catalog.pk)

    # then: it deleted the dead round's lease and polled the order now
    order.refresh_from_db()
    assert timezone.now() < order.next_poll_at < lease.until - timedelta(minutes=2)
    assert not PollLease.objects.exists()


def test_a_release_deletes_the_holders_leases_and_ended_ones_only(
    sent: Callable[..., Order], catalog: Provider
) -> None:
    # given: a live lease of another share, one the holder "poll:1" left, and an ended one
    mine, theirs, ended = sent(), sent(), sent()
    Order.objects.update(next_poll_at="2000-01-01T00:00:00Z")
    now = timezone.now()
    PollLease.objects.create(holder="poll:1:1", model="Order", until=now + LEASE, ids=[theirs.pk])
    PollLease.objects.create(holder="poll:1", model="Order", until=now + LEASE, ids=[mine.pk])
    PollLease.objects.create(holder="", model="Order", until=now, ids=[ended.pk])

    # when: the holder "poll:1" gives back what it left
    released = poll_leases_release(holder="poll:1")

    # then: its row and the ended lease's are claimable again, the other share's is not
    assert released == 1
    assert list(PollLease.objects.values_list("holder", flat=True)) == ["poll:1:1"]
    claimed, _ = _claim_due(ORDERS, catalog.pk, timezone.now(), 10)
    assert sorted(row["id"] for row in claimed) == sorted([mine.pk, ended.pk])


def test_a_claim_gives_the_rows_as_values_would_and_leases_exactly_them(
    sent: Callable[..., Order], catalog: Provider
) -> None:
    # given: two due orders, one with details kept as JSON
    first, second = sent(), sent()
    Order.objects.filter(pk=first.pk).update(details={"comments": "a\nb"})
    Order.objects.update(next_poll_at="2000-01-01T00:00:00Z")

    # when: a poller claims them
    claimed, lease_id = _claim_due(ORDERS, catalog.pk, timezone.now(), 10, holder="poll:x")

    # then: the rows are what `.values()` reads, and the lease holds their ids
    fields = (*CLAIMED_FIELDS, *ORDERS.fields)
    expected = Order.objects.filter(pk__in=[first.pk, second.pk]).values(*fields, **ORDERS.computed)
    assert sorted(claimed, key=lambda row: row["id"]) == sorted(expected, key=lambda row: row["id"])
    lease = PollLease.objects.get(pk=lease_id)
    assert (lease.holder, sorted(lease.ids)) == ("poll:x", sorted([first.pk, second.pk]))
