"""The Telegram bot under chaos: a double tap placed once, and every update taken once.

- Every order placed through the bot has a link the chat asked for, and no link has two
  orders, though every *Place order* was tapped twice at once (client.py's "one link, one
  order" holds the same for every client; this names the bot's).
- Every update Telegram sent (some again, after a dropped connection or a 5xx) is one stored
  update, whatever the resends; each is handled, or still within the sweep that queues an
  update whose task was lost (its period plus the minute it waits).

Each check takes plain rows, so a test can plant a violation; `gather_telegram` reads them."""

from collections import Counter
from datetime import datetime

from bench.chaos.checks.findings import Findings


def check_telegram(
    *,
    links: set[str],
    orders: list[dict],
    posted: list[int],
    updates: list[dict],
    now: datetime,
    sweep_seconds: float,
    findings: Findings,
) -> None:
    """`links`: the links the chat asked for; `orders`: the bot's orders {id, link};
    `posted`: every update_id sent, resends included; `updates`: the stored updates
    {update_id, handled, received_at}."""
    per_link = Counter(order["link"] for order in orders)
    for order in orders:
        if order["link"] not in links:
            findings.violation(f"order {order['id']} came through the bot for {order['link']}")
    for link, count in sorted(per_link.items()):
        if count > 1:
            findings.violation(f"{link} was placed {count} times through the bot (a double tap)")
    stored = Counter(update["update_id"] for update in updates)
    for update_id in sorted(set(posted)):
        if stored[update_id] != 1:
            findings.violation(f"update {update_id} was stored {stored[update_id]} times")
    for update in updates:
        age = (now - update["received_at"]).total_seconds()
        if not update["handled"] and age > sweep_seconds:
            findings.violation(
                f"update {update['update_id']} has waited {age:.0f} s unhandled "
                f"(the sweep queues it within {sweep_seconds:.0f} s)"
            )
    findings.figures["telegram_orders"] = len(orders)
    findings.figures["telegram_updates"] = len(updates)
    findings.figures["telegram_updates_resent"] = len(posted) - len(set(posted))
    findings.figures["telegram_updates_unhandled"] = sum(not u["handled"] for u in updates)


def gather_telegram() -> tuple[list[dict], list[dict]]:
    from bot.models import BotUpdate
    from orders.models import Order

    orders = list(Order.objects.filter(source="telegram").values("id", "link"))
    updates = [
        {"update_id": update_id, "handled": handled is not None, "received_at": received}
        for update_id, handled, received in BotUpdate.objects.values_list(
            "update_id", "handled_at", "received_at"
        )
    ]
    return orders, updates
