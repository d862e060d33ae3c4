"""Rows in a transient state, and the outbox against what was really sent.

- No row stays in a transient state longer than the period of the sweeper that moves it on
  (plus that sweeper's own period): a forward `sending`, an outbox row `claimed` or `sending`,
  a commission waiting to settle, a queued order whose forward is due.
- No notification was sent twice: every email the panel handed to its mail backend (a file per
  message here) is matched by an outbox row that went out (`sent`), or that may have
  (`sending`, `unknown`); a second email for one row, or an email for a row a database crash
  took back, is one too many."""

from collections import Counter
from datetime import datetime
from email import message_from_string
from pathlib import Path

from bench.chaos.checks.findings import Findings

MAY_HAVE_GONE = ("sent", "sending", "unknown")


def check_transient(rows: list[dict], now: datetime, findings: Findings) -> None:
    """`rows`: {what, id, since, limit} with `limit` in seconds."""
    worst: dict[str, float] = {}
    for row in rows:
        age = (now - row["since"]).total_seconds()
        worst[row["what"]] = max(worst.get(row["what"], 0.0), round(age, 1))
        if age > row["limit"]:
            findings.violation(
                f"{row['what']} {row['id']} has been so for {age:.0f} s "
                f"(its sweeper moves it on within {row['limit']:.0f} s)"
            )
    findings.figures["transient_oldest_seconds"] = worst


def check_emails(sent: Counter[str], outbox: Counter[str], findings: Findings) -> None:
    """`sent`: emails written per recipient; `outbox`: rows that went out or may have, per
    recipient."""
    for address, count in sorted(sent.items()):
        if count > outbox.get(address, 0):
            findings.violation(
                f"{count} emails went to {address}, but only {outbox.get(address, 0)} "
                "outbox rows were sent: a notification went out twice"
            )
    findings.figures["emails_sent"] = sum(sent.values())
    findings.figures["outbox_rows_out"] = sum(outbox.values())


def emails_in(folder: Path) -> Counter[str]:
    """Recipients of every message Django's file backend wrote (messages are separated by a
    line of 79 dashes)."""
    counts: Counter[str] = Counter()
    for file in folder.glob("*.log"):
        for text in file.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
            if text.strip():
                for address in (message_from_string(text.strip()).get("To") or "").split(","):
                    counts[address.strip()] += 1
    return counts


def gather_outbox() -> Counter[str]:
    from notifications.models import Channel, Notification

    rows = Notification.objects.filter(channel=Channel.EMAIL, status__in=MAY_HAVE_GONE)
    return Counter(rows.values_list("user__email", flat=True))


def gather_transient(now: datetime) -> list[dict]:
    from datetime import timedelta

    from django.conf import settings

    from affiliates.models import Commission
    from notifications.models import Notification
    from orders.models import CancelRequest, DispatchState, Order, ProductOrder, Refill

    sweep = settings.PANEL_DISPATCH_SWEEP_SECONDS
    sending_limit = settings.CELERY_TASK_TIME_LIMIT + 60 + 2 * sweep
    rows = []
    for model in (Order, Refill, CancelRequest, ProductOrder):
        for pk, since in model.objects.filter(dispatch_state=DispatchState.SENDING).values_list(
            "pk", "sending_started_at"
        ):
            rows.append(
                {
                    "what": f"{model.__name__} sending",
                    "id": pk,
                    "since": since,
                    "limit": sending_limit,
                }
            )
    # A queued forward that is due: beat's forwarding sweep queues it within a second, and the
    # sweeper skips a row it queued for three of its periods.
    queued_limit = 4 * sweep + 2 * settings.PANEL_FORWARD_SWEEP_SECONDS
    for pk, since in Order.objects.filter(
        dispatch_state=DispatchState.QUEUED, next_dispatch_at__lt=now - timedelta(seconds=1)
    ).values_list("pk", "next_dispatch_at"):
        rows.append(
            {"what": "Order queued and due", "id": pk, "since": since, "limit": queued_limit}
        )
    # An outbox row whose lease ran out goes back (claimed) or to unknown (sending) at the next
    # sender run.
    for pk, until in Notification.objects.filter(status__in=["claimed", "sending"]).values_list(
        "pk", "lease_until"
    ):
        rows.append(
            {
                "what": "Notification claimed or sending",
                "id": pk,
                "since": until,
                "limit": 2 * settings.PANEL_NOTIFICATIONS_SECONDS,
            }
        )
    settle = 2 * 60 * settings.PANEL_AFFILIATE_SETTLE_MINUTES
    for pk, since in Commission.objects.filter(status="pending", settle_at__lt=now).values_list(
        "pk", "settle_at"
    ):
        rows.append({"what": "Commission due to settle", "id": pk, "since": since, "limit": settle})
    return rows
