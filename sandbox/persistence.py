"""Saving the sandbox's state to a JSON file and loading it back, so the demo's
upstream orders survive a restart."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sandbox.catalog import service_from_protocol
from sandbox.records import Order, ProductOrder, Refill
from sandbox.state import SandboxState

FORMAT_VERSION = 1
_ORDER_FIELDS = tuple(item.name for item in fields(Order))
_REFILL_FIELDS = tuple(item.name for item in fields(Refill))
_PRODUCT_ORDER_FIELDS = tuple(item.name for item in fields(ProductOrder))
_DECIMAL_FIELDS = frozenset(("charge", "refunded", "extra_charge", "refund_given"))
Record = TypeVar("Record", Order, Refill, ProductOrder)


def snapshot(state: SandboxState) -> dict[str, Any]:
    """Everything that is not rebuilt from the config, as JSON-able data."""
    with state.lock:
        return {
            "format": FORMAT_VERSION,
            "balance": str(state.balance),
            "next_order_id": state.next_order_id,
            "next_refill_id": state.next_refill_id,
            "next_product_order_id": state.next_product_order_id,
            "next_service_id": state.next_service_id,
            "rng": state.rng.getstate(),
            "control_rng": state.control_rng.getstate(),
            "services": [service.as_protocol() for service in state.services.values()],
            "inventory": {str(p.product): p.inventory for p in state.products.values()},
            "orders": [_row(order, _ORDER_FIELDS) for order in state.orders.values()],
            "refills": [_row(refill, _REFILL_FIELDS) for refill in state.refills.values()],
            "product_orders": [
                _row(order, _PRODUCT_ORDER_FIELDS) for order in state.product_orders.values()
            ],
            "due_refunds": state.due_refunds,
            "add_calls": state.add_calls,
            "adds_per_link": dict(state.adds_per_link),
            "requests": dict(state.requests),
        }


def restore(state: SandboxState, data: dict[str, Any]) -> None:
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"Unsupported sandbox state format: {data.get('format')!r}")
    with state.lock:
        state.balance = Decimal(data["balance"])
        state.next_order_id = data["next_order_id"]
        state.next_refill_id = data["next_refill_id"]
        state.next_product_order_id = data["next_product_order_id"]
        state.next_service_id = data["next_service_id"]
        state.rng.setstate(_rng_state(data["rng"]))
        state.control_rng.setstate(_rng_state(data["control_rng"]))
        state.services = {s["service"]: service_from_protocol(s) for s in data["services"]}
        for product_id, inventory in data["inventory"].items():
            if int(product_id) in state.products:
                state.products[int(product_id)].inventory = inventory
        state.orders = {row[0]: _record(Order, _ORDER_FIELDS, row) for row in data["orders"]}
        state.refills = {row[0]: _record(Refill, _REFILL_FIELDS, row) for row in data["refills"]}
        state.product_orders = {
            row[0]: _record(ProductOrder, _PRODUCT_ORDER_FIELDS, row)
            for row in data["product_orders"]
        }
        state.due_refunds = [(ends_at, order_id) for ends_at, order_id in data["due_refunds"]]
        state.add_calls = data["add_calls"]
        state.adds_per_link.clear()
        state.adds_per_link.update(data["adds_per_link"])
        state.requests.clear()
        state.requests.update(data["requests"])
        state.catalog_changed()
        state.products_changed()


def _row(record: Any, names: tuple[str, ...]) -> list[Any]:
    values = [getattr(record, name) for name in names]
    return [str(value) if isinstance(value, Decimal) else value for value in values]


def _record(cls: type[Record], names: tuple[str, ...], row: list[Any]) -> Record:
    values: dict[str, Any] = {
        name: Decimal(value) if name in _DECIMAL_FIELDS else value
        # A state saved before a field was added lacks it at the end: its default stands.
        for name, value in zip(names, row, strict=False)
    }
    return cls(**values)


def _rng_state(value: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss_next = value
    return version, tuple(internal), gauss_next


def save_file(path: str, data: dict[str, Any]) -> None:
    """Write to a temporary file beside the target, then rename: a crash mid-write
    leaves the previous state intact."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, separators=(",", ":"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def load_file(state: SandboxState, path: str) -> bool:
    """Load the saved state if the file exists; False when there is none yet."""
    target = Path(path)
    if not target.exists():
        return False
    with target.open(encoding="utf-8") as stream:
        restore(state, json.load(stream))
    return True


class StateSaver:
    """Saves the state every `interval` seconds when it changed, and once more on stop."""

    def __init__(self, state: SandboxState, path: str, interval: float) -> None:
        self.state = state
        self.path = path
        self.interval = interval
        self._saved_version = state.version
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-saver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.save(only_if_changed=True)

    def save(self, *, only_if_changed: bool = False) -> None:
        with self.state.lock:
            version = self.state.version
            if only_if_changed and version == self._saved_version:
                return
            data = snapshot(self.state)
        save_file(self.path, data)
        self._saved_version = version

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self.save()
