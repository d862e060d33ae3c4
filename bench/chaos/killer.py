"""The killer: at random moments it picks a target at random, notes what was in flight, kills
it the way a crash would and brings it back, timing the return.

Targets (weights in TARGETS): one Celery worker (SIGKILL of its process group), every worker at
once, beat, one of gunicorn's worker processes mid-request, gunicorn's master (the supervisor
starts a new gunicorn), the run's PostgreSQL (immediate stop, then start: crash recovery), the
run's Redis (a clean shutdown that saves, or a SIGKILL that loses every queued task and cached
value).

Aimed kills (AIMS): instead of a random moment, the killer waits for a named condition (an
order in `sending`, a deposit webhook on the wire, a settle pass running…) and kills the
process that holds it at that instant."""

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.timezone import now as timezone_now

from bench.chaos.checks import poll_limit
from bench.chaos.servers import wait_for_database
from bench.chaos.stack import WORKERS, Restart, Stack
from tests.e2e.processes import wait_until

TARGETS = {
    "worker": 4,
    "workers": 2,
    "beat": 1,
    "web": 3,
    "web-master": 1,
    "postgres": 2,
    "redis-persist": 1,
    "redis-lost": 1,
}
# A kill waits this long at most for something in flight (a send, a poll) to interrupt; after
# the clients are done there may be nothing left, and the kill goes ahead anyway.
WORK_WAIT_SECONDS = 20
BACK_TIMEOUT_SECONDS = 120  # generous: the machine's two cores are shared
# After a broker restart a worker either reconnects or dies of it within a moment
# (docs/reliability.md, "What it found"): the supervisor looks once this has passed.
REDIS_GRACE_SECONDS = 3
# An aimed kill looks for its condition this often, for at most this long; not seen, it kills
# anyway and says so.
AIM_INTERVAL_SECONDS = 0.05
AIM_WAIT_SECONDS = 20


@dataclass(frozen=True)
class Aim:
    """Kill `target` the instant `seen` is true (checked every AIM_INTERVAL_SECONDS)."""

    name: str
    target: str
    seen: Callable[["InFlight"], bool]


def _exists(query: Callable[[], Any]) -> Callable[["InFlight"], bool]:
    return lambda inflight: bool(_db(lambda: query().exists(), False))


def _on_the_wire(*actions: str) -> Callable[["InFlight"], bool]:
    return lambda inflight: any(inflight.now(action) for action in actions)


def _sending(model_name: str, **filters: Any) -> Callable[[], Any]:
    def query() -> Any:
        from orders import models
        from orders.models import DispatchState

        model = getattr(models, model_name)
        return model.objects.filter(dispatch_state=DispatchState.SENDING, **filters)

    return query


def _poll_lease() -> Any:
    from orders.models import PollLease

    return PollLease.objects.filter(until__gt=timezone_now())


def _outbox_sending() -> Any:
    from notifications.models import Notification

    return Notification.objects.filter(status="sending")


# What an aimed kill waits for, and what it kills then. Every worker at once, or every web
# process at once: whichever one holds the work, it dies with it.
AIMS = (
    Aim("an order in sending (its add on the wire)", "workers", _exists(_sending("Order"))),
    Aim(
        "a child panel's order forwarded to the parent (the parent's add mid-request)",
        "web-all",
        _exists(_sending("Order", user__child_panel__isnull=False)),
    ),
    Aim(
        "a deposit webhook mid-request",
        "web-all",
        _on_the_wire("sepay webhook", "casso webhook", "stripe webhook"),
    ),
    Aim("an affiliate payout mid-request", "web-all", _on_the_wire("payout", "move")),
    Aim("a Telegram update mid-request", "web-all", _on_the_wire("telegram update")),
    Aim("a poll round holding its lease", "workers", _exists(_poll_lease)),
    Aim("a settle pass running", "postgres", _on_the_wire("settle pass")),
    Aim("a notification or webhook being sent", "workers", _exists(_outbox_sending)),
)


class InFlight:
    """What the clients have on the wire right now, by action: logged with each kill."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now: Counter[str] = Counter()

    @contextmanager
    def track(self, action: str) -> Iterator[None]:
        with self._lock:
            self._now[action] += 1
        try:
            yield
        finally:
            with self._lock:
                self._now[action] -= 1

    def now(self, action: str) -> int:
        with self._lock:
            return self._now[action]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {f"client {name}": n for name, n in sorted(self._now.items()) if n}


def _panel_in_flight() -> dict[str, int]:
    """Rows in a transient state at this instant, as the database has them."""
    from notifications.models import Notification
    from orders.models import CancelRequest, DispatchState, Order, ProductOrder, Refill

    open_orders = Order.objects.exclude(status__in=_finals())
    counts = {
        "orders sending": Order.objects.filter(dispatch_state=DispatchState.SENDING).count(),
        "orders followed": open_orders.filter(dispatch_state=DispatchState.SENT).count(),
        "refills open": Refill.objects.exclude(status__in=["Completed", "Rejected"]).count(),
        "cancels waiting": CancelRequest.objects.filter(outcome="waiting").count(),
        "product orders open": ProductOrder.objects.exclude(
            status__in=["Completed", "Partial", "Canceled"]
        ).count(),
        "notifications unsent": Notification.objects.filter(
            status__in=["pending", "claimed", "sending"]
        ).count(),
    }
    return {name: n for name, n in counts.items() if n}


def _finals() -> list[str]:
    from orders.models import OrderStatus

    return list(OrderStatus.finals())


class DueCounter:
    """Sent, unfinished orders that a poll round should pick up right now, and the rows a
    killed round had claimed (the ids of the leases it left)."""

    def _unfinished(self) -> Any:
        """The parent's own orders: those the sandbox's status calls follow (a child panel's
        orders are polled at the parent's API, which the poll watch does not count)."""
        from orders.models import DispatchState, Order

        return Order.objects.filter(
            dispatch_state=DispatchState.SENT, user__child_panel__isnull=True
        ).exclude(status__in=_finals())

    def due(self) -> int:
        now = timezone_now()
        return self._unfinished().filter(next_poll_at__lte=now + timedelta(seconds=1)).count()

    def leases(self) -> dict[int, datetime]:
        """The unfinished rows under a live lease, with the poll time they had when claimed."""
        from orders.models import Order, PollLease

        live = PollLease.objects.filter(model=Order.__name__, until__gt=timezone_now())
        ids = {pk for lease_ids in live.values_list("ids", flat=True) for pk in lease_ids}
        return dict(self._unfinished().filter(pk__in=ids).values_list("pk", "next_poll_at"))

    def wait_for_work(self, *, timeout: float) -> None:
        """Until an order is being sent or followed: a kill then interrupts real work (while
        the provider pauses forwarding, for instance, nothing is in flight)."""
        from orders.models import DispatchState, Order

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                Order.objects.filter(dispatch_state=DispatchState.SENDING).exists()
                or self._unfinished().exists()
            ):
                return
            time.sleep(0.5)

    def still_leased(self, leases: dict[int, datetime]) -> int:
        """How many of the claimed rows nobody has polled since: same lease, still unfinished."""
        now_leases = dict(
            self._unfinished().filter(pk__in=list(leases)).values_list("pk", "next_poll_at")
        )
        return sum(1 for pk, until in now_leases.items() if until == leases[pk])


def _db(call: Callable[[], Any], default: Any = None) -> Any:
    """A read of the run's own bookkeeping; while the database restarts it may fail, which
    only costs a figure."""
    from django.db import DatabaseError, connection

    for _ in range(2):  # the first try after a restart finds the old connection dead
        try:
            return call()
        except DatabaseError:
            connection.close()
    return default


class Killer:
    """Kills `kills` times, each a random while (`gap`) after the stack was back."""

    def __init__(
        self, stack: Stack, rng: random.Random, inflight: InFlight, say: Callable[[str], None]
    ) -> None:
        self.stack, self.rng, self.inflight, self.say = stack, rng, inflight, say
        self.due = DueCounter()

    def run(self, *, kills: int, gap: tuple[float, float]) -> None:
        from django.db import connection

        targets, weights = zip(*TARGETS.items(), strict=True)
        # Every target once in a random order, aims between them, then as the weights fall (one
        # kill in three aimed): a short run hits each kind of process and server at least once.
        first: list[str | Aim] = [*self.rng.sample(list(targets), len(targets))]
        # The aims in their order (those that need the clients' load first), one after every
        # other target while the load runs, as many as the run has kills beyond the targets.
        for number, aim in enumerate(AIMS[: max(kills - len(targets), 0)]):
            first.insert(1 + 2 * number, aim)
        try:
            while len(self.stack.restarts) < kills:
                time.sleep(self.rng.uniform(*gap))
                number = len(self.stack.restarts)
                if number < len(first):
                    pick = first[number]
                elif number % 3 == 2:
                    pick = self.rng.choice(AIMS)
                else:
                    pick = self.rng.choices(targets, weights)[0]
                if isinstance(pick, Aim):
                    target, aimed = pick.target, self.aim(pick)
                else:
                    _db(lambda: self.due.wait_for_work(timeout=WORK_WAIT_SECONDS))
                    target, aimed = pick, ""
                restart = self.kill(target)
                restart.aim = aimed
                self.say(
                    f"kill {len(self.stack.restarts)}: {target}"
                    + (f" aimed at {aimed}" if aimed else "")
                    + ", back after "
                    f"{restart.ready_at - restart.killed_at:.1f} s; in flight: "
                    + (", ".join(f"{k} {v}" for k, v in restart.in_flight.items()) or "nothing")
                    + "".join(f"; restarted after it died: {what}" for what in restart.revived)
                )
        finally:
            connection.close()

    def aim(self, aim: Aim) -> str:
        """Wait until the aim's condition holds; what the kill was aimed at, and whether it was
        seen ("not seen" when the wait ran out and the kill went ahead anyway)."""
        deadline = time.monotonic() + AIM_WAIT_SECONDS
        while time.monotonic() < deadline:
            if aim.seen(self.inflight):
                return f"{aim.name}: seen"
            time.sleep(AIM_INTERVAL_SECONDS)
        return f"{aim.name}: not seen in {AIM_WAIT_SECONDS} s"

    def kill(self, target: str) -> Restart:
        in_flight = {**self.inflight.snapshot(), **_db(_panel_in_flight, {})}
        due = _db(self.due.due, 0)
        restart = Restart(target=target, killed_at=time.monotonic(), in_flight=in_flight)
        restart.due_at_kill = due
        getattr(self, "_" + target.replace("-", "_"))(restart)
        restart.revived = self.stack.revive()
        if restart.revived or not restart.ready_at:
            # What died of the kill is back only once its supervisor has started it again.
            restart.ready_at = time.monotonic()
        self.stack.restarts.append(restart)
        return restart

    def _worker(self, restart: Restart) -> None:
        index = [self.rng.randrange(WORKERS)]
        self.stack.kill_workers(index)
        self.stack.start_workers(index)

    def _workers(self, restart: Restart) -> None:
        every = list(range(WORKERS))
        self.stack.kill_workers(every)
        # Counted while no worker runs: a lease seen now was taken by a round that was killed.
        leases = _db(self.due.leases, {})
        restart.leased_at_kill = len(leases)
        self.stack.start_workers(every)
        restart.ready_at = time.monotonic()
        if leases:
            time.sleep(poll_limit())
            restart.leased_still_waiting = _db(lambda: self.due.still_leased(leases), 0)

    def _beat(self, restart: Restart) -> None:
        self.stack.kill_beat()
        self.stack.start_beat()

    def _web(self, restart: Restart) -> None:
        if self.stack.kill_web_worker():
            wait_until(self.stack.web_answers, timeout=BACK_TIMEOUT_SECONDS, what="gunicorn")

    def _web_all(self, restart: Restart) -> None:
        """Every gunicorn worker process at once (the master forks new ones): whichever of them
        serves the request aimed at dies with it."""
        if self.stack.kill_web_workers():
            wait_until(self.stack.web_answers, timeout=BACK_TIMEOUT_SECONDS, what="gunicorn")

    def _web_master(self, restart: Restart) -> None:
        """SIGKILL of gunicorn's master; the supervisor starts a new gunicorn."""
        orphans = self.stack.kill_web_master()
        restart.in_flight["gunicorn workers orphaned"] = len(orphans)
        self.stack.start_web()
        wait_until(self.stack.web_answers, timeout=BACK_TIMEOUT_SECONDS, what="gunicorn")

    def _postgres(self, restart: Restart) -> None:
        self.stack.pg.crash()
        time.sleep(self.rng.uniform(0.5, 3))  # down for a moment: the clients notice
        self.stack.pg.start()
        wait_for_database(self.stack.pg.url, timeout=BACK_TIMEOUT_SECONDS)
        wait_until(self.stack.web_answers, timeout=BACK_TIMEOUT_SECONDS, what="gunicorn")

    def _redis_persist(self, restart: Restart) -> None:
        self.stack.redis.restart(persist=True)
        self._after_redis(restart)

    def _redis_lost(self, restart: Restart) -> None:
        self.stack.redis.restart(persist=False)
        self._after_redis(restart)

    def _after_redis(self, restart: Restart) -> None:
        # Back when Redis answers: the workers reconnect on their own, and a poll they make
        # during the grace below counts.
        restart.ready_at = time.monotonic()
        time.sleep(REDIS_GRACE_SECONDS)
