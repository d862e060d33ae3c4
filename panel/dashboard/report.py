"""The daily report: yesterday's figures by email (staff_alert) at midnight in TIME_ZONE."""

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.money import money_str
from orders.models import FINAL_ORDER_STATUSES, DispatchState, Order, ProductOrder
from panel.dashboard.figures import deposits_by_gateway, range_figures
from panel.dashboard.rollup import dashboard_rollup
from panel.models import DailyReport
from providers.alerts import staff_alert


def stuck_orders() -> int:
    """Orders still not final long after they were placed (PANEL_STUCK_ORDER_HOURS)."""
    before = timezone.now() - timedelta(hours=settings.PANEL_STUCK_ORDER_HOURS)
    return (
        Order.objects.filter(
            dispatch_state__in=[DispatchState.QUEUED, DispatchState.SENDING, DispatchState.SENT],
            created_at__lt=before,
        )
        .exclude(status__in=FINAL_ORDER_STATUSES)
        .count()
    )


def needs_review() -> int:
    return sum(
        model.objects.filter(dispatch_state=DispatchState.NEEDS_REVIEW).count()
        for model in (Order, ProductOrder)
    )


def daily_report_text(day: date) -> str:
    figures = range_figures(start=day, end=day)
    totals = figures.totals
    margin = "—" if totals.margin is None else f"{totals.margin}%"
    currency = settings.PANEL_CURRENCY
    lines = [
        f"{settings.PANEL_NAME}: {day:%A %d %B %Y} ({settings.TIME_ZONE})",
        "",
        f"Revenue     {money_str(totals.revenue)} {currency}",
        f"Cost        {money_str(totals.cost)} {currency}",
        f"Profit      {money_str(totals.profit)} {currency} (margin {margin})",
        f"Orders      {figures.orders}",
        f"Customers   {figures.new_customers} new",
        "Deposits    "
        + ", ".join(
            f"{label} {money_str(amount)}" for label, amount in deposits_by_gateway(day, day)
        ),
        "",
        f"Needs review now: {needs_review()}",
        f"Stuck orders now (not final after {settings.PANEL_STUCK_ORDER_HOURS} h): {stuck_orders()}",
    ]
    return "\n".join(lines)


class ReportNotSent(Exception):
    """No message went out (no staff address, or the mail server failed): retry later."""


def daily_report_send(*, day: date | None = None) -> DailyReport | None:
    """Send the report of `day` (yesterday by default) once: a second call for the same day,
    from a beat restart or a retry after success, sends nothing and returns None. A failed
    send rolls the claim back and raises ReportNotSent, so a retry sends it."""
    day = day or timezone.localdate() - timedelta(days=1)
    dashboard_rollup()
    body = daily_report_text(day)
    try:
        with transaction.atomic():
            report = DailyReport.objects.create(day=day, body=body)
            if not staff_alert(subject=f"Daily report {day:%Y-%m-%d}", body=body):
                raise ReportNotSent(f"the report of {day} reached nobody")
    except IntegrityError:
        return None
    return report
