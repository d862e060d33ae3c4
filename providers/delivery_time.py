"""How a service's average delivery time reads on a page ("2 h 15 min", "Not enough data")."""

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
