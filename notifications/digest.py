"""Operator alerts gathered into one Telegram message: a storm of events (a provider down, a
thousand orders to review) reads as a few lines per kind, not a message per event. Written in
the panel's language (PANEL_LANGUAGE) when sent, from the rows' figures."""

from collections import defaultdict
from contextlib import suppress
from datetime import date

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from core import memos
from core.money import parse_money, percent_shown
from notifications.models import Kind, Notification
from notifications.telegram import MAX_TEXT

ITEMS_PER_KIND = 15

_TITLES = {
    Kind.OPS_NEEDS_REVIEW: ("🔎", _("Needs review")),
    Kind.OPS_LOW_BALANCE: ("💸", _("Provider balance low")),
    Kind.OPS_CREDENTIALS: ("🔑", _("Provider rejects the panel's key")),
    Kind.OPS_NEW_TICKET: ("💬", _("New tickets")),
    Kind.OPS_DEPOSIT: ("💰", _("Deposits credited")),
    Kind.OPS_DEPOSIT_UNMATCHED: ("❓", _("Deposits not matched to a customer")),
    Kind.OPS_DAILY_REPORT: ("📊", _("Daily report")),
    Kind.OPS_SERVICES_HELD: ("⏸", _("Held by the margin guard (approve or take off sale)")),
    Kind.OPS_RECONCILIATION: ("🧾", _("Provider books do not match (resolve each in the admin)")),
}
# What a needs-review alert names, in the reader's words.
_TARGETS = {"order": _("Order"), "product order": _("Product order"), "refill": _("Refill")}


def _review_note(data: dict) -> str:
    """The history note an alert carries: a memo (code and parameters) or older plain text."""
    return memos.render(
        str(data.get("message_code") or ""),
        data.get("message_params") or {},
        fallback=str(data.get("message") or ""),
    )


def _low_balance(data: dict) -> dict[str, object]:
    """A provider's balance and threshold as the reader writes them, both in the balance's
    currency: stored each with it, or (older rows) as the text "12.5 USD" and a bare figure."""
    _, currency = memos.amount_and_currency(data.get("balance"))
    shown = memos.money_formatter(currency=currency)
    return {
        "name": data.get("name"),
        "balance": shown(data.get("balance")),
        "threshold": shown(data.get("threshold")),
    }


def _with_amount(data: dict) -> dict[str, object]:
    """The row's amount in the currency stored with it: a credited deposit's is the customer's
    (a child panel's own), a transfer's what arrived. Rows from before a credited deposit kept
    its currency were all in the parent's."""
    currency = data.get("currency") or settings.PANEL_CURRENCY
    return {**data, "amount": memos.money_formatter(currency=currency)(data.get("amount"))}


def _counted(data: dict) -> dict[str, object]:
    return {**data, "count": memos.as_number(data.get("count"))}


def _daily_report(data: dict) -> str:
    """The day's figures (panel.dashboard.report) as the reader writes them. Rows from before
    the figures were stored carry the line as it was written then."""
    day = str(data.get("day") or "")
    with suppress(ValueError):
        day = date_format(date.fromisoformat(day), "d/m/Y")
    if "revenue" not in data:
        return f"{day}: {data.get('summary')}"
    money = memos.money_formatter()
    margin = data.get("margin")
    values = {
        "revenue": money(data.get("revenue")),
        "cost": money(data.get("cost")),
        "profit": money(data.get("profit")),
        "margin": "—" if margin is None else percent_shown(parse_money(margin)),
        "orders": memos.as_number(data.get("orders")),
        "review": memos.as_number(data.get("review")),
        "stuck": memos.as_number(data.get("stuck")),
    }
    summary = (
        gettext(
            "revenue %(revenue)s, cost %(cost)s, profit %(profit)s (%(margin)s); "
            "%(orders)s orders; needs review %(review)s; stuck %(stuck)s"
        )
        % values
    )
    return f"{day}: {summary}"


def _line(row: Notification) -> str:
    data = row.payload
    match row.kind:
        case Kind.OPS_NEEDS_REVIEW:
            target = str(_TARGETS.get(str(data.get("target")), data.get("target")))
            return f"{target} #{data.get('id')}: {_review_note(data)}"
        case Kind.OPS_LOW_BALANCE:
            return gettext("%(name)s: %(balance)s (threshold %(threshold)s)") % _low_balance(data)
        case Kind.OPS_CREDENTIALS:
            return f"{data.get('name')}: {data.get('message')}"
        case Kind.OPS_NEW_TICKET:
            return f"#{data.get('id')} {data.get('username')}: {data.get('subject')}"
        case Kind.OPS_DEPOSIT:
            values = _with_amount(data)
            return gettext("deposit #%(deposit_id)s: %(amount)s (user #%(user_id)s)") % values
        case Kind.OPS_SERVICES_HELD:
            line = gettext("%(name)s: %(count)s held") % _counted(data)
            # The held digest, where one click approves them all (rows before it had no link).
            return f"{line} {data['url']}" if data.get("url") else line
        case Kind.OPS_RECONCILIATION:
            return gettext("%(name)s %(day)s: %(count)s to resolve") % _counted(data)
        case Kind.OPS_DAILY_REPORT:
            return _daily_report(data)
        case Kind.OPS_DEPOSIT_UNMATCHED:
            # What arrived, in the transfer's currency (VND), not the panel's; the reporter by
            # its name in the reader's words (rows from before kept its code only).
            values = _with_amount(data)
            if name := data.get("gateway_name"):
                values["gateway"] = gettext(str(name))
            return gettext("%(amount)s via %(gateway)s (reference %(reference)s)") % values
    return row.key


def digest_text(rows: list[Notification]) -> str:
    """One message for all the rows: per kind, a count and the first few items."""
    by_kind: dict[str, list[Notification]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    parts = [settings.PANEL_NAME]
    with override(settings.LANGUAGE_CODE):
        for kind, (icon, title) in _TITLES.items():
            items = by_kind.get(kind)
            if not items:
                continue
            lines = [f"{icon} {title}: {len(items)}"]
            lines += [f"• {_line(row)}"[:300] for row in items[:ITEMS_PER_KIND]]
            if len(items) > ITEMS_PER_KIND:
                more = len(items) - ITEMS_PER_KIND
                lines.append(gettext("… and %(count)s more") % {"count": memos.as_number(more)})
            parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
