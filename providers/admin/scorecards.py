"""The scorecard as the admin shows it on a service's and a route's page (orders.scorecard
computes it; this only reads)."""

from django.conf import settings
from django.utils.html import format_html, format_html_join

from providers.delivery_time import NO_FIGURE, duration_text
from providers.models import Scorecard


def _time(seconds: int | None) -> str:
    return NO_FIGURE if seconds is None else duration_text(seconds)


def _percent(value: object) -> str:
    return NO_FIGURE if value is None else f"{value} %"


def scorecard_html(score: Scorecard | None) -> str:
    """Every figure with the sample behind it; a dash below PANEL_SCORECARD_MIN_ORDERS."""
    days, minimum = settings.PANEL_SCORECARD_DAYS, settings.PANEL_SCORECARD_MIN_ORDERS
    if score is None:
        return f"No finished order in the last {days} days."
    rows = [
        ("Finished orders", str(score.orders)),
        (
            "Start: median / 90th percentile",
            f"{_time(score.start_p50_seconds)} / {_time(score.start_p90_seconds)} "
            f"({score.started} orders)",
        ),
        (
            "Completion per 1,000: median / 90th percentile",
            f"{_time(score.complete_p50_seconds)} / {_time(score.complete_p90_seconds)} "
            f"({score.completed} orders)",
        ),
        ("Partial rate", f"{_percent(score.partial_percent)} ({score.partial} partial)"),
        (
            "Refill success rate",
            f"{_percent(score.refill_success_percent)} ({score.refills} finished refills)",
        ),
    ]
    table = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    return format_html(
        '<table class="scorecard">{}</table><p class="help">Orders placed in the last {} days; '
        "a figure needs {} orders (refills). Computed {}.</p>",
        table,
        days,
        minimum,
        score.computed_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


def completion_p90_text(score: Scorecard | None) -> str:
    return _time(None if score is None else score.complete_p90_seconds)
