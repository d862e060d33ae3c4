"""A "paid other amount" reason's figures were stored as English text ("1.00 USD"); each becomes
an amount with its own currency ({"amount": "1", "currency": "USD"}, core.memos.money_param),
written in the reader's language when shown. Also inside a paid-after-rejection reason, which
keeps the reason before it. Reversible: going back writes the text again."""

from decimal import Decimal, InvalidOperation

from django.db import migrations

BATCH = 2000
CODE = "paid_other_amount"
LATE = "paid_after_rejected"
FIGURES = ("paid", "asked")


def _as_data(value):
    """{"amount", "currency"} from "1.00 USD"; anything else (already data) as it is."""
    if not isinstance(value, str) or len(words := value.split()) != 2:
        return value
    try:
        amount = Decimal(words[0])
    except InvalidOperation:
        return value
    if not amount.is_finite():
        return value
    text = format(amount.normalize(), "f")
    return {"amount": "0" if text == "-0" else text, "currency": words[1].upper()}


def _as_text(value):
    if not isinstance(value, dict):
        return value
    return f"{value.get('amount', '')} {value.get('currency', '')}"


def _converted(code: str, params: dict, convert) -> dict:
    if code == CODE:
        return {**params, **{name: convert(params[name]) for name in FIGURES if name in params}}
    before = params.get("before")
    if code == LATE and isinstance(before, dict) and before.get("code") == CODE:
        inner = _converted(CODE, before.get("params") or {}, convert)
        return {**params, "before": {**before, "params": inner}}
    return params


def _rewrite(apps, convert) -> None:
    deposits = apps.get_model("payments", "Deposit").objects
    rows_with_figures = deposits.filter(reason_code__in=(CODE, LATE)).order_by("pk")
    last = 0
    while rows := list(rows_with_figures.filter(pk__gt=last)[:BATCH]):
        changed = []
        for row in rows:
            params = _converted(row.reason_code, row.reason_params or {}, convert)
            if params != row.reason_params:
                row.reason_params = params
                changed.append(row)
        deposits.bulk_update(changed, ["reason_params"])
        last = rows[-1].pk


def forwards(apps, schema_editor):
    _rewrite(apps, _as_data)


def backwards(apps, schema_editor):
    _rewrite(apps, _as_text)


class Migration(migrations.Migration):
    dependencies = [("payments", "0012_exchange_rate_label")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
