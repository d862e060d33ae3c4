"""Revenue, cost and profit per day as a server-rendered SVG line chart (no JavaScript, no CDN).

Only coordinates are computed here; templates/admin/panel/_chart.svg.html draws them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from core.money import ZERO, amount_text

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 16, 40
TICKS = 4


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right_edge: int
    lines: list[tuple[str, str, str]]  # (css class, label, "x,y x,y …")
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str, str]]  # (x, label, text-anchor)
    zero_y: float
    dots: list[tuple[str, float, float, str]]  # (css class, x, y, title) for hover titles


def _nice_step(span: Decimal) -> Decimal:
    raw = span / TICKS if span > 0 else Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.01")
    for factor in (1, 2, 5, 10):
        if magnitude * factor >= raw:
            return magnitude * factor
    return magnitude * 10


def high_of(values: list[Decimal]) -> Decimal:
    return max(max(values), ZERO)


def build_chart(per_day: Sequence[tuple[date, Any]]) -> Chart:
    series = {
        "revenue": [m.revenue for _, m in per_day],
        "cost": [m.cost for _, m in per_day],
        "profit": [m.profit for _, m in per_day],
    }
    values = [v for points in series.values() for v in points] or [ZERO]
    step = _nice_step(max(values) - min(min(values), ZERO))
    # The axis reaches just below the lowest value: a small loss on one day must not add a
    # whole empty band of gridlines under the zero line.
    low = min(min(values), ZERO)
    low -= (high_of(values) - low) / 40 if low < ZERO else ZERO
    high = max(max(values), step)
    high = (high / step).to_integral_value(rounding="ROUND_CEILING") * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(per_day) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + plot_w * index / count, 1)

    def y(value: Decimal) -> float:
        return round(TOP + plot_h * float((high - value) / (high - low)), 1)

    labels = {"revenue": "Revenue", "cost": "Cost", "profit": "Profit"}
    language = translation.get_language() or settings.LANGUAGE_CODE

    def figure(value: Decimal) -> str:
        return amount_text(value, currency=settings.PANEL_CURRENCY, language=language)

    lines = [
        (name, labels[name], " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(points)))
        for name, points in series.items()
    ]
    ticks = []
    tick = (low / step).to_integral_value(rounding="ROUND_CEILING") * step
    while tick <= high:
        ticks.append((y(tick), figure(tick)))
        tick += step
    every = max(len(per_day) // 7, 1)
    last = len(per_day) - 1
    x_labels = [
        # The last label ends at the plot's edge instead of running past it.
        (x(i), day.strftime("%d/%m"), "end" if i == last and i else "middle")
        for i, (day, _) in enumerate(per_day)
        if i % every == 0
    ]
    dots = (
        [
            (name, x(i), y(v), f"{per_day[i][0]:%d/%m} {gettext(labels[name])} {figure(v)}")
            for name, points in series.items()
            for i, v in enumerate(points)
        ]
        if len(per_day) <= 31
        else []
    )
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, lines, ticks, x_labels, y(ZERO), dots)
