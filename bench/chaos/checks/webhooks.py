"""Resellers' status webhooks: each event delivered to its endpoint counted once per event id
(the receiver deduplicates, as the protocol asks), and true.

- Every delivery is signed with the endpoint's secret and is an event the panel wrote (its id
  is an outbox row's, its type and data that row's).
- Every row the panel marked sent reached the receiver (a 2xx came back for it).
- Every final order of a subscribed reseller has one `order.finished` event (one id, whatever
  the replays and redeliveries) with its final status, and no open order has one; after
  deduplication the receiver holds at most that one per order.

Redeliveries (a sender killed after the POST, before it marked the row sent) are counted, not
faulted: deliveries are at-least-once. Each check takes plain rows, so a test can plant a
violation; `gather_webhooks` reads them."""

from collections import Counter, defaultdict
from typing import Any

from bench.chaos.checks.findings import Findings

FINALS = ("Completed", "Partial", "Canceled")


def check_webhooks(
    *, rows: list[dict], received: list[Any], orders: list[dict], findings: Findings
) -> None:
    """`rows`: the webhook outbox {event_id, type, data, status}; `received`: the deliveries
    {event_id, type, data, signed}; `orders`: the subscribed resellers' orders {id, status}."""
    by_id = {row["event_id"]: row for row in rows}
    seen: dict[str, Any] = {}
    for delivery in received:
        event_id = _get(delivery, "event_id")
        row = by_id.get(event_id)
        if not _get(delivery, "signed"):
            findings.violation(f"webhook {event_id} came with a wrong signature")
        if row is None:
            findings.violation(f"webhook {event_id} was delivered, but the panel never wrote it")
        elif (_get(delivery, "type"), _get(delivery, "data")) != (row["type"], row["data"]):
            findings.violation(
                f"webhook {event_id} was delivered as {_get(delivery, 'type')} "
                f"{_get(delivery, 'data')}, the panel wrote {row['type']} {row['data']}"
            )
        seen.setdefault(event_id, delivery)
    for row in rows:
        if row["status"] == "sent" and row["event_id"] not in seen:
            findings.violation(f"webhook {row['event_id']} is marked sent but never arrived")
    finished: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["type"] == "order.finished":
            finished[int(row["data"]["order"])].append(row)
    for order in orders:
        events = finished.get(order["id"], [])
        if order["status"] not in FINALS:
            if events:
                findings.violation(f"order {order['id']} is {order['status']} but was finished")
            continue
        if len({row["event_id"] for row in events}) != 1:
            findings.violation(
                f"order {order['id']} ended {order['status']} with "
                f"{len({row['event_id'] for row in events})} order.finished events"
            )
        elif events[0]["data"].get("status") != order["status"]:
            findings.violation(
                f"order {order['id']} ended {order['status']}, its order.finished event says "
                f"{events[0]['data'].get('status')}"
            )
    counts = Counter(_get(delivery, "event_id") for delivery in received)
    findings.figures["webhook_events_written"] = len(rows)
    findings.figures["webhook_events_received"] = len(seen)
    findings.figures["webhook_redeliveries"] = sum(n - 1 for n in counts.values())
    findings.figures["webhook_rows"] = dict(Counter(row["status"] for row in rows))


def _get(delivery: Any, name: str) -> Any:
    return delivery[name] if isinstance(delivery, dict) else getattr(delivery, name)


def gather_webhooks(user_ids: list[int]) -> tuple[list[dict], list[dict]]:
    from notifications.models import Channel, Notification
    from orders.models import Order

    rows = [
        {
            "event_id": payload.get("id"),
            "type": payload.get("type"),
            "data": payload.get("data"),
            "status": status,
        }
        for payload, status in Notification.objects.filter(
            channel=Channel.WEBHOOK, user_id__in=user_ids
        ).values_list("payload", "status")
    ]
    orders = list(Order.objects.filter(user_id__in=user_ids).values("id", "status"))
    return rows, orders
