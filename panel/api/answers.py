"""Output shapes of the v2 answers (docs/protocol.md "Actions"): field names and types exactly.

Plain functions rather than DRF serializers: `services` renders 10,000 rows per call and a
serializer per row would be most of the request's time.
"""

from decimal import Decimal

from django.conf import settings

from core.money import balance_str, money_json_number, money_str
from orders.models import ProductOrderStatus
from providers.pricing import CustomerPricing

INCORRECT_ORDER = {"error": "Incorrect order ID"}
INCORRECT_REFILL = {"error": "Incorrect refill ID"}


def service_answer(row: dict, pricing: CustomerPricing) -> dict:
    answer = {
        "service": row["id"],
        "name": row["name_override"] or row["name"],
        "type": row["type"],
        "category": row["category__name"],
        "rate": money_str(pricing.service_rate(service_id=row["id"], rate=row["rate"])),
        "min": str(row["min"]),
        "max": str(row["max"]),
        "refill": row["has_refill"],
        "cancel": row["has_cancel"],
        "dripfeed": row["has_dripfeed"],
    }
    if row["description"]:
        answer["desc"] = row["description"]
    if row["average_time_seconds"] is not None:
        # An extra key (clients ignore keys they don't know): seconds per 1000, docs/operators.md.
        answer["average_time"] = str(row["average_time_seconds"])
    return answer


def order_status_answer(row: dict) -> dict:
    return {
        "charge": money_str(row["charge"] - row["refunded"]),
        "start_count": str(row["start_count"] or 0),
        "status": row["status"],
        "remains": str(row["remains"] if row["remains"] is not None else 0),
        "currency": settings.PANEL_CURRENCY,
    }


def balance_answer(balance: Decimal) -> dict:
    return {"balance": balance_str(balance), "currency": settings.PANEL_CURRENCY}


def product_answer(row: dict, pricing: CustomerPricing) -> dict:
    answer: dict[str, object] = {
        "product": row["id"],
        "name": row["name_override"] or row["name"],
    }
    if row["require"]:
        answer["require"] = row["require"]
    answer.update(
        rate=money_json_number(pricing.product_rate(rate=row["rate"])),
        min=row["min"],
        max=row["max"],
        category=row["category__name"],
        status="In stock" if row["is_in_stock"] and row["inventory"] != 0 else "Out of stock",
    )
    if row["inventory"] is not None:
        answer["inventory"] = row["inventory"]
    answer["type"] = row["type"]
    return answer


def product_order_status_answer(row: dict) -> dict:
    answer: dict[str, object] = {
        "charge": money_json_number(row["charge"] - row["refunded"]),
        "status": row["status"],
    }
    if row["status"] == ProductOrderStatus.CANCELED:
        answer["note"] = row["note"]
    else:
        answer["result"] = row["result"]
    return answer
