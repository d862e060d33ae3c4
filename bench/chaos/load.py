"""What a chaos run does to the stack: resellers placing orders over HTTP, the worker killed at
random moments, and a watch on the sandbox's status calls to see polling resume."""

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.utils.timezone import now as timezone_now

from bench.chaos.checks import poll_limit
from bench.chaos.stack import Restart, Stack
from tests.e2e.processes import manage

RESELLER_BALANCE = "100000.00"
# A row whose next poll is this far off was claimed by a round (its lease), not backed off:
# FAST_PANEL backs off at most 2 s.
POLL_WATCH_INTERVAL = 0.25


@dataclass(frozen=True)
class Mode:
    name: str
    orders: int
    resellers: int
    kills: int
    place_seconds: float  # the orders are spread over this long
    kill_gap: tuple[float, float]  # seconds between a worker's ready and its kill
    settle_seconds: float  # at most this long for the stack to finish what it can
    # The busy faults (no funds, leaked message keys) pause all forwarding to the provider for
    # two minutes each, so they run only this long from the start; 0 leaves them out.
    busy_seconds: float = 40


FULL = Mode(
    "full",
    orders=300,
    resellers=4,
    kills=12,
    place_seconds=240,
    kill_gap=(6, 18),
    settle_seconds=360,
)
SHORT = Mode(
    "short",
    orders=60,
    resellers=3,
    kills=3,
    place_seconds=20,
    kill_gap=(2, 5),
    settle_seconds=110,
    busy_seconds=0,
)


@dataclass
class Placed:
    """What the resellers saw: the order id per link, and every answer that was not one."""

    order_by_link: dict[str, int] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, link: str, answer: str, order_id: int | None = None) -> None:
        with self.lock:
            self.answers[answer] += 1
            if order_id is not None:
                self.order_by_link[link] = order_id


def provision(stack: Stack, mode: Mode) -> list[str]:
    """Register the sandbox, import its catalog, and create the resellers; returns their keys."""
    manage(
        stack.env,
        "add_provider",
        "Sandbox",
        f"{stack.sandbox_url}/api/v2",
        "chaos-sandbox-key",
        "--markup-percent",
        "20",
    )
    manage(stack.env, "sync_catalog")
    return [
        manage(stack.env, "create_reseller", f"chaos-reseller-{n}", "--balance", RESELLER_BALANCE)
        .strip()
        .splitlines()[-1]
        for n in range(mode.resellers)
    ]


def default_services(api_url: str, key: str) -> list[dict]:
    """Plain Default services without drip-feed: link and quantity are all an add needs."""
    answer = httpx.post(api_url, data={"key": key, "action": "services"}, timeout=30).json()
    chosen = [s for s in answer if s["type"] == "Default" and not s.get("dripfeed")]
    if not chosen:
        raise RuntimeError("the sandbox catalog has no Default service")
    return chosen[:6]


def place_orders(
    *,
    api_url: str,
    key: str,
    number: int,
    mode: Mode,
    services: list[dict],
    placed: Placed,
    rng: random.Random,
) -> None:
    """One reseller's script: adds spread over the placing time, each with a client_ref so a
    retry after a lost answer cannot buy twice."""
    count = mode.orders // mode.resellers
    own: list[int] = []
    start = time.monotonic()
    with httpx.Client(timeout=30) as client:
        for index in range(count):
            delay = start + mode.place_seconds * index / count - time.monotonic()
            time.sleep(max(delay, 0) + rng.uniform(0, 0.2))
            service = rng.choice(services)
            link = f"https://instagram.com/p/chaos-{number}-{index}"
            fields = {
                "key": key,
                "action": "add",
                "service": str(service["service"]),
                "link": link,
                "quantity": str(int(service["min"]) * rng.randint(1, 3)),
                "client_ref": f"chaos-{number}-{index}",
            }
            if (order_id := _add(client, api_url, fields, link, placed)) is not None:
                own.append(order_id)
            if index % 10 == 9:  # a reseller also reads what it placed
                _read_statuses(client, api_url, key, own[-100:], placed)


def _add(client: httpx.Client, api_url: str, fields: dict, link: str, placed: Placed) -> int | None:
    for _ in range(3):
        try:
            response = client.post(api_url, data=fields)
        except httpx.TransportError as error:
            placed.record(link, f"transport error: {type(error).__name__}")
            continue
        if response.status_code >= 500:
            placed.record(link, f"HTTP {response.status_code}")
            continue
        answer = response.json()
        if "order" in answer:
            placed.record(link, "order", int(answer["order"]))
            return int(answer["order"])
        placed.record(link, f"error: {answer.get('error')}")
        return None
    return None


def _read_statuses(
    client: httpx.Client, api_url: str, key: str, ids: list[int], placed: Placed
) -> None:
    if ids:
        answer = client.post(
            api_url, data={"key": key, "action": "status", "orders": ",".join(map(str, ids))}
        )
        placed.record("", f"status read: HTTP {answer.status_code}")


class PollWatch(threading.Thread):
    """Samples the sandbox's count of `status` calls: each rise is a poll round reaching it."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True, name="poll-watch")
        self.stack = stack
        self.samples: list[tuple[float, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(POLL_WATCH_INTERVAL):
            try:
                stats = self.stack.control("stats")
            except httpx.HTTPError:
                continue
            self.samples.append((time.monotonic(), int(stats["requests"].get("status", 0))))

    def first_rise_after(self, moment: float) -> float | None:
        before = [count for at, count in self.samples if at <= moment]
        if not before:
            return None
        for at, count in self.samples:
            if at > moment and count > before[-1]:
                return at
        return None


def kill_and_restart(stack: Stack, due_counts: "DueCounter") -> Restart:
    restart = stack.kill_worker()
    # Counted while no worker runs: a lease seen now was taken by the round that was killed.
    restart.due_at_kill, restart.leased_at_kill = due_counts.count()
    leases = due_counts.leases()
    stack.start_worker()
    restart.ready_at = time.monotonic()
    if leases:
        time.sleep(poll_limit())
        restart.leased_still_waiting = due_counts.still_leased(leases)
    return restart


class DueCounter:
    """Sent, unfinished orders that a poll round should pick up right now, and the rows a
    killed round had claimed (the ids of the leases it left)."""

    def _unfinished(self) -> Any:
        from orders.models import DispatchState, Order, OrderStatus

        return Order.objects.filter(dispatch_state=DispatchState.SENT).exclude(
            status__in=OrderStatus.finals()
        )

    def count(self) -> tuple[int, int]:
        """Due rows (a claim leaves its rows due, so the leased ones are among them) and how
        many of them are leased."""
        now = timezone_now()
        due = self._unfinished().filter(next_poll_at__lte=now + timedelta(seconds=1)).count()
        return due, len(self.leases())

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
