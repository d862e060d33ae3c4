"""The admin dashboard: what the admin index shows to staff allowed to see it.

Permission: `panel.view_dashboard` (a custom permission on panel.DayFigures; superusers have
it). Staff without it get Django's plain index. The page only reads.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panel.dashboard.chart import Chart, build_chart
from panel.dashboard.figures import RangeFigures, deposits_by_gateway, range_figures
from panel.dashboard.live import HandsItem, ProviderCard, hands, provider_cards
from panel.dashboard.rollup import rolled_until

DASHBOARD_PERMISSION = "panel.view_dashboard"
MAX_DAYS = 366
PRESETS = {"today": 1, "7d": 7, "30d": 30}


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=[
            ("today", _("Today")),
            ("7d", _("7 days")),
            ("30d", _("30 days")),
            ("custom", _("Custom")),
        ],
        required=False,
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Give both dates of a custom range."))
            if start > end:
                raise forms.ValidationError(_("The range starts after it ends."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("At most %(days)s days.") % {"days": MAX_DAYS})
        return data


def date_range(params: QueryDict, today: date) -> tuple[RangeForm, date, date, str]:
    """The range asked for; anything invalid falls back to 7 days (and says why in the form)."""
    form = RangeForm(params or None)
    if form.is_valid() and form.cleaned_data.get("range") == "custom":
        return form, form.cleaned_data["start"], form.cleaned_data["end"], "custom"
    preset = form.cleaned_data.get("range") if form.is_valid() else ""
    preset = preset if preset in PRESETS else "7d"
    return form, today - timedelta(days=PRESETS[preset] - 1), today, preset


@dataclass
class Dashboard:
    form: RangeForm
    preset: str
    figures: RangeFigures
    chart: Chart
    deposits: list[tuple[str, Decimal]]
    hands: list[HandsItem]
    providers: list[ProviderCard]
    rolled_until: object


def dashboard_context(request: HttpRequest) -> Dashboard:
    today = timezone.localdate()
    form, start, end, preset = date_range(request.GET, today)
    figures = range_figures(start=start, end=end)
    return Dashboard(
        form=form,
        preset=preset,
        figures=figures,
        chart=build_chart(figures.per_day),
        deposits=deposits_by_gateway(start, end),
        hands=hands(),
        providers=provider_cards(),
        rolled_until=rolled_until(),
    )
