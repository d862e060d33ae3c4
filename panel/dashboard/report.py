"""The daily report: yesterday's figures at midnight in TIME_ZONE, by email to staff and to the
operators' Telegram, both through the notifications outbox (staff_alert)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

from core.money import money_str
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
    summary: str  # one line for the operators' Telegram digest


def daily_report(day: date) -> Report:
    """The report in the panel's language (PANEL_LANGUAGE): its readers are the operators."""
    with translation.override(settings.LANGUAGE_CODE):
        return _daily_report(day)


def _row(label: str, value: str) -> str:
    return f"{label.ljust(11)} {value}"


def _daily_report(day: date) -> Report:
    figures = range_figures(start=day, end=day)
    totals = figures.totals
    margin = "—" if totals.margin is None else f"{totals.margin}%"
    currency = settings.PANEL_CURRENCY
    deposits = ", ".join(
        f"{label} {money_str(amount)}" for label, amount in deposits_by_gateway(day, day)
    )
    review, stuck = needs_review(), stuck_orders()
    values = {
        "revenue": money_str(totals.revenue),
        "cost": money_str(totals.cost),
        "profit": money_str(totals.profit),
        "currency": currency,
        "margin": margin,
        "orders": figures.orders,
        "new": figures.new_customers,
        "review": review,
        "stuck": stuck,
        "hours": settings.PANEL_STUCK_ORDER_HOURS,
    }
    lines = [
        f"{settings.PANEL_NAME}: {date_format(day, 'l d/m/Y')} ({settings.TIME_ZONE})",
        "",
        _row(gettext("Revenue"), f"{values['revenue']} {currency}"),
        _row(gettext("Cost"), f"{values['cost']} {currency}"),
        _row(gettext("Profit"), gettext("%(profit)s %(currency)s (margin %(margin)s)") % values),
        _row(gettext("Orders"), str(figures.orders)),
        _row(gettext("Customers"), gettext("%(new)s new") % values),
        _row(pgettext("daily report", "Deposits"), deposits),
        "",
        gettext("Needs review now: %(review)s") % values,
        gettext("Stuck orders now (not final after %(hours)s h): %(stuck)s") % values,
    ]
    summary = (
        gettext(
            "revenue %(revenue)s, cost %(cost)s, profit %(profit)s %(currency)s (%(margin)s); "
            "%(orders)s orders; needs review %(review)s; stuck %(stuck)s"
        )
        % values
    )
    return Report(body="\n".join(lines), summary=summary)


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
                telegram={"day": day.isoformat(), "summary": report.summary},
            ):
                raise ReportNotSent(f"the report of {day} reached nobody")
    except IntegrityError:
        return None
    return row
