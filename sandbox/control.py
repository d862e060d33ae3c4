"""The /_sandbox/ endpoints: what tests, the demo and benchmarks use to steer the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.catalog import generate_services
from sandbox.config import config_as_dict, config_patch
from sandbox.curated import PACKAGE_TYPES
from sandbox.errors import ControlError
from sandbox.money import CHARGE_PLACES, decimal_str
from sandbox.records import (
    CANCELED,
    COMPLETED,
    ORDER_STATUSES,
    PARTIAL,
    PENDING,
    PRODUCT_ORDER_STATUSES,
    REFILL_STATUSES,
    order_answer,
    order_progress,
    product_order_answer,
)
from sandbox.state import SandboxState

MAX_SEEDED_ORDERS = 1_000_000
ZERO_AMOUNT = Decimal(0)
Body = dict[str, Any]


def handle_control(state: SandboxState, name: str, body: Body) -> Any:
    handler = CONTROLS.get(name)
    if handler is None:
        raise ControlError(f"Unknown sandbox endpoint: {name}", status=404)
    return handler(state, body)


def _stats(state: SandboxState, body: Body) -> Any:
    with state.lock:
        state.settle()
        return {
            "add_calls": state.add_calls,
            "adds_per_link": dict(state.adds_per_link),
            "orders": len(state.orders),
            "refills": len(state.refills),
            "product_orders": len(state.product_orders),
            "services": len(state.services),
            "requests": dict(state.requests),
            "status_ids": sum(state.status_asked.values()),
            "status_ids_repeated": sum(1 for count in state.status_asked.values() if count > 1),
            "balance": decimal_str(state.balance),
        }


def _orders(state: SandboxState, body: Body) -> Any:
    """Every order the sandbox took (what it bought), with what it charges for it now: the
    record a test holds the panel's refunds against. `links` narrows it to those links."""
    links = set(_str_list(body, "links")) if "links" in body else None
    with state.lock:
        now = state.now()
        return [
            {
                "order": order.id,
                "service": order.service_id,
                "link": order.link,
                "quantity": order.quantity,
                "full_charge": decimal_str(order.charge),
                **order_answer(order, now, state.config.currency),
            }
            for order in state.orders.values()
            if not order.is_seeded and (links is None or order.link in links)
        ]


def _config(state: SandboxState, body: Body) -> Any:
    with state.lock:
        config_patch(state.config, body)
        return config_as_dict(state.config)


def _reprice(state: SandboxState, body: Body) -> Any:
    factor, rate = _decimal_or_none(body, "factor"), _decimal_or_none(body, "rate")
    if (factor is None) == (rate is None):
        raise ControlError("Give exactly one of factor or rate")
    with state.lock:
        ids = _int_list(body, "services") if "services" in body else _random_share(state, body)
        changed: list[dict[str, Any]] = []
        missing: list[int] = []
        for service_id in ids:
            service = state.services.get(service_id)
            if service is None:
                missing.append(service_id)
                continue
            old_rate = service.rate
            new_rate = rate if rate is not None else old_rate * (factor or Decimal(1))
            service.rate = new_rate.quantize(CHARGE_PLACES).normalize()
            changed.append(
                {
                    "service": service_id,
                    "old_rate": decimal_str(old_rate),
                    "rate": decimal_str(service.rate),
                }
            )
        state.catalog_changed()
        return {"changed": changed, "missing": missing}


def _random_share(state: SandboxState, body: Body) -> list[int]:
    share = _number(body, "share", 0.1)
    if not 0 <= share <= 1:
        raise ControlError("share must be between 0 and 1")
    ids = sorted(state.services)
    count = min(len(ids), max(1, round(len(ids) * share)))
    return sorted(state.control_rng.sample(ids, count)) if ids else []


def _remove(state: SandboxState, body: Body) -> Any:
    ids = _int_list(body, "services")
    with state.lock:
        removed = [service_id for service_id in ids if state.services.pop(service_id, None)]
        state.catalog_changed()
    return {"removed": removed, "missing": [sid for sid in ids if sid not in removed]}


def _add_services(state: SandboxState, body: Body) -> Any:
    count = int(_number(body, "count", 1))
    if not 0 < count <= 100_000:
        raise ControlError("count must be between 1 and 100000")
    with state.lock:
        new = generate_services(state.config.seed, first_id=state.next_service_id, count=count)
        for service in new:
            state.services[service.service] = service
        state.next_service_id += count
        state.catalog_changed()
    return {"added": [service.service for service in new]}


def _seed_orders(state: SandboxState, body: Body) -> Any:
    """Bulk orders for benchmarks: no checks, no debit, ids consecutive."""
    count = int(_number(body, "count", 1))
    quantity = int(_number(body, "quantity", 1000))
    age_seconds = _number(body, "age_seconds", 0)
    if not 0 < count <= MAX_SEEDED_ORDERS or quantity < 1 or age_seconds < 0:
        raise ControlError(f"count must be 1..{MAX_SEEDED_ORDERS}, quantity >= 1, age_seconds >= 0")
    with state.lock:
        service = _seed_service(state, body)
        if service.type in PACKAGE_TYPES:
            quantity, charge = 1, service.rate
        else:
            charge = service.rate * quantity / 1000
        now, rng = state.now(), state.rng
        first = state.next_order_id
        for number in range(count):
            # An age spreads creation times back, so some orders are already final.
            created_at = now - rng.random() * age_seconds if age_seconds else now
            link = f"https://instagram.com/p/seed{first + number}"
            state.new_order(service, link, quantity, charge, created_at, is_seeded=True)
        return {"first": first, "last": state.next_order_id - 1}


def _seed_service(state: SandboxState, body: Body) -> Any:
    service_id = body.get("service")
    if service_id is None:
        if not state.services:
            raise ControlError("The catalog is empty")
        return next(iter(state.services.values()))
    service = state.services.get(_to_int(service_id, "service"))
    if service is None:
        raise ControlError("Incorrect service ID", status=404)
    return service


def _force(state: SandboxState, body: Body) -> Any:
    with state.lock:
        if "order" in body:
            return _force_order(state, body)
        if "refill" in body:
            return _force_refill(state, body)
        if "product_order" in body:
            return _force_product_order(state, body)
    raise ControlError("Give order, refill or product_order")


def _force_order(state: SandboxState, body: Body) -> Any:
    order = state.orders.get(_to_int(body["order"], "order"))
    if order is None:
        raise ControlError("Incorrect order ID", status=404)
    status = _status(body, ORDER_STATUSES)
    now = state.now()
    _, current_remains = order_progress(order, now)
    default_remains = {
        COMPLETED: 0,
        CANCELED: order.quantity,
        PENDING: order.quantity,
        PARTIAL: current_remains if 0 < current_remains < order.quantity else order.quantity // 2,
    }.get(status, current_remains)
    remains = body.get("remains")
    order.forced_remains = default_remains if remains is None else _to_int(remains, "remains")
    order.forced_status = status
    if body.get("start_count") is not None:
        order.start_count = _to_int(body["start_count"], "start_count")
    state.settle_order(order, now)
    state.touch()
    return {"order": order.id, **order_answer(order, now, state.config.currency)}


def _force_refill(state: SandboxState, body: Body) -> Any:
    refill = state.refills.get(_to_int(body["refill"], "refill"))
    if refill is None:
        raise ControlError("Incorrect refill ID", status=404)
    refill.forced_status = _status(body, REFILL_STATUSES)
    state.touch()
    return {"refill": refill.id, "status": refill.forced_status}


def _force_product_order(state: SandboxState, body: Body) -> Any:
    order = state.product_orders.get(_to_int(body["product_order"], "product_order"))
    if order is None:
        raise ControlError("Incorrect order ID", status=404)
    order.forced_status = _status(body, PRODUCT_ORDER_STATUSES)
    if body.get("note") is not None:
        order.forced_note = str(body["note"])
    if body.get("result") is not None:
        order.forced_result = str(body["result"])
    now = state.now()
    state.settle_product_order(order, now)
    state.touch()
    return {"order": order.id, **product_order_answer(order, now)}


def _misreport(state: SandboxState, body: Body) -> Any:
    """Plant a provider's fault on one order: `extra_charge` (taken from the balance now and
    added to the charge `status` reports), `skip_refund` (the refund its final status promises
    is never given, and the full charge stays reported) or `refund` (given back now without
    anyone asking, and taken off the reported charge)."""
    with state.lock:
        order = state.orders.get(_to_int(body.get("order"), "order"))
        if order is None:
            raise ControlError("Incorrect order ID", status=404)
        extra = _decimal_or_none(body, "extra_charge") or ZERO_AMOUNT
        refund = _decimal_or_none(body, "refund") or ZERO_AMOUNT
        state.balance -= extra
        state.balance += refund
        order.extra_charge += extra
        order.refund_given += refund
        if body.get("skip_refund"):
            order.skips_refund = True
        state.settle_order(order, state.now())
        state.touch()
        return {"order": order.id, **order_answer(order, state.now(), state.config.currency)}


def _balance_adjust(state: SandboxState, body: Body) -> Any:
    """Move the balance outside any order by a signed `amount`: a fee, a top-up, a mistake."""
    try:
        amount = Decimal(str(body.get("amount")))
    except InvalidOperation:
        raise ControlError("amount must be a decimal number") from None
    if not amount.is_finite():
        raise ControlError("amount must be a decimal number")
    with state.lock:
        state.balance += amount
        state.touch()
        return {"balance": decimal_str(state.balance)}


def _reset(state: SandboxState, body: Body) -> Any:
    state.reset()
    return {"reset": True}


def _status(body: Body, allowed: tuple[str, ...]) -> str:
    status = body.get("status")
    if status not in allowed:
        raise ControlError(f"status must be one of: {', '.join(allowed)}")
    return str(status)


def _to_int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ControlError(f"{name} must be an integer") from None


def _int_list(body: Body, name: str) -> list[int]:
    value = body.get(name)
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise ControlError(f"{name} must be a list of ids")
    return [_to_int(item, name) for item in value]


def _str_list(body: Body, name: str) -> list[str]:
    value = body.get(name)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ControlError(f"{name} must be a list")
    return [str(item) for item in value]


def _number(body: Body, name: str, default: float) -> float:
    value = body.get(name, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be a number") from None


def _decimal_or_none(body: Body, name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ControlError(f"{name} must be a decimal number") from None
    if not number.is_finite() or number < 0:
        raise ControlError(f"{name} must be a positive decimal number")
    return number


CONTROLS: dict[str, Callable[[SandboxState, Body], Any]] = {
    "stats": _stats,
    "orders": _orders,
    "config": _config,
    "reprice": _reprice,
    "remove": _remove,
    "add_services": _add_services,
    "seed_orders": _seed_orders,
    "force": _force,
    "misreport": _misreport,
    "balance_adjust": _balance_adjust,
    "reset": _reset,
}
