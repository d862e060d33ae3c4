"""The daily report: yesterday's figures at midnight in TIME_ZONE, by email to staff and to the
operators' Telegram, both through the notifications outbox (staff_alert)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

from core.memos import as_number, money_param
from core.money import money_shown, percent_shown
from notifications.models import Kind
from notifications.services import staff_alert
from orders.models import DispatchState, Order, OrderStatus, ProductOrder
from panel.dashboard.figures import deposits_by_gateway, range_figures
from panel.dashboard.rollup import dashboard_rollup
from panel.models import DailyReport


def stuck_orders() -> int:
    """Orders still not final long after they were placed (PANEL_STUCK_ORDER_HOURS)."""
    before = timezone.now() - timedelta(hours=settings.PANEL_STUCK_ORDER_HOURS)
    return (
        Order.objects.filter(
            dispatch_state__in=[DispatchState.QUEUED, DispatchState.SENDING, DispatchState.SENT],
            created_at__lt=before,
        )
        .exclude(status__in=OrderStatus.finals())
        .count()
    )


def needs_review() -> int:
    return sum(
        model.objects.filter(dispatch_state=DispatchState.NEEDS_REVIEW).count()
        for model in (Order, ProductOrder)
    )


@dataclass(frozen=True)
class Report:
    body: str  # the email
    # The day's figures for the operators' Telegram digest, which writes them in its reader's
    # language when it is sent (notifications.digest), not in the language of this moment.
    figures: dict[str, object]


def daily_report(day: date) -> Report:
    """The report in the panel's language (PANEL_LANGUAGE): its readers are the operators."""
    with translation.override(settings.LANGUAGE_CODE):
        return _daily_report(day)


def _row(label: str, value: str) -> str:
    return f"{label.ljust(11)} {value}"


def _daily_report(day: date) -> Report:
    figures = range_figures(start=day, end=day)
    totals = figures.totals
    currency = settings.PANEL_CURRENCY
    data: dict[str, object] = {
        "day": day.isoformat(),
        "revenue": money_param(totals.revenue, currency=currency),
        "cost": money_param(totals.cost, currency=currency),
        "profit": money_param(totals.profit, currency=currency),
        "margin": None if totals.margin is None else str(totals.margin),
        "orders": figures.orders,
        "review": needs_review(),
        "stuck": stuck_orders(),
    }
    values = {
        "profit": money_shown(totals.profit, currency=currency),
        "margin": "—" if totals.margin is None else percent_shown(totals.margin),
        "new": as_number(figures.new_customers),
        "review": as_number(data["review"]),
        "stuck": as_number(data["stuck"]),
        "hours": settings.PANEL_STUCK_ORDER_HOURS,
    }
    deposits = ", ".join(
        f"{label} {money_shown(amount, currency=currency)}"
        for label, amount in deposits_by_gateway(day, day)
    )
    lines = [
        f"{settings.PANEL_NAME}: {date_format(day, 'l d/m/Y')} ({settings.TIME_ZONE})",
        "",
        _row(gettext("Revenue"), money_shown(totals.revenue, currency=currency)),
        _row(gettext("Cost"), money_shown(totals.cost, currency=currency)),
        _row(gettext("Profit"), gettext("%(profit)s (margin %(margin)s)") % values),
        _row(gettext("Orders"), as_number(figures.orders)),
        _row(gettext("Customers"), gettext("%(new)s new") % values),
        _row(pgettext("daily report", "Deposits"), deposits),
        "",
        gettext("Needs review now: %(review)s") % values,
        gettext("Stuck orders now (not final after %(hours)s h): %(stuck)s") % values,
    ]
    return Report(body="\n".join(lines), figures=data)


def _report_subject(day: date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Daily report %(day)s") % {"day": date_format(day, "d/m/Y")}


class ReportNotSent(Exception):
    """No message went out (no staff address, or the mail server failed): retry later."""


def daily_report_send(*, day: date | None = None) -> DailyReport | None:
    """Send the report of `day` (yesterday by default) once, by email to staff and to the
    operators' Telegram when it is configured (through the outbox, which retries a mail server
    outage). A second call for the same day, from a beat restart or a retry after success,
    sends nothing and returns None. When nobody would get it (no staff address, no Telegram)
    the claim is rolled back and ReportNotSent raised, so a retry sends it."""
    day = day or timezone.localdate() - timedelta(days=1)
    dashboard_rollup()
    report = daily_report(day)
    try:
        with transaction.atomic():
            row = DailyReport.objects.create(day=day, body=report.body)
            if not staff_alert(
                key=f"daily-report:{day.isoformat()}",
                kind=Kind.OPS_DAILY_REPORT,
                subject=_report_subject(day),
                body=report.body,
                telegram=report.figures,
            ):
                raise ReportNotSent(f"the report of {day} reached nobody")
    except IntegrityError:
        return None
    return row
