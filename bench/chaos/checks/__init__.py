"""The invariants a chaos run must end with (docs/reliability.md, "What it checks"), each in
the module that owns its rows: orders (states, purchases, money, polling), books (refunds,
deposits, commissions, check_ledger), outbox (transient rows, notifications) and client (what
the clients were told). `check_all` gathers the rows and runs every check."""

from decimal import Decimal
from typing import Any

from django.utils import timezone

from bench.chaos.checks import (
    books,
    chain,
    client,
    orders,
    outbox,
    payouts,
    telegram,
    webhooks,
)
from bench.chaos.checks.findings import Findings
from bench.chaos.checks.orders import poll_limit
from bench.chaos.clients import ClientLog

__all__ = ["Findings", "check_all", "poll_limit"]


def check_all(
    stack: Any,
    log: ClientLog,
    *,
    owner_id: int | None = None,
    hooked: list[int] | None = None,
    deliveries: list[Any] | None = None,
    telegram_posted: list[int] | None = None,
) -> Findings:
    """`owner_id`: the child panel's owner, when the run has the chain; `hooked`: the resellers
    subscribed to status webhooks, `deliveries` what their receiver got; `telegram_posted`:
    every update_id the bot's customer sent."""
    from django.conf import settings

    from bench.chaos.stack import SANDBOX_KEY
    from orders.models import Order

    findings = Findings()
    rows = list(Order.objects.select_related("service", "user").order_by("pk"))
    # The parent's orders answer to the sandbox; a child panel's answer to the parent (chain).
    parent_rows = [order for order in rows if order.user.child_panel_id is None]
    upstream: dict[str, list[dict]] = {}
    for item in stack.control("orders"):
        upstream.setdefault(item["link"], []).append(item)
    adds = stack.control("stats")["adds_per_link"]
    placed = {a.order_id for a in log.attempts if a.order_id and a.how != "product"}
    if not placed <= {order.pk for order in rows}:
        findings.violation(
            f"the clients got order ids the panel lacks: {placed - {o.pk for o in rows}}"
        )
    orders.check_states(parent_rows, findings)
    orders.check_other_states(orders.gather_other_states(), findings)
    orders.check_purchases(rows, upstream, adds, findings)
    orders.check_money(parent_rows, upstream, findings)
    if owner_id is not None:
        chain.check_chain(*chain.gather_chain(owner_id), findings)
    orders.check_polling(stack.restarts, findings)
    refund_rows, refund_lines = books.gather_refund_rows()
    stack.control("config", timeout_rate=0, error_5xx_rate=0, non_json_rate=0)
    sold = books.product_charges(
        f"{stack.sandbox_url}/api/v2",
        SANDBOX_KEY,
        [
            row["upstream_id"]
            for row in refund_rows
            if row["kind"] == "product_order" and row["upstream_id"] and row["level"] is None
        ],
    )
    books.provider_charges(refund_rows, sold)
    books.check_refunds(refund_rows, refund_lines, findings)
    deposits, ledger = books.gather_deposits()
    books.check_deposits(
        deposits=deposits,
        ledger=ledger,
        transfers=log.transfers,
        card_sessions=log.card_sessions,
        vnd_rate=Decimal(settings.PANEL_VND_RATE),
        findings=findings,
    )
    referred, commissions, lines = books.gather_commissions()
    books.check_commissions(
        referred_deposits=referred, commissions=commissions, lines=lines, findings=findings
    )
    payouts.check_payouts(**payouts.gather_payouts(), told=log.answers, findings=findings)
    payouts.check_chargebacks(
        disputes=log.disputes, **payouts.gather_chargebacks(), findings=findings
    )
    if hooked:
        rows_written, hooked_orders = webhooks.gather_webhooks(hooked)
        webhooks.check_webhooks(
            rows=rows_written, received=deliveries or [], orders=hooked_orders, findings=findings
        )
    if telegram_posted is not None:
        from bot.handling import UNTAKEN_AFTER

        bot_orders, updates = telegram.gather_telegram()
        telegram.check_telegram(
            links={a.link for a in log.attempts if a.how == "telegram"},
            orders=bot_orders,
            posted=telegram_posted,
            updates=updates,
            now=timezone.now(),
            # An update whose task was lost waits UNTAKEN_AFTER, then the minute's sweep.
            sweep_seconds=UNTAKEN_AFTER.total_seconds() + 60 + 10,
            findings=findings,
        )
    books.check_ledger(findings)
    outbox.check_transient(outbox.gather_transient(timezone.now()), timezone.now(), findings)
    outbox.check_emails(outbox.emails_in(stack.mail_dir), outbox.gather_outbox(), findings)
    client.check_client_view(log, client.gather_orders(), findings)
    findings.figures["final_orders"] = sum(order.is_final for order in rows)
    findings.figures["by_status"] = dict(sorted(_count(o.status for o in rows).items()))
    return findings


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
