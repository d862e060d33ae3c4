"""A deposit's English reason and coupon note become codes and parameters (core.memos,
payments.memos), shown in the reader's language. Every wording the panel wrote with figures is
parsed; a catalog id (written with gettext_noop, shown translated already) and an admin's words
stay as they are. Reversible: going back writes the English wording from the code."""

import re

from django.db import migrations

BATCH = 2000

_PAID = re.compile(r"^paid (?P<paid>\S+ \S+) for (?P<asked>\S+ \S+)$")
_PAID_LATE = re.compile(r"^paid after it was rejected \((?P<before>.*)\)$", re.S)
_BELOW = re.compile(r"^below the minimum of (?P<amount>\S+) VND$")
_ABOVE = re.compile(r"^above the maximum of (?P<amount>\S+) VND$")
_COUPON_APPLIED = re.compile(r"^Coupon (?P<code>\S+): bonus (?P<bonus>\S+)$")
_COUPON_NOT_APPLIED = re.compile(r"^Coupon (?P<code>\S+) not applied: (?P<reason>.*)$", re.S)


def parse_reason(text: str) -> tuple[str, dict] | None:
    """The code and parameters of a reason the panel wrote with figures; None otherwise."""
    if match := _PAID.match(text):
        return "paid_other_amount", match.groupdict()
    if match := _PAID_LATE.match(text):
        before = match["before"]
        parsed = parse_reason(before)
        earlier = {"code": "", "params": {}, "text": before}
        if parsed is not None:
            earlier = {"code": parsed[0], "params": parsed[1], "text": ""}
        return "paid_after_rejected", {"before": earlier}
    if match := _BELOW.match(text):
        return "below_minimum", match.groupdict()
    if match := _ABOVE.match(text):
        return "above_maximum", match.groupdict()
    return None


def parse_coupon_note(text: str) -> tuple[str, dict] | None:
    if match := _COUPON_APPLIED.match(text):
        return "coupon_applied", match.groupdict()
    if match := _COUPON_NOT_APPLIED.match(text):
        return "coupon_not_applied", match.groupdict()
    return None


ENGLISH = {
    "paid_other_amount": "paid {paid} for {asked}",
    "below_minimum": "below the minimum of {amount} VND",
    "above_maximum": "above the maximum of {amount} VND",
    "coupon_applied": "Coupon {code}: bonus {bonus}",
    "coupon_not_applied": "Coupon {code} not applied: {reason}",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def english(code: str, params: dict) -> str:
    if code == "paid_after_rejected":
        before = params.get("before") or {}
        earlier = before.get("text") or english(before.get("code", ""), before.get("params", {}))
        return f"paid after it was rejected ({earlier})"[:255]
    wording = ENGLISH.get(code)
    return code if wording is None else wording.format_map(_Blank(params))[:255]


def _batches(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _rewrite(deposits, column: str, parse) -> None:
    code, params = f"{column}_code", f"{column}_params"
    for rows in _batches(deposits.objects.filter(**{code: ""}).exclude(**{column: ""})):
        changed = []
        for row in rows:
            parsed = parse(getattr(row, column))
            if parsed is not None:
                setattr(row, code, parsed[0])
                setattr(row, params, parsed[1])
                setattr(row, column, "")
                changed.append(row)
        deposits.objects.bulk_update(changed, [column, code, params])


def forwards(apps, schema_editor):
    deposits = apps.get_model("payments", "Deposit")
    _rewrite(deposits, "reason", parse_reason)
    _rewrite(deposits, "coupon_note", parse_coupon_note)


def backwards(apps, schema_editor):
    deposits = apps.get_model("payments", "Deposit")
    for column in ("reason", "coupon_note"):
        code, params = f"{column}_code", f"{column}_params"
        for rows in _batches(deposits.objects.exclude(**{code: ""})):
            for row in rows:
                setattr(row, column, english(getattr(row, code), getattr(row, params)))
                setattr(row, code, "")
                setattr(row, params, {})
            deposits.objects.bulk_update(rows, [column, code, params])


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_deposit_reason_codes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
