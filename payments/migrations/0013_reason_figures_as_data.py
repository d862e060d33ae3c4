"""Figures a deposit's reason or coupon note kept as English text become data, written in the
reader's language when shown (core.memos):

- a "paid other amount" reason's "1.00 USD" becomes an amount with its own currency
  ({"amount": "1", "currency": "USD"}, core.memos.money_param), also inside a paid-after-
  rejection reason, which keeps the reason before it;
- a coupon note's "This coupon needs a deposit of at least 100000.000000" becomes the memo
  coupon_needs_deposit with its amount.

Reversible: going back writes the text again."""

import re
from decimal import Decimal, InvalidOperation

from django.db import migrations

BATCH = 2000
PAID = "paid_other_amount"
LATE = "paid_after_rejected"
FIGURES = ("paid", "asked")
NOT_APPLIED = "coupon_not_applied"
NEEDS_DEPOSIT = "coupon_needs_deposit"
_NEEDS_DEPOSIT = re.compile(r"^This coupon needs a deposit of at least (?P<amount>\S+)$")


def _number(text: str) -> str | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    normalized = format(amount.normalize(), "f")
    return "0" if normalized == "-0" else normalized


def _money_as_data(value):
    """{"amount", "currency"} from "1.00 USD"; anything else (already data) as it is."""
    if not isinstance(value, str) or len(words := value.split()) != 2:
        return value
    amount = _number(words[0])
    return value if amount is None else {"amount": amount, "currency": words[1].upper()}


def _money_as_text(value):
    if not isinstance(value, dict):
        return value
    return f"{value.get('amount', '')} {value.get('currency', '')}"


def _paid_params(code: str, params: dict, convert) -> dict:
    if code == PAID:
        return {**params, **{name: convert(params[name]) for name in FIGURES if name in params}}
    before = params.get("before")
    if code == LATE and isinstance(before, dict) and before.get("code") == PAID:
        inner = _paid_params(PAID, before.get("params") or {}, convert)
        return {**params, "before": {**before, "params": inner}}
    return params


def _coupon_reason_as_data(reason):
    if isinstance(reason, str) and (match := _NEEDS_DEPOSIT.match(reason)):
        amount = _number(match["amount"])
        if amount is not None:
            return {"code": NEEDS_DEPOSIT, "params": {"amount": amount}}
    return reason


def _coupon_reason_as_text(reason):
    if isinstance(reason, dict) and reason.get("code") == NEEDS_DEPOSIT:
        amount = (reason.get("params") or {}).get("amount", "")
        return f"This coupon needs a deposit of at least {amount}"
    return reason


def _coupon_params(code: str, params: dict, convert) -> dict:
    if code != NOT_APPLIED or "reason" not in params:
        return params
    return {**params, "reason": convert(params["reason"])}


def _rewrite(apps, column: str, codes: tuple[str, ...], rewrite) -> None:
    code, params = f"{column}_code", f"{column}_params"
    deposits = apps.get_model("payments", "Deposit").objects
    rows_with_figures = deposits.filter(**{f"{code}__in": codes}).order_by("pk")
    last = 0
    while rows := list(rows_with_figures.filter(pk__gt=last)[:BATCH]):
        changed = []
        for row in rows:
            before = getattr(row, params) or {}
            after = rewrite(getattr(row, code), before)
            if after != before:
                setattr(row, params, after)
                changed.append(row)
        deposits.bulk_update(changed, [params])
        last = rows[-1].pk


def forwards(apps, schema_editor):
    _rewrite(apps, "reason", (PAID, LATE), lambda c, p: _paid_params(c, p, _money_as_data))
    _rewrite(
        apps,
        "coupon_note",
        (NOT_APPLIED,),
        lambda c, p: _coupon_params(c, p, _coupon_reason_as_data),
    )


def backwards(apps, schema_editor):
    _rewrite(apps, "reason", (PAID, LATE), lambda c, p: _paid_params(c, p, _money_as_text))
    _rewrite(
        apps,
        "coupon_note",
        (NOT_APPLIED,),
        lambda c, p: _coupon_params(c, p, _coupon_reason_as_text),
    )


class Migration(migrations.Migration):
    dependencies = [("payments", "0012_exchange_rate_label")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
