"""`python -m bench.chaos [--short | --long] [--seed N]`: see bench/chaos/__init__.py and
docs/reliability.md. Prints each kill with what was in flight, then `chaos: <name> <value>`
figures and every violation; exits 1 on any."""

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
from bench.chaos.browser import WebCustomer  # noqa: E402
from bench.chaos.child import CHILD_NUMBERS, child_provision  # noqa: E402
from bench.chaos.clients import ClientLog  # noqa: E402
from bench.chaos.hooks import Receiver, subscribe  # noqa: E402
from bench.chaos.killer import InFlight, Killer  # noqa: E402
from bench.chaos.load import (  # noqa: E402
    MODES,
    Mode,
    PollWatch,
    Reseller,
    chosen_services,
    product_fates,
    provision,
    run_clients,
)
from bench.chaos.money import (  # noqa: E402
    Affiliate,
    Payments,
    payers_provision,
    payout_decider,
    settle_loop,
    stripe_provision,
)
from bench.chaos.stack import (  # noqa: E402
    BUSY_FAULTS,
    CHILD_DOMAIN,
    FAULT_RATE,
    Stack,
    stack_start,
)
from bench.chaos.telegram import TelegramCustomer, telegram_provision  # noqa: E402
from tests.bot.fake_bot_api import FakeBotApi  # noqa: E402

SETTLE_CHECK_SECONDS = 2


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--short", action="store_true", help="a few kills: the test's run")
    size.add_argument("--long", action="store_true", help="at least 30 kills: make chaos-long")
    parser.add_argument("--seed", type=int, default=7, help="orders, kills and faults follow it")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    mode = MODES["short" if args.short else "long" if args.long else "full"]
    started = time.monotonic()
    say(
        f"chaos {mode.name}: {mode.orders} API orders, {mode.web_orders} web orders per "
        f"customer, {mode.child_orders} API and {mode.child_web_orders} web orders per customer "
        f"through a child panel, {mode.transfers} transfers, {mode.card_payments} card "
        f"payments, {mode.payouts} payouts, {mode.kills} kills, faults at {FAULT_RATE:.0%}"
    )
    bot_api = FakeBotApi(username="chaos_test_bot").__enter__()
    stack = stack_start(
        seed=args.seed,
        busy_faults=mode.busy_seconds > 0,
        extra_env={"PANEL_TELEGRAM_API_URL": bot_api.url},
    )
    try:
        os.environ.update(stack.env)
        import django

        django.setup()
        findings, figures = run(stack, mode, random.Random(args.seed), bot_api)
    finally:
        stack.stop()
        bot_api.__exit__()
    figures["duration_seconds"] = round(time.monotonic() - started, 1)
    return report(findings, figures, stack, args.json)


def run(
    stack: Stack, mode: Mode, rng: random.Random, bot_api: FakeBotApi
) -> tuple[checks.Findings, dict[str, Any]]:
    resellers, customers = provision(stack, mode)
    services = chosen_services(stack.api_url, resellers[0].key)
    payers = payers_provision(customers, 4)
    sessions = stripe_provision(payers, mode.card_payments, rng)
    child = child_provision(stack, mode)
    receiver = Receiver()
    hook_server = receiver.start()
    hooked = resellers[:2]
    subscribe(stack.api_url, receiver, hooked)
    child_services = chosen_services(stack.api_url, child.resellers[0].key, CHILD_DOMAIN)
    say(
        f"stack up: web {stack.web_url}, sandbox {stack.sandbox_url}; {len(services)} services, "
        f"child panel {CHILD_DOMAIN} with {len(child_services)}"
    )
    log, inflight, watch = ClientLog(), InFlight(), PollWatch(stack)
    watch.start()
    common = {"stack": stack, "mode": mode, "services": services, "log": log, "inflight": inflight}
    clients = [
        threading.Thread(
            target=Reseller(
                account=account, number=n, rng=random.Random(rng.random()), **common
            ).run,
            name=f"reseller-{n}",
        )
        for n, account in enumerate(resellers)
    ]
    clients += [
        threading.Thread(
            target=WebCustomer(
                account=account, number=n, rng=random.Random(rng.random()), **common
            ).run,
            name=f"customer-{n}",
        )
        for n, account in enumerate(customers)
    ]
    child_common = {**common, "services": child_services, "host": CHILD_DOMAIN}
    clients += [
        threading.Thread(
            target=Reseller(
                account=account,
                number=CHILD_NUMBERS + n,
                rng=random.Random(rng.random()),
                orders=mode.child_orders // len(child.resellers),
                **child_common,
            ).run,
            name=f"child-reseller-{n}",
        )
        for n, account in enumerate(child.resellers)
    ]
    clients += [
        threading.Thread(
            target=WebCustomer(
                account=account,
                number=CHILD_NUMBERS + n,
                rng=random.Random(rng.random()),
                web_orders=mode.child_web_orders,
                **child_common,
            ).run,
            name=f"child-customer-{n}",
        )
        for n, account in enumerate(child.customers)
    ]
    affiliate = Affiliate(stack=stack, account=customers[0], mode=mode, log=log, inflight=inflight)
    clients.append(threading.Thread(target=affiliate.run, name="affiliate"))
    in_the_bot = TelegramCustomer(
        account=telegram_provision(bot_api),
        api=bot_api,
        rng=random.Random(rng.random()),
        **common,
    )
    clients.append(threading.Thread(target=in_the_bot.run, name="telegram"))
    payments = Payments(
        stack=stack,
        mode=mode,
        payers=payers,
        sessions=sessions,
        log=log,
        inflight=inflight,
        rng=random.Random(rng.random()),
    )
    clients.append(threading.Thread(target=payments.run, name="gateways"))
    stop_settling = threading.Event()
    # Daemons: an interrupted run (Ctrl-C) stops its stack at once instead of waiting for them.
    settler = threading.Thread(
        target=settle_loop, args=(stop_settling, log, inflight), name="settle", daemon=True
    )
    decider = threading.Thread(
        target=payout_decider,
        args=(stop_settling, log, random.Random(rng.random())),
        name="payout-decider",
        daemon=True,
    )
    killer = Killer(stack, rng, inflight, say)
    killing = threading.Thread(
        target=killer.run,
        kwargs={"kills": mode.kills, "gap": mode.kill_gap},
        name="killer",
        daemon=True,
    )
    fates = threading.Thread(
        target=product_fates,
        args=(stop_settling, stack, random.Random(rng.random()), log),
        name="product-fates",
        daemon=True,
    )
    helpers = [settler, decider, fates, killing]
    if mode.busy_seconds:
        helpers.append(threading.Timer(mode.busy_seconds, _recover, args=(stack,)))
    for thread in helpers:
        thread.start()
    run_clients(clients)
    say(f"clients done: {len(log.attempts)} orders tried; waiting for the kills to finish")
    killing.join()
    say("settling")
    started = time.monotonic()
    settle(stack, mode, started)
    settle_seconds = time.monotonic() - started
    stop_settling.set()
    settler.join()
    decider.join()
    fates.join()
    watch.stopping.set()
    watch.join()
    for restart in stack.restarts:
        resumed = watch.first_rise_after(restart.ready_at)
        restart.resumed_after = None if resumed is None else resumed - restart.ready_at
    stack.stop_panel()
    hook_server.shutdown()
    findings = checks.check_all(
        stack,
        log,
        owner_id=child.owner.user_id,
        hooked=[account.user_id for account in hooked],
        deliveries=receiver.deliveries,
        telegram_posted=in_the_bot.posted,
    )
    findings.figures["webhook_answered_500"] = receiver.refused
    figures = {
        "mode": mode.name,
        "orders_tried": len(log.attempts),
        "kills": len(stack.restarts),
        "kills_by_target": _count(r.target for r in stack.restarts),
        "settle_seconds": round(settle_seconds, 1),
        "answers": dict(sorted(log.answers.items())),
    }
    return findings, figures


def _recover(stack: Stack) -> None:
    """The provider stops refusing adds for lack of funds or with leaked message keys."""
    stack.control("config", **dict.fromkeys(BUSY_FAULTS, 0))
    say("the provider no longer refuses adds (busy faults off)")


def _open_work(deadline: Any) -> bool:
    from django.db.models import CharField, Q
    from django.db.models.functions import Cast
    from django.utils import timezone

    from affiliates.models import Commission
    from notifications.models import Notification
    from orders.models import DispatchState, Order, OrderStatus, ProductOrder, Refill

    moving = Q(dispatch_state__in=[DispatchState.SENDING, DispatchState.SENT]) | Q(
        dispatch_state=DispatchState.QUEUED, next_dispatch_at__lt=deadline
    )
    # A child panel's order whose parent order waits in the parent's review is followed until
    # a person decides there: in flight with a way out, not work the stack will finish alone.
    in_parent_review = Order.objects.filter(
        user__child_panel__isnull=True, dispatch_state=DispatchState.NEEDS_REVIEW
    ).values_list(Cast("id", CharField()), flat=True)
    orders = Order.objects.exclude(status__in=OrderStatus.finals()).filter(moving)
    return (
        orders.exclude(user__child_panel__isnull=False, upstream_id__in=in_parent_review).exists()
        or Refill.objects.exclude(status__in=["Completed", "Rejected"]).filter(moving).exists()
        or ProductOrder.objects.exclude(status__in=["Completed", "Partial", "Canceled"])
        .filter(moving)
        .exists()
        or Notification.objects.filter(status="pending").exists()
        # A row a killed sender had claimed waits out its lease (minutes): in flight with a
        # way out, which check_transient holds to its limit.
        or Notification.objects.filter(
            status__in=["claimed", "sending"], lease_until__lt=timezone.now()
        ).exists()
        or Commission.objects.filter(status="pending").exists()
    )


def settle(stack: Stack, mode: Mode, started: float) -> None:
    """Wait until nothing is in flight, or the settle time is up; a process that dies
    meanwhile is started again, as a supervisor would."""
    from datetime import timedelta

    from django.db import DatabaseError, connection
    from django.utils import timezone

    remaining = mode.settle_seconds - (time.monotonic() - started)
    deadline = timezone.now() + timedelta(seconds=remaining)
    while time.monotonic() - started < mode.settle_seconds:
        for what in stack.revive():
            say(f"restarted after it died: {what}")
        try:
            if not _open_work(deadline):
                return
        except DatabaseError:
            connection.close()
        time.sleep(SETTLE_CHECK_SECONDS)


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
            "target": r.target,
            "in_flight": r.in_flight,
            "back_after": round(r.ready_at - r.killed_at, 1),
            "due": r.due_at_kill,
            "leased": r.leased_at_kill,
            "leased_still_waiting": r.leased_still_waiting,
            "poll_resumed_after": None if r.resumed_after is None else round(r.resumed_after, 1),
            "died_of_it": r.revived,
            "aim": r.aim,
        }
        for r in stack.restarts
    ]
    figures["died_of_a_kill"] = _count(
        what.split(" ")[0].rstrip("0123456789") for r in stack.restarts for what in r.revived
    )
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
