"""`python -m bench.chaos [--short] [--seed N]`: see bench/chaos/__init__.py and
docs/reliability.md. Prints `chaos: <name> <value>` figures and every violation; exits 1 on any."""

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.chaos import checks  # noqa: E402
from bench.chaos.load import (  # noqa: E402
    FULL,
    SHORT,
    DueCounter,
    Mode,
    Placed,
    PollWatch,
    default_services,
    kill_and_restart,
    place_orders,
    provision,
)
from bench.chaos.stack import BUSY_FAULTS, FAULT_RATE, Stack, stack_start  # noqa: E402

SETTLE_CHECK_SECONDS = 2
# A kill waits this long at most for something in flight (a send, a poll) to interrupt.
WORK_WAIT_SECONDS = 150


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true", help="a few kills, about two minutes")
    parser.add_argument("--seed", type=int, default=7, help="orders, kills and faults follow it")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    mode = SHORT if args.short else FULL
    started = time.monotonic()
    say(f"chaos {mode.name}: {mode.orders} orders, {mode.kills} kills, faults at {FAULT_RATE:.0%}")
    stack = stack_start(seed=args.seed, busy_faults=mode.busy_seconds > 0)
    try:
        os.environ.update(stack.env)
        import django

        django.setup()
        findings, figures = run(stack, mode, random.Random(args.seed))
    finally:
        stack.stop()
    figures["duration_seconds"] = round(time.monotonic() - started, 1)
    return report(findings, figures, stack, args.json)


def run(stack: Stack, mode: Mode, rng: random.Random) -> tuple[checks.Findings, dict[str, Any]]:
    keys = provision(stack, mode)
    services = default_services(stack.api_url, keys[0])
    say(f"stack up: web {stack.web_url}, sandbox {stack.sandbox_url}; {len(services)} services")
    placed, watch = Placed(), PollWatch(stack)
    watch.start()
    placers = [
        threading.Thread(
            target=place_orders,
            kwargs={
                "api_url": stack.api_url,
                "key": key,
                "number": number,
                "mode": mode,
                "services": services,
                "placed": placed,
                "rng": random.Random(rng.random()),
            },
            name=f"reseller-{number}",
        )
        for number, key in enumerate(keys)
    ]
    killer = threading.Thread(target=kill_loop, args=(stack, mode, rng), name="killer")
    threads = [*placers, killer]
    if mode.busy_seconds:
        threads.append(threading.Timer(mode.busy_seconds, _recover, args=(stack,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        if thread is not killer:
            thread.join()
    say(f"placed {len(placed.order_by_link)} orders; settling")
    started = time.monotonic()
    killer.join()
    settle(mode, started)
    settle_seconds = time.monotonic() - started
    watch.stopping.set()
    watch.join()
    for restart in stack.restarts:
        resumed = watch.first_rise_after(restart.ready_at)
        restart.resumed_after = None if resumed is None else resumed - restart.ready_at
    stack.stop_panel()
    findings = check(stack, placed)
    figures = {
        "mode": mode.name,
        "orders": len(placed.order_by_link),
        "kills": len(stack.restarts),
        "settle_seconds": round(settle_seconds, 1),
        "answers": dict(placed.answers),
    }
    return findings, figures


def _recover(stack: Stack) -> None:
    """The provider stops refusing adds for lack of funds or with leaked message keys."""
    stack.control("config", **dict.fromkeys(BUSY_FAULTS, 0))
    say("the provider no longer refuses adds (busy faults off)")


def kill_loop(stack: Stack, mode: Mode, rng: random.Random) -> None:
    """SIGKILL the worker `mode.kills` times, each a random while after it was ready."""
    from django.db import connection

    due_counts = DueCounter()
    try:
        while len(stack.restarts) < mode.kills:
            time.sleep(rng.uniform(*mode.kill_gap))
            due_counts.wait_for_work(timeout=WORK_WAIT_SECONDS)
            restart = kill_and_restart(stack, due_counts)
            say(
                f"kill {len(stack.restarts)}: worker back after "
                f"{restart.ready_at - restart.killed_at:.1f} s, {restart.due_at_kill} orders due"
            )
    finally:
        connection.close()


def settle(mode: Mode, started: float) -> None:
    """Wait until nothing is in flight, or the settle time is up."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from orders.models import DispatchState, Order, OrderStatus

    remaining = mode.settle_seconds - (time.monotonic() - started)
    deadline = timezone.now() + timedelta(seconds=remaining)
    while time.monotonic() - started < mode.settle_seconds:
        open_rows = Order.objects.exclude(status__in=OrderStatus.finals()).filter(
            Q(dispatch_state__in=[DispatchState.SENDING, DispatchState.SENT])
            | Q(dispatch_state=DispatchState.QUEUED, next_dispatch_at__lt=deadline)
        )
        if not open_rows.exists():
            return
        time.sleep(SETTLE_CHECK_SECONDS)


def check(stack: Stack, placed: Placed) -> checks.Findings:

    from orders.models import Order

    findings = checks.Findings()
    orders = list(Order.objects.select_related("service").order_by("pk"))
    upstream: dict[str, list[dict]] = {}
    for item in stack.control("orders"):  # type: ignore[union-attr]
        upstream.setdefault(item["link"], []).append(item)
    adds = stack.control("stats")["adds_per_link"]  # type: ignore[index]
    if len(orders) != len(placed.order_by_link):
        findings.violations.append(
            f"the resellers got {len(placed.order_by_link)} order ids, the panel has {len(orders)}"
        )
    checks.check_states(orders, findings)
    checks.check_purchases(orders, upstream, adds, findings)
    checks.check_money(orders, upstream, findings)
    checks.check_ledger(stack.env, findings)
    checks.check_polling(stack.restarts, findings)
    findings.figures["final_orders"] = sum(order.is_final for order in orders)
    findings.figures["by_status"] = dict(sorted(_count(o.status for o in orders).items()))
    return findings


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def report(
    findings: checks.Findings, figures: dict[str, Any], stack: Stack, path: str | None
) -> int:
    figures.update(findings.figures)
    figures["held_for_review"] = findings.held_for_review
    figures["held_for_review_bought_upstream"] = findings.held_and_bought
    figures["review_reasons"] = dict(findings.review_reasons)
    figures["queued_reasons"] = dict(findings.queued_reasons)
    figures["restarts"] = [
        {
            "back_after": round(r.ready_at - r.killed_at, 1),
            "due": r.due_at_kill,
            "leased": r.leased_at_kill,
            "leased_still_waiting": r.leased_still_waiting,
            "poll_resumed_after": None if r.resumed_after is None else round(r.resumed_after, 1),
        }
        for r in stack.restarts
    ]
    figures["violations"] = len(findings.violations)
    for name, value in figures.items():
        print(f"chaos: {name} {json.dumps(value, default=str)}")
    if path:
        Path(path).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    for violation in findings.violations:
        print(f"VIOLATION: {violation}")
    say("clean" if not findings.violations else f"{len(findings.violations)} violation(s)")
    return 1 if findings.violations else 0


if __name__ == "__main__":
    sys.exit(main())
