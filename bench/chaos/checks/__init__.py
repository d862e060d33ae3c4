"""The invariants a chaos run must end with (docs/reliability.md, "What it checks"), each in
the module that owns its rows: orders (states, purchases, money, polling), books (refunds,
deposits, commissions, check_ledger), outbox (transient rows, notifications) and client (what
the clients were told). `check_all` gathers the rows and runs every check."""

from decimal import Decimal
from typing import Any

from django.utils import timezone

from bench.chaos.checks import books, client, orders, outbox
from bench.chaos.checks.findings import Findings
from bench.chaos.checks.orders import poll_limit
from bench.chaos.clients import ClientLog

__all__ = ["Findings", "check_all", "poll_limit"]


def check_all(stack: Any, log: ClientLog) -> Findings:
    from django.conf import settings

    from orders.models import Order

    findings = Findings()
    rows = list(Order.objects.select_related("service").order_by("pk"))
    upstream: dict[str, list[dict]] = {}
    for item in stack.control("orders"):
        upstream.setdefault(item["link"], []).append(item)
    adds = stack.control("stats")["adds_per_link"]
    placed = {a.order_id for a in log.attempts if a.order_id and a.how != "product"}
    if not placed <= {order.pk for order in rows}:
        findings.violation(
            f"the clients got order ids the panel lacks: {placed - {o.pk for o in rows}}"
        )
    orders.check_states(rows, findings)
    orders.check_other_states(orders.gather_other_states(), findings)
    orders.check_purchases(rows, upstream, adds, findings)
    orders.check_money(rows, upstream, findings)
    orders.check_polling(stack.restarts, findings)
    books.check_refunds(*books.gather_refund_rows(), findings)
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
