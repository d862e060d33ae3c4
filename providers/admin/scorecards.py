"""The scorecard as the admin shows it on a service's and a route's page (orders.scorecard
computes it; this only reads)."""

from decimal import Decimal

from django.conf import settings
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from providers.delivery_time import NO_FIGURE, duration_text
from providers.models import Scorecard


def _time(seconds: int | None) -> str:
    return NO_FIGURE if seconds is None else duration_text(seconds)


def _percent(value: Decimal | None) -> str:
    return NO_FIGURE if value is None else f"{number_format(value, 1)}%"


def scorecard_html(score: Scorecard | None) -> str:
    """Every figure with the sample behind it; a dash below PANEL_SCORECARD_MIN_ORDERS."""
    days, minimum = settings.PANEL_SCORECARD_DAYS, settings.PANEL_SCORECARD_MIN_ORDERS
    if score is None:
        return _("No finished order in the last %(days)d days.") % {"days": days}
    rows = [
        (_("Finished orders"), str(score.orders)),
        (
            _("Start: median / 90th percentile"),
            f"{_time(score.start_p50_seconds)} / {_time(score.start_p90_seconds)} "
            f"({_sample(score.started)})",
        ),
        (
            _("Completion per 1000: median / 90th percentile"),
            f"{_time(score.complete_p50_seconds)} / {_time(score.complete_p90_seconds)} "
            f"({_sample(score.completed)})",
        ),
        (_("Partial rate"), f"{_percent(score.partial_percent)} ({_sample(score.partial)})"),
        (
            _("Refill success rate"),
            f"{_percent(score.refill_success_percent)} ({_refills(score.refills)})",
        ),
    ]
    table = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    note = _(
        "Orders placed in the last %(days)d days; a figure needs %(minimum)d orders (refills)."
    ) % {"days": days, "minimum": minimum}
    return format_html(
        '<table class="scorecard">{}</table><p class="help">{} {}</p>',
        table,
        note,
        date_format(localtime(score.computed_at), "SHORT_DATETIME_FORMAT"),
    )


def _sample(count: int) -> str:
    return ngettext("%(count)d order", "%(count)d orders", count) % {"count": count}


def _refills(count: int) -> str:
    return ngettext("%(count)d refill", "%(count)d refills", count) % {"count": count}


def completion_p90_text(score: Scorecard | None) -> str:
    return _time(None if score is None else score.complete_p90_seconds)
