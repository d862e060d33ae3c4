"""The v2 actions: turn request fields into state calls and answers in the protocol's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.errors import (
    INCORRECT_ORDER,
    INCORRECT_PRODUCT,
    INCORRECT_REFILL,
    INCORRECT_REQUEST,
    INCORRECT_SERVICE,
    TOO_MANY_IDS,
    ApiError,
)
from sandbox.state import SandboxState
from sandbox.validation import Params, optional, parse_add

MAX_IDS = 100

# An answer is either a payload to encode or bytes encoded in advance.
Answer = Any
Handler = Callable[[SandboxState, Params], Answer]


def handle_action(state: SandboxState, action: str, params: Params) -> Answer:
    handler = HANDLERS.get(action)
    if handler is None:
        raise ApiError(INCORRECT_REQUEST)
    return handler(state, params)


def id_list(params: Params, name: str) -> list[str] | None:
    """Comma-separated ids of a batch field, or None when the field is absent."""
    value = optional(params, name)
    if value is None:
        return None
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if len(ids) > MAX_IDS:
        raise ApiError(TOO_MANY_IDS)
    return ids


def to_id(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() else None


def id_for_answer(value: str) -> int | str:
    """Ids are numbers in list answers; echo what was sent when it is not one."""
    number = to_id(value)
    return value if number is None else number


def _services(state: SandboxState, params: Params) -> Answer:
    return state.services_body()


def _products(state: SandboxState, params: Params) -> Answer:
    return state.products_body()


def _balance(state: SandboxState, params: Params) -> Answer:
    return state.balance_answer()


def _add(state: SandboxState, params: Params) -> Answer:
    service_id = to_id(optional(params, "service"))
    service = state.service(service_id) if service_id is not None else None
    if service is None:
        raise ApiError(INCORRECT_SERVICE)
    request = parse_add(service, params)
    order_id = state.order_create(
        service=service,
        link=request.link,
        quantity=request.quantity,
        charge=request.charge,
        fields=request.fields,
    )
    return {"order": order_id}


def _status(state: SandboxState, params: Params) -> Answer:
    ids = id_list(params, "orders")
    if ids is None:
        answer = state.order_answers([to_id(optional(params, "order"))])[0]
        if answer is None:
            raise ApiError(INCORRECT_ORDER)
        return answer
    answers = state.order_answers([to_id(raw) for raw in ids])
    return {
        raw: answer or {"error": INCORRECT_ORDER} for raw, answer in zip(ids, answers, strict=True)
    }


def _refill(state: SandboxState, params: Params) -> Answer:
    ids = id_list(params, "orders")
    if ids is None:
        return {"refill": str(state.refill_create(to_id(optional(params, "order"))))}
    return [
        {"order": id_for_answer(raw), "refill": _attempt(state.refill_create, raw)} for raw in ids
    ]


def _refill_status(state: SandboxState, params: Params) -> Answer:
    ids = id_list(params, "refills")
    if ids is None:
        status = state.refill_statuses([to_id(optional(params, "refill"))])[0]
        if status is None:
            raise ApiError(INCORRECT_REFILL)
        return {"status": status}
    statuses = state.refill_statuses([to_id(raw) for raw in ids])
    return [
        {"refill": id_for_answer(raw), "status": status or {"error": INCORRECT_REFILL}}
        for raw, status in zip(ids, statuses, strict=True)
    ]


def _cancel(state: SandboxState, params: Params) -> Answer:
    ids = id_list(params, "orders")
    if ids is None:
        single = optional(params, "order")
        if single is None:
            raise ApiError(INCORRECT_ORDER)
        ids = [single]
    return [
        {"order": id_for_answer(raw), "cancel": _attempt(_cancel_one(state), raw)} for raw in ids
    ]


def _cancel_one(state: SandboxState) -> Callable[[int | None], int]:
    def cancel(order_id: int | None) -> int:
        state.order_cancel(order_id)
        return 1

    return cancel


def _attempt(operation: Callable[[int | None], int], raw: str) -> int | dict[str, str]:
    """One entry of a batch: its result, or its error in place."""
    try:
        return operation(to_id(raw))
    except ApiError as error:
        return {"error": error.message}


def _add_product_order(state: SandboxState, params: Params) -> Answer:
    product_id = to_id(optional(params, "product"))
    product = state.products.get(product_id) if product_id is not None else None
    if product is None:
        raise ApiError(INCORRECT_PRODUCT)
    quantity = to_id(optional(params, "quantity"))
    if quantity is None:
        raise ApiError(INCORRECT_REQUEST)
    require = optional(params, "require") or ""
    if product.require is not None and not require:
        raise ApiError(INCORRECT_REQUEST)
    order_id = state.product_order_create(product_id=product_id, quantity=quantity, require=require)
    return {"order": order_id}


def _product_order_status(state: SandboxState, params: Params) -> Answer:
    ids = id_list(params, "orders")
    if ids is None:
        answer = state.product_order_answers([to_id(optional(params, "order"))])[0]
        if answer is None:
            raise ApiError(INCORRECT_ORDER)
        return answer
    answers = state.product_order_answers([to_id(raw) for raw in ids])
    return {
        raw: answer or {"error": INCORRECT_ORDER} for raw, answer in zip(ids, answers, strict=True)
    }


HANDLERS: dict[str, Handler] = {
    "services": _services,
    "add": _add,
    "status": _status,
    "balance": _balance,
    "refill": _refill,
    "refill_status": _refill_status,
    "cancel": _cancel,
    "products": _products,
    "add_product_order": _add_product_order,
    "product_order_status": _product_order_status,
}
