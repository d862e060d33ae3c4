"""One small handler per v2 action. Each parses its parameters, calls one service or selector
of the apps, and shapes the answer; none holds a business rule."""

from collections.abc import Callable, Mapping

from accounts.models import User
from core.ids import parse_id
from notifications.models import WebhookEvent
from notifications.webhooks.services import (
    WebhookRefused,
    webhook_endpoint_delete,
    webhook_endpoint_subscribe,
)
from orders.errors import IncorrectOrder, IncorrectRefill, InvalidRequest, PanelError
from orders.models import Source
from orders.selectors import order_rows_by_id, product_order_rows_by_id, refill_rows_by_id
from orders.services import order_cancel, order_place, product_order_place, refill_request
from orders.type_rules import clean_value
from panel.api import answers
from panel.api.catalog_cache import RawJson, catalog_answer
from providers.pricing import customer_pricing
from providers.selectors import ServiceRead, product_rows, service_rows

MAX_IDS = 100
FEATURES_PANEL = "smm-panel"
# The API's words for a refused endpoint (English, as every v2 error; docs/protocol.md).
WEBHOOK_API_ERRORS = {
    "invalid_url": "Incorrect webhook URL",
    "https_required": "Incorrect webhook URL",
    "dns": "Incorrect webhook URL",
    "address_refused": "Webhook URL is not allowed",
    "too_many": "Too many webhooks (limit 5)",
    "no_events": "Incorrect webhook events",
}
Params = Mapping[str, str]


class TooManyIds(InvalidRequest):
    default_message = f"Too many IDs (limit {MAX_IDS})"


def _ids(params: Params, name: str) -> list[str] | None:
    """The comma-separated ids of a batch parameter, or None when it is absent."""
    raw = clean_value(params, name)
    if raw is None:
        return None
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        return None
    if len(ids) > MAX_IDS:
        raise TooManyIds()
    return ids


def _echo_id(text: str) -> int | str:
    """Ids go back as numbers, as given; something that is not a number goes back as it came."""
    number = parse_id(text)
    return number if number is not None else text


def _rows(
    ids: list[str], fetch: Callable[..., dict[int, dict]], user: User
) -> dict[str, dict | None]:
    numbers = {text: parse_id(text) for text in ids}
    found = fetch(user=user, ids={n for n in numbers.values() if n is not None})
    return {
        text: found.get(number) if number is not None else None for text, number in numbers.items()
    }


def _single(params: Params, name: str) -> str:
    value = clean_value(params, name)
    if value is None:
        raise InvalidRequest()
    return value


# --- Actions -----------------------------------------------------------------------------------


def services(user: User, params: Params) -> RawJson:
    pricing = customer_pricing(user=user)
    return catalog_answer(
        "services",
        pricing.cache_key,
        lambda: [answers.service_answer(row, pricing) for row in service_rows()],
    )


def add(user: User, params: Params, service_read: ServiceRead | None = None) -> RawJson:
    """`service_read`: the service as read with the key (`views.ApiV2View.answer`). The answer
    is written here, as DRF's renderer writes `{"order": id}`: an `add` is the request resellers
    send most, and DRF's response and renderer were a twentieth of its Python."""
    service_id = _single(params, "service")
    order = order_place(
        user=user,
        service_id=service_id,
        fields=params,
        client_ref=clean_value(params, "client_ref"),
        source=Source.API,
        service_read=service_read,
    )
    return RawJson(b'{"order":%d}' % order.pk)


def _statuses(
    user: User, params: Params, fetch: Callable[..., dict[int, dict]], shape: Callable[[dict], dict]
) -> dict:
    """`order` answers one status; `orders` answers an object keyed by each id as given."""
    ids = _ids(params, "orders")
    if ids is None:
        order_id = _single(params, "order")
        row = _rows([order_id], fetch, user)[order_id]
        if row is None:
            raise IncorrectOrder()
        return shape(row)
    return {
        text: shape(row) if row else answers.INCORRECT_ORDER
        for text, row in _rows(ids, fetch, user).items()
    }


def status(user: User, params: Params) -> dict:
    return _statuses(user, params, order_rows_by_id, answers.order_status_answer)


def balance(user: User, params: Params) -> dict:
    # `user` was read by the key lookup of this very request: no second query.
    return answers.balance_answer(user.balance)


def _batch(ids: list[str], action: Callable[[str], object], key: str) -> list[dict]:
    """Each id on its own: one failure does not undo the others."""
    from django.db import transaction

    results = []
    for text in ids:
        try:
            with transaction.atomic():
                value = action(text)
        except PanelError as exc:
            value = {"error": exc.message}
        results.append({"order": _echo_id(text), key: value})
    return results


def refill(user: User, params: Params) -> dict | list[dict]:
    ids = _ids(params, "orders")
    if ids is None:
        return {
            "refill": str(
                refill_request(user=user, order_id=_single(params, "order"), source=Source.API).pk
            )
        }
    return _batch(
        ids, lambda text: refill_request(user=user, order_id=text, source=Source.API).pk, "refill"
    )


def refill_status(user: User, params: Params) -> dict | list[dict]:
    ids = _ids(params, "refills")
    if ids is None:
        refill_id = _single(params, "refill")
        row = _rows([refill_id], refill_rows_by_id, user)[refill_id]
        if row is None:
            raise IncorrectRefill()
        return {"status": row["status"]}
    return [
        {"refill": _echo_id(text), "status": row["status"] if row else answers.INCORRECT_REFILL}
        for text, row in _rows(ids, refill_rows_by_id, user).items()
    ]


def cancel(user: User, params: Params) -> list[dict]:
    ids = _ids(params, "orders") or [_single(params, "order")]
    return _batch(
        ids, lambda text: order_cancel(user=user, order_id=text, source=Source.API) and 1, "cancel"
    )


def products(user: User, params: Params) -> RawJson:
    pricing = customer_pricing(user=user)
    return catalog_answer(
        "products",
        pricing.cache_key,
        lambda: [answers.product_answer(row, pricing) for row in product_rows()],
    )


def add_product_order(user: User, params: Params) -> dict:
    order = product_order_place(
        user=user,
        product_id=_single(params, "product"),
        quantity=_single(params, "quantity"),
        require=clean_value(params, "require"),
        client_ref=clean_value(params, "client_ref"),
        source=Source.API,
    )
    return {"order": order.pk}


def product_order_status(user: User, params: Params) -> dict:
    return _statuses(user, params, product_order_rows_by_id, answers.product_order_status_answer)


# --- The panel's extensions (docs/protocol.md): other panels answer them "Incorrect request" ----


def features(user: User, params: Params) -> dict:
    """How a downstream panel learns that this one is a copy of it, and what it can push."""
    return {
        "panel": FEATURES_PANEL,
        "features": ["client_ref", "webhooks"],
        "webhook_events": list(WebhookEvent.values),
    }


def webhook_subscribe(user: User, params: Params) -> dict:
    """Register (or renew: a new secret) the caller's endpoint for `url`; `events` optional."""
    url = _single(params, "url")
    raw_events = clean_value(params, "events")
    events = [part.strip() for part in raw_events.split(",")] if raw_events else WebhookEvent.values
    try:
        endpoint, secret = webhook_endpoint_subscribe(user=user, url=url, events=events)
    except WebhookRefused as exc:
        raise InvalidRequest(WEBHOOK_API_ERRORS.get(exc.code, "Incorrect request")) from None
    return {"webhook": endpoint.pk, "secret": secret, "events": endpoint.events}


def webhook_unsubscribe(user: User, params: Params) -> dict:
    webhook_id = parse_id(_single(params, "webhook"))
    if webhook_id is None or not webhook_endpoint_delete(user=user, endpoint_id=webhook_id):
        raise InvalidRequest("Incorrect webhook ID")
    return {"webhook": webhook_id, "deleted": 1}


# The actions that only read: they run outside any transaction (panel.api.views). Under READ
# COMMITTED every statement of a transaction reads a snapshot of its own anyway, so a reading
# action sees exactly what it would inside one, and a reseller's status polls spare BEGIN and
# COMMIT. A test keeps them writing nothing (tests/panel/test_api_v2.py).
READS = frozenset(
    {
        "services",
        "status",
        "balance",
        "refill_status",
        "products",
        "product_order_status",
        "features",
    }
)

HANDLERS: dict[str, Callable[[User, Params], object]] = {
    "services": services,
    "add": add,
    "status": status,
    "balance": balance,
    "refill": refill,
    "refill_status": refill_status,
    "cancel": cancel,
    "products": products,
    "add_product_order": add_product_order,
    "product_order_status": product_order_status,
    "features": features,
    "webhook_subscribe": webhook_subscribe,
    "webhook_unsubscribe": webhook_unsubscribe,
}
