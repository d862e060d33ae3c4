"""The clients' view: every answer the panel gave during the run stays true afterwards, and
nothing a client did bought twice.

- an order id it answered exists, with the client's link and owner;
- an error it answered changed nothing: no order has that link;
- one link, one order at most on each level (each client action uses a link of its own, and a
  retry with the same `client_ref` or the same form token must find the first order, not place
  a second; a child panel's order and the parent's order bought for it share their link);
- a final status a reseller read (with its net charge: what a refund made visible) is still the
  order's status and net charge, across every crash of the database."""

from collections import Counter
from decimal import Decimal

from bench.chaos.checks.findings import Findings
from bench.chaos.clients import PLACED, REFUSED, ClientLog


def check_client_view(log: ClientLog, orders: list[dict], findings: Findings) -> None:
    """`orders`: every order and product order as {kind, id, link, username, status, net,
    level}; a product order's link is its client_ref, the level the child panel's id (None:
    the parent)."""
    by_link: dict[str, list[dict]] = {}
    per_level: dict[tuple[int | None, str], list[dict]] = {}
    by_id: dict[tuple[str, int], dict] = {}
    for order in orders:
        by_link.setdefault(order["link"], []).append(order)
        per_level.setdefault((order.get("level"), order["link"]), []).append(order)
        by_id[order["kind"], order["id"]] = order
    for (_level, link), found in per_level.items():
        # A child panel's product order reaches the parent without a client_ref (no link).
        if len(found) > 1 and link:
            ids = ", ".join(str(o["id"]) for o in found)
            findings.violation(f"{link} was ordered {len(found)} times in the panel ({ids})")
    for attempt in log.attempts:
        kind = "product_order" if attempt.how == "product" else "order"
        found = by_link.get(attempt.link, [])
        if attempt.outcome == PLACED and attempt.order_id is not None:
            order = by_id.get((kind, attempt.order_id))
            if order is None or order["link"] != attempt.link or order["username"] != attempt.user:
                findings.violation(
                    f"{attempt.user} was answered {kind} {attempt.order_id} for {attempt.link}, "
                    "which the panel does not have"
                )
        elif attempt.outcome == REFUSED and attempt.how != "mass" and found:
            findings.violation(
                f"{attempt.user} was refused ({attempt.error or 'an error page'}) for "
                f"{attempt.link}, yet order {found[0]['id']} has it"
            )
    for (kind, order_id), (status, net) in log.finals_seen.items():
        order = by_id.get((kind, order_id))
        if order is None:
            findings.violation(f"{kind} {order_id} was read as {status} but no longer exists")
        elif order["status"] != status or Decimal(order["net"]) != Decimal(net):
            findings.violation(
                f"{kind} {order_id} was read as {status}, charged {net}; it is now "
                f"{order['status']}, charged {order['net']}"
            )
    retried = [a for a in log.attempts if a.retried and a.client_ref]
    findings.figures["client_answers_final_seen"] = len(log.finals_seen)
    findings.figures["client_retries_with_ref"] = len(retried)
    findings.figures["client_retries_with_ref_bought_once"] = sum(
        sum(o["username"] == a.user for o in by_link.get(a.link, [])) <= 1 for a in retried
    )
    findings.figures["client_outcomes"] = dict(
        Counter(f"{a.how} {a.outcome}" + (f": {a.error}" if a.error else "") for a in log.attempts)
    )


def gather_orders() -> list[dict]:
    from django.db.models import F

    from orders.models import Order, ProductOrder

    rows = [
        {"kind": "order", **row}
        for row in Order.objects.annotate(
            username=F("user__username"),
            net=F("charge") - F("refunded"),
            level=F("user__child_panel_id"),
        ).values("id", "link", "username", "status", "net", "level")
    ]
    rows += [
        {"kind": "product_order", **row}
        for row in ProductOrder.objects.annotate(
            username=F("user__username"), net=F("charge") - F("refunded"), link=F("client_ref")
        ).values("id", "link", "username", "status", "net")
    ]
    return rows
