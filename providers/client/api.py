"""ProviderClient: the v2 actions of one upstream provider, as typed calls.

How failures are classified lives in `answers`; how answers are read lives in `parsing`,
`records` and `entries`. This module only says which action is a READ and which a WRITE, and how
each one's answer is shaped.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx

from providers.client import transport as wire
from providers.client.answers import AnswerReader, shape
from providers.client.entries import (
    MISSING_FROM_ANSWER,
    is_single_shape,
    read_cancel,
    read_order_status,
    read_product_status,
    read_refill,
    read_refill_status,
    single_entry,
    unknown,
)
from providers.client.parsing import (
    field,
    id_key,
    index_batch,
    record,
    to_decimal,
    to_id,
    to_text,
    unwrap_list,
)
from providers.client.records import BadRecord, parse_product, parse_service
from providers.client.types import (
    ItemError,
    UpstreamBalance,
    UpstreamOrderStatus,
    UpstreamProduct,
    UpstreamProductOrderStatus,
    UpstreamService,
)
from providers.errors import ProviderRejected

logger = logging.getLogger("providers.client")

MAX_BATCH = 100
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0

READ = False
WRITE = True

_RESERVED_FIELDS = frozenset({"key", "action", "service"})
_ORDER_ID_FIELDS = ("order", "order_id", "id")
_MAX_LOGGED_SKIPS = 10

T = TypeVar("T")


class _CatalogEntry(Protocol):
    @property
    def upstream_id(self) -> str: ...


C = TypeVar("C", bound=_CatalogEntry)


@dataclass(frozen=True)
class CatalogAnswer(Generic[C]):
    """A catalog answer as it came, read only when asked. Equal digests mean the same HTTP
    status and the same bytes, so reading would give the same items or the same error: a sync
    tells an answer it already imported without decoding it (docs/scaling.md)."""

    digest: str
    _read: Callable[[], list[C]]

    def items(self) -> list[C]:
        """The items; raises the ProviderError the answer means, as services() would."""
        return self._read()


def _default_timeouts(connect: float | None, read: float | None) -> tuple[float, float]:
    if connect is not None and read is not None:
        return connect, read
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        configured = (settings.PANEL_PROVIDER_CONNECT_TIMEOUT, settings.PANEL_PROVIDER_READ_TIMEOUT)
    except ImproperlyConfigured:  # used outside Django: scripts, plain unit tests
        configured = (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)
    return (
        float(configured[0]) if connect is None else connect,
        float(configured[1]) if read is None else read,
    )


class ProviderClient:
    """One provider's `/api/v2`. Nothing changes after construction, so threads may share one."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        try:
            url = httpx.URL(api_url)
        except httpx.InvalidURL:
            raise ValueError("api_url is not a valid URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("api_url must be an http(s) URL")
        self._api_url = api_url
        self._api_key = api_key
        self.host = url.host
        # Admin-entered URLs may carry credentials in userinfo or the query: show neither.
        port = f":{url.port}" if url.port else ""
        self._display_url = f"{url.scheme}://{url.host}{port}{url.path}"
        connect, read = _default_timeouts(connect_timeout, read_timeout)
        self._timeout = wire.timeout(connect=connect, read=read)
        self._answers = AnswerReader(host=url.host, api_key=api_key)
        self._own_client = None if transport is None else wire.new_client(transport)

    def __repr__(self) -> str:
        return f"<ProviderClient {self._display_url}>"

    def close(self) -> None:
        """Close the client made for an explicit transport; the shared pool stays open."""
        if self._own_client is not None:
            self._own_client.close()

    # --- catalog and account ---------------------------------------------------------------

    def services(self) -> list[UpstreamService]:
        return self.services_answer().items()

    def products(self) -> list[UpstreamProduct]:
        return self.products_answer().items()

    def services_answer(self) -> CatalogAnswer[UpstreamService]:
        """The services answer fetched, not yet read (raises only what fetching raises)."""
        return self._catalog_answer("services", parse_service)

    def products_answer(self) -> CatalogAnswer[UpstreamProduct]:
        return self._catalog_answer("products", parse_product)

    def balance(self) -> UpstreamBalance:
        data = self._call("balance", {}, is_write=READ)
        rec = _unwrap_record(data, ("balance",))
        amount = to_decimal(field(rec, "balance", "funds"))
        if amount is None:
            self._answers.fail("balance", READ, f"no readable balance in {shape(data)}")
        return UpstreamBalance(balance=amount, currency=to_text(field(rec, "currency")).upper())

    # --- the extensions of a copy of this panel (docs/protocol.md) -------------------------

    def features(self) -> frozenset[str]:
        """What the provider says it supports; other panels refuse the action (raises)."""
        data = self._call("features", {}, is_write=READ)
        rec = _unwrap_record(data, ("features",))
        listed = field(rec, "features")
        if not isinstance(listed, list):
            self._answers.fail("features", READ, f"no feature list in {shape(data)}")
        return frozenset(to_text(item) for item in listed)

    def webhook_subscribe(self, *, url: str, events: Sequence[str]) -> tuple[str, str]:
        """Register `url` for `events`; the provider's id of the webhook and its new secret.
        Safe to repeat (the same url keeps its id and gets a new secret)."""
        params = {"url": url, "events": ",".join(events)}
        data = self._call("webhook_subscribe", params, is_write=READ)
        rec = _unwrap_record(data, ("webhook",))
        webhook_id = to_id(field(rec, "webhook"))
        secret = to_text(field(rec, "secret"))
        if webhook_id is None or not secret:
            self._answers.fail("webhook_subscribe", READ, f"no webhook in {shape(data)}")
        return webhook_id, secret

    # --- orders ----------------------------------------------------------------------------

    def add(self, *, service: str, fields: Mapping[str, str]) -> str:
        """Place an order and return the upstream order id. `fields` go out exactly as given.

        Raises ProviderAmbiguous whenever the order may exist upstream without us knowing its id.
        """
        clash = _RESERVED_FIELDS.intersection(fields)
        if clash:
            raise ValueError(f"fields may not set {sorted(clash)}")
        params = {"service": _one_id(service), **fields}
        data = self._call("add", params, is_write=WRITE, result_keys=("order",))
        return self._created_id("add", data)

    def status(self, order_id: str) -> UpstreamOrderStatus:
        data = self._call("status", {"order": _one_id(order_id)}, is_write=READ)
        return self._single("status", read_order_status(single_entry(data, order_id)), READ)

    def statuses(self, order_ids: Sequence[str]) -> dict[str, UpstreamOrderStatus | ItemError]:
        ids = _batch_ids(order_ids)
        if not ids:
            return {}
        return self._batch_call("status", "orders", ids, ("order", "id"), read_order_status, READ)

    def cancel(self, order_ids: Sequence[str]) -> dict[str, bool | ItemError]:
        """True where the provider accepted the cancel request (it may still finish the order)."""
        ids = _batch_ids(order_ids)
        if not ids:
            return {}
        return self._batch_call("cancel", "orders", ids, ("order", "id"), read_cancel, WRITE)

    # --- refills ---------------------------------------------------------------------------

    def refill(self, order_id: str) -> str:
        data = self._call(
            "refill", {"order": _one_id(order_id)}, is_write=WRITE, result_keys=("refill",)
        )
        return self._single("refill", read_refill(single_entry(data, order_id)), WRITE)

    def refills(self, order_ids: Sequence[str]) -> dict[str, str | ItemError]:
        ids = _batch_ids(order_ids)
        if not ids:
            return {}
        return self._batch_call("refill", "orders", ids, ("order", "id"), read_refill, WRITE)

    def refill_status(self, refill_id: str) -> str:
        data = self._call("refill_status", {"refill": _one_id(refill_id)}, is_write=READ)
        found = read_refill_status(single_entry(data, refill_id))
        return self._single("refill_status", found, READ)

    def refill_statuses(self, refill_ids: Sequence[str]) -> dict[str, str | ItemError]:
        ids = _batch_ids(refill_ids)
        if not ids:
            return {}
        return self._batch_call(
            "refill_status", "refills", ids, ("refill", "id"), read_refill_status, READ
        )

    # --- products --------------------------------------------------------------------------

    def add_product_order(self, *, product: str, quantity: int, require: str) -> str:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError("quantity must be an int")
        params = {"product": _one_id(product), "quantity": str(quantity), "require": require}
        data = self._call("add_product_order", params, is_write=WRITE, result_keys=("order",))
        return self._created_id("add_product_order", data)

    def product_order_status(self, order_id: str) -> UpstreamProductOrderStatus:
        data = self._call("product_order_status", {"order": _one_id(order_id)}, is_write=READ)
        found = read_product_status(single_entry(data, order_id))
        return self._single("product_order_status", found, READ)

    def product_order_statuses(
        self, order_ids: Sequence[str]
    ) -> dict[str, UpstreamProductOrderStatus | ItemError]:
        ids = _batch_ids(order_ids)
        if not ids:
            return {}
        return self._batch_call(
            "product_order_status", "orders", ids, ("order", "id"), read_product_status, READ
        )

    # --- plumbing --------------------------------------------------------------------------

    def _call(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        is_write: bool,
        result_keys: tuple[str, ...] = (),
    ) -> Any:
        raw = self._fetch(action, params, is_write=is_write)
        return self._answers.data(action, raw, is_write=is_write, result_keys=result_keys)

    def _fetch(self, action: str, params: Mapping[str, str], *, is_write: bool) -> wire.RawAnswer:
        form = {"key": self._api_key, "action": action, **params}
        client = self._own_client or wire.shared_client()
        started = time.monotonic()
        failure: wire.TransportFailure | None = None
        try:
            raw = wire.post(client, self._api_url, form, self._timeout)
        except wire.TransportFailure as exc:
            failure = exc
        if failure is not None:
            # Raised outside the except block: an exception's context is printed with it, and
            # the context must never carry the request (whose body holds the key).
            self._answers.transport_failure(action, failure, is_write=is_write)
        elapsed = time.monotonic() - started
        logger.debug(
            "provider %s %s: HTTP %s in %.2fs", self.host, action, raw.status_code, elapsed
        )
        return raw

    def _created_id(self, action: str, data: Any) -> str:
        created = to_id(field(_unwrap_record(data, _ORDER_ID_FIELDS), *_ORDER_ID_FIELDS))
        if created is None:
            # The provider may have placed the order; without its id we cannot follow it.
            self._answers.fail(action, WRITE, f"no usable order id in {shape(data)}")
        return created

    def _catalog_answer(self, action: str, parse: Callable[[Any], C]) -> CatalogAnswer[C]:
        raw = self._fetch(action, {}, is_write=READ)
        # What reading the answer depends on besides its body (the Location of a redirect, the
        # Retry-After of a 429) only matters to answers that raise, which no sync keeps.
        digest = hashlib.sha256(b"%d\n%b" % (raw.status_code, raw.body)).hexdigest()

        def read() -> list[C]:
            data = self._answers.data(action, raw, is_write=READ)
            entries = unwrap_list(data, ("data", action, "result", "results"))
            if entries is None:
                self._answers.fail(action, READ, f"expected a list, got {shape(data)}")
            return self._catalog(action, entries, parse)

        return CatalogAnswer(digest, read)

    def _catalog(self, action: str, entries: list[Any], parse: Callable[[Any], C]) -> list[C]:
        parsed: dict[str, C] = {}
        skipped = 0
        for index, entry in enumerate(entries):
            try:
                item = parse(entry)
            except BadRecord as exc:
                skipped += 1
                if skipped <= _MAX_LOGGED_SKIPS:
                    logger.warning("provider %s: skipped %s #%d: %s", self.host, action, index, exc)
                continue
            parsed.setdefault(item.upstream_id, item)  # the first of duplicate ids wins
        if skipped:
            logger.warning(
                "provider %s: skipped %d of %d %s", self.host, skipped, len(entries), action
            )
        if entries and not parsed:
            # An import that read nothing would deactivate the whole catalog: refuse it instead.
            self._answers.fail(action, READ, f"none of the {len(entries)} {action} was readable")
        return list(parsed.values())

    def _single(self, action: str, found: T | ItemError, is_write: bool) -> T:
        if not isinstance(found, ItemError):
            return found
        if found.is_outcome_unknown:
            self._answers.fail(action, is_write, found.message)
        self._answers.raise_for_text(action, found.message)

    def _batch_call(
        self,
        action: str,
        param: str,
        ids: list[str],
        id_fields: tuple[str, ...],
        read: Callable[[Any], T | ItemError],
        is_write: bool,
    ) -> dict[str, T | ItemError]:
        try:
            data = self._call(action, {param: ",".join(ids)}, is_write=is_write)
        except ProviderRejected as exc:
            if len(ids) != 1:
                raise
            # A one-id batch answered in the single shape, {"error": "Incorrect order ID"}:
            # that id's error, not a failure of the call.
            return {ids[0]: ItemError(exc.upstream_message or exc.message)}
        return self._batch(action, ids, data, id_fields, read, is_write)

    def _batch(
        self,
        action: str,
        ids: list[str],
        data: Any,
        id_fields: tuple[str, ...],
        read: Callable[[Any], T | ItemError],
        is_write: bool,
    ) -> dict[str, T | ItemError]:
        if is_single_shape(action, data, ids):
            if len(ids) > 1:
                self._answers.fail(
                    action, is_write, f"one answer for {len(ids)} ids: {shape(data)}"
                )
            return {ids[0]: read(data)}
        index = index_batch(data, id_fields)
        if index is None or (is_write and not index):
            self._answers.fail(action, is_write, f"unreadable batch answer: {shape(data)}")
        answers: dict[str, T | ItemError] = {}
        for entry_id in ids:
            key = id_key(entry_id)
            answers[entry_id] = read(index[key]) if key in index else unknown(MISSING_FROM_ANSWER)
        return answers


def _unwrap_record(data: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The answer as a record, looking inside `{"data": {...}}` when the fields are not on top."""
    rec = record(data) or {}
    inner = record(field(rec, "data"))
    if inner is not None and field(rec, *names) is None:
        return inner
    return rec


def _one_id(value: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError("an id must be a str")
    text = str(value).strip()
    if not text or "," in text:
        raise ValueError("expected one non-empty id")
    return text


def _batch_ids(values: Sequence[str]) -> list[str]:
    # A bare str is a Sequence too: "123" would silently become the ids "1", "2", "3".
    if isinstance(values, str | bytes):
        raise TypeError("expected a sequence of ids, not one string")
    ids = list(dict.fromkeys(_one_id(v) for v in values))
    if len(ids) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} ids per call, got {len(ids)}")
    return ids
