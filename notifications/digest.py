"""Operator alerts gathered into one Telegram message: a storm of events (a provider down, a
thousand orders to review) reads as a few lines per kind, not a message per event."""

from collections import defaultdict

from django.conf import settings

from notifications.models import Kind, Notification
from notifications.telegram import MAX_TEXT

ITEMS_PER_KIND = 15

_TITLES = {
    Kind.OPS_NEEDS_REVIEW: "🔎 Needs review",
    Kind.OPS_LOW_BALANCE: "💸 Provider balance low",
    Kind.OPS_CREDENTIALS: "🔑 Provider rejects the panel's key",
    Kind.OPS_NEW_TICKET: "💬 New tickets",
    Kind.OPS_DEPOSIT: "💰 Deposits credited",
    Kind.OPS_DEPOSIT_UNMATCHED: "❓ Deposits not matched to a customer",
    Kind.OPS_DAILY_REPORT: "📊 Daily report",
    Kind.OPS_SERVICES_HELD: "⏸ Held by the margin guard (approve or take off sale)",
    Kind.OPS_RECONCILIATION: "🧾 Provider books do not match (resolve each in the admin)",
}


def _line(row: Notification) -> str:
    data = row.payload
    match row.kind:
        case Kind.OPS_NEEDS_REVIEW:
            return f"{data.get('target')} {data.get('id')}: {data.get('message')}"
        case Kind.OPS_LOW_BALANCE:
            return f"{data.get('name')}: {data.get('balance')} (threshold {data.get('threshold')})"
        case Kind.OPS_CREDENTIALS:
            return f"{data.get('name')}: {data.get('message')}"
        case Kind.OPS_NEW_TICKET:
            return f"#{data.get('id')} {data.get('username')}: {data.get('subject')}"
        case Kind.OPS_DEPOSIT:
            return f"deposit {data.get('deposit_id')}: {data.get('amount')} {settings.PANEL_CURRENCY} (user {data.get('user_id')})"
        case Kind.OPS_SERVICES_HELD:
            return f"{data.get('name')}: {data.get('count')} held"
        case Kind.OPS_RECONCILIATION:
            return f"{data.get('name')} {data.get('day')}: {data.get('count')} to resolve"
        case Kind.OPS_DAILY_REPORT:
            return f"{data.get('day')}: {data.get('summary')}"
        case Kind.OPS_DEPOSIT_UNMATCHED:
            # What arrived, in the transfer's currency (VND), not the panel's.
            currency = data.get("currency", settings.PANEL_CURRENCY)
            return f"{data.get('gateway')} {data.get('reference')}: {data.get('amount')} {currency}"
    return row.key


def digest_text(rows: list[Notification]) -> str:
    """One message for all the rows: per kind, a count and the first few items."""
    by_kind: dict[str, list[Notification]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    parts = [settings.PANEL_NAME]
    for kind, title in _TITLES.items():
        items = by_kind.get(kind)
        if not items:
            continue
        lines = [f"{title}: {len(items)}"]
        lines += [f"• {_line(row)}"[:300] for row in items[:ITEMS_PER_KIND]]
        if len(items) > ITEMS_PER_KIND:
            lines.append(f"… and {len(items) - ITEMS_PER_KIND} more")
        parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
