"""The ledger's English memos become codes and parameters (core.memos), so they are shown in the
reader's language. Every wording the panel ever wrote is parsed (from its history); what does
not parse (an admin's reason, "bench") stays as typed. Reversible: going back writes the old
English wording from the code."""

import re

from django.db import migrations

BATCH = 2000

# Gateway labels as the memos wrote them (payments.models.Gateway), back to their codes.
GATEWAYS = {
    "Bank transfer (SePay)": "sepay",
    "Bank transfer (Casso)": "casso",
    "Card (Stripe)": "stripe",
    "Crypto (Cryptomus)": "cryptomus",
    "Manual (admin)": "manual",
}
# Final statuses as the refund memos wrote them (lower case), back to the stored values.
STATUSES = {
    name.lower(): name
    for name in ("Pending", "Processing", "In progress", "Completed", "Partial", "Canceled")
} | {"rejected": "Rejected"}

_ORDER = re.compile(r"^Order (?P<id>\d+)(?:: (?P<item>.*))?$", re.S)
_PRODUCT_ORDER = re.compile(r"^Product order (?P<id>\d+)(?:: (?P<item>.*))?$", re.S)
_REFUND = re.compile(
    r"^Refund for (?P<what>order|product order|refill) (?P<id>\d+)(?: \((?P<status>[^()]+)\))?$"
)
_DEPOSIT = re.compile(r"^Deposit: (?P<gateway>.+?) #(?P<id>\d+)(?: \((?P<note>.*)\))?$", re.S)
_OTHER_AMOUNT = re.compile(
    r"^(?P<credited>[\d.]+) instead of (?P<arrived>[\d.]+|\?): (?P<reason>.*) \((?P<admin>[^()]*)\)$",
    re.S,
)
_BONUS = re.compile(r"^Bonus on (?P<gateway>.+?) #(?P<id>\d+)$")
_COUPON = re.compile(r"^Coupon (?P<code>\S+) on deposit (?P<deposit>.+)$", re.S)
_REFUND_CODES = {
    "order": "order_refund",
    "product order": "product_order_refund",
    "refill": "refill_refund",
}


def _deposit(match: re.Match) -> tuple[str, dict] | None:
    gateway = GATEWAYS.get(match["gateway"])
    if gateway is None:
        return None
    params = {"gateway": gateway, "id": int(match["id"])}
    if match["note"] is None:
        return "deposit", params
    other = _OTHER_AMOUNT.match(match["note"])
    if other is None:
        return None
    return "deposit_other_amount", {**params, **other.groupdict()}


def parse_memo(memo: str) -> tuple[str, dict] | None:
    """The code and parameters of a memo the panel wrote; None for a person's own words."""
    if memo == "Opening balance":
        return "opening_balance", {}
    if match := _ORDER.match(memo):
        return "order_charge", {"id": int(match["id"]), "item": match["item"] or ""}
    if match := _PRODUCT_ORDER.match(memo):
        return "product_order_charge", {"id": int(match["id"]), "item": match["item"] or ""}
    if match := _REFUND.match(memo):
        status = STATUSES.get((match["status"] or "").lower(), match["status"] or "")
        return _REFUND_CODES[match["what"]], {"id": int(match["id"]), "status": status}
    if match := _DEPOSIT.match(memo):
        return _deposit(match)
    if match := _BONUS.match(memo):
        gateway = GATEWAYS.get(match["gateway"])
        return None if gateway is None else ("deposit_bonus", {"gateway": gateway, "id": int(match["id"])})
    if match := _COUPON.match(memo):
        return "coupon_bonus", {"code": match["code"], "deposit": match["deposit"]}
    return None


# The wording the panel wrote before, per code: what going back writes.
ENGLISH = {
    "opening_balance": "Opening balance",
    "order_charge": "Order {id}: {item}",
    "product_order_charge": "Product order {id}: {item}",
    "order_refund": "Refund for order {id} ({status_lower})",
    "product_order_refund": "Refund for product order {id} ({status_lower})",
    "refill_refund": "Refund for refill {id} ({status_lower})",
    "deposit": "Deposit: {gateway_label} #{id}",
    "deposit_other_amount": (
        "Deposit: {gateway_label} #{id} ({credited} instead of {arrived}: {reason} ({admin}))"
    ),
    "deposit_bonus": "Bonus on {gateway_label} #{id}",
    "coupon_bonus": "Coupon {code} on deposit {deposit}",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def english_memo(code: str, params: dict) -> str:
    values = _Blank(params)
    values["status_lower"] = str(params.get("status", "")).lower()
    labels = {code: label for label, code in GATEWAYS.items()}
    values["gateway_label"] = labels.get(str(params.get("gateway", "")), params.get("gateway", ""))
    wording = ENGLISH.get(code)
    return code if wording is None else wording.format_map(values)[:255]


def _batches(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def forwards(apps, schema_editor):
    ledger = apps.get_model("accounts", "BalanceTransaction")
    for rows in _batches(ledger.objects.filter(memo_code="").exclude(memo="")):
        changed = []
        for row in rows:
            parsed = parse_memo(row.memo)
            if parsed is not None:
                row.memo_code, row.memo_params = parsed
                row.memo = ""
                changed.append(row)
        ledger.objects.bulk_update(changed, ["memo", "memo_code", "memo_params"])


def backwards(apps, schema_editor):
    ledger = apps.get_model("accounts", "BalanceTransaction")
    for rows in _batches(ledger.objects.exclude(memo_code="")):
        for row in rows:
            row.memo = english_memo(row.memo_code, row.memo_params)
            row.memo_code, row.memo_params = "", {}
        ledger.objects.bulk_update(rows, ["memo", "memo_code", "memo_params"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_memo_codes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
