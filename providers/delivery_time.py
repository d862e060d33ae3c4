"""How a service's delivery times read on a page: the average ("2 h 15 min", "Not enough data")
and the scorecard ("usually starts in 10 min, 1000 done in 3 h"; a dash below its minimum
sample: no provider states a speed in the v2 catalog, docs/protocol.md)."""

from decimal import Decimal

from django.utils.translation import gettext as _

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return _("Not enough data")
    if seconds < MINUTE:
        return _("under a minute")
    if seconds < HOUR:
        return _("%(m)d min") % {"m": seconds // MINUTE}
    if seconds < DAY:
        hours, minutes = divmod(seconds // MINUTE, 60)
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    days, hours = divmod(seconds // HOUR, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


NO_FIGURE = "—"


def rough_duration_text(seconds: int) -> str:
    """A duration as a person says what usually happens: "10 min", "2 h 15 min" (minutes to
    the nearest 5, under 10 hours), "14 h", "2 d 4 h"."""
    if seconds < MINUTE:
        return _("under a minute")
    if seconds < HOUR:
        return _("%(m)d min") % {"m": round(seconds / MINUTE)}
    if seconds < 10 * HOUR:
        hours, minutes = divmod(round(seconds / MINUTE / 5) * 5, 60)
        if minutes == 0:
            return _("%(h)d h") % {"h": hours}
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if seconds < DAY:
        return _("%(h)d h") % {"h": round(seconds / HOUR)}
    days, hours = divmod(round(seconds / HOUR), 24)
    if hours == 0:
        return _("%(d)d d") % {"d": days}
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


def usual_time_text(*, start: int | None, done: int | None, is_package: bool) -> str:
    """ "usually starts in 10 min, 1000 done in 3 h" from the scorecard's medians (the done
    figure is per 1,000 units, per order for packages); a dash when neither is measured."""
    parts = {
        "start": rough_duration_text(start) if start is not None else "",
        "done": rough_duration_text(done) if done is not None else "",
    }
    if start is not None and done is not None:
        if is_package:
            return _("usually starts in %(start)s, done in %(done)s") % parts
        return _("usually starts in %(start)s, 1000 done in %(done)s") % parts
    if start is not None:
        return _("usually starts in %(start)s") % parts
    if done is not None:
        if is_package:
            return _("usually done in %(done)s") % parts
        return _("1000 usually done in %(done)s") % parts
    return NO_FIGURE


def slow_time_text(*, done_p90: int | None, is_package: bool) -> str:
    """The 90th percentile of completion: "9 in 10 done within 5 h" (per 1,000 units)."""
    if done_p90 is None:
        return NO_FIGURE
    time = {"time": rough_duration_text(done_p90)}
    if is_package:
        return _("9 in 10 done within %(time)s") % time
    return _("9 in 10 done within %(time)s per 1000") % time


def percent_text(value: Decimal | None) -> str:
    return NO_FIGURE if value is None else f"{round(value)}%"
