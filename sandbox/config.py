"""The sandbox provider's knobs: catalog size, order timing, latency and faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sandbox.errors import ControlError
from sandbox.money import decimal_str

# Fields a running sandbox may change through /_sandbox/config. Catalog size,
# seed and key are fixed at start because orders and ids derive from them.
PATCHABLE_FLOATS = (
    "latency_ms",
    "latency_jitter_ms",
    "pending_seconds",
    "run_seconds",
    "timeout_seconds",
)
PROBABILITIES = (
    "partial_rate",
    "cancel_rate",
    "refill_rejected_rate",
    "refill_refuse_rate",
    "timeout_rate",
    "error_5xx_rate",
    "non_json_rate",
    "leaked_key_rate",
    "no_funds_rate",
    "reject_add_rate",
)


@dataclass
class SandboxConfig:
    key: str = "sandbox-key"
    seed: int = 1
    services: int = 40
    products: int = 6
    currency: str = "USD"
    balance: Decimal = Decimal("100000")
    latency_ms: float = 0
    latency_jitter_ms: float = 0
    pending_seconds: float = 2
    run_seconds: float = 10
    partial_rate: float = 0.1
    cancel_rate: float = 0.05
    refill_rejected_rate: float = 0.1
    # `refill` answered "Refill is not available for this order" at once (not Rejected later):
    # the panel's refill escalation tests.
    refill_refuse_rate: float = 0
    timeout_rate: float = 0
    timeout_seconds: float = 30
    error_5xx_rate: float = 0
    non_json_rate: float = 0
    leaked_key_rate: float = 0
    no_funds_rate: float = 0
    # `add` answered with an explicit rejection ("Incorrect service ID"): failover tests.
    reject_add_rate: float = 0
    fault_actions: tuple[str, ...] = ("add",)
    # `add` refuses a second order for a service and link while one is still open, as many
    # real panels do: the panel's link-busy waits are tested against it.
    is_one_order_per_link: bool = False
    state_file: str | None = None
    save_interval_seconds: float = 2
    verbose: bool = False
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.balance = Decimal(str(self.balance))
        self.fault_actions = tuple(self.fault_actions)


def config_as_dict(config: SandboxConfig) -> dict[str, Any]:
    """The config as JSON-able data, without the key: answers may end up in logs."""
    data: dict[str, Any] = {}
    for item in fields(config):
        if item.name in ("key", "clock"):
            continue
        value = getattr(config, item.name)
        if isinstance(value, Decimal):
            value = decimal_str(value)
        elif isinstance(value, tuple):
            value = list(value)
        data[item.name] = value
    return data


def config_patch(config: SandboxConfig, changes: dict[str, Any]) -> None:
    """Validate every change first so a bad field leaves the config untouched."""
    parsed = {name: _parse_field(name, value) for name, value in changes.items()}
    for name, value in parsed.items():
        setattr(config, name, value)


def _parse_field(name: str, value: Any) -> Any:
    if name == "fault_actions":
        return _parse_actions(value)
    if name in PATCHABLE_FLOATS:
        number = _parse_float(name, value)
        if number < 0:
            raise ControlError(f"{name} must not be negative")
        return number
    if name in PROBABILITIES:
        number = _parse_float(name, value)
        if not 0 <= number <= 1:
            raise ControlError(f"{name} must be between 0 and 1")
        return number
    if name in ("verbose", "is_one_order_per_link"):
        return bool(value)
    raise ControlError(f"Unknown or read-only config field: {name}")


def _parse_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ControlError(f"{name} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be a number") from None


def _parse_actions(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ControlError("fault_actions must be a list or a comma-separated string")
    return tuple(str(item).strip() for item in value if str(item).strip())
