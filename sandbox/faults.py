"""Seeded fault draws and the broken answers real providers give."""

from __future__ import annotations

import random
import threading
from enum import Enum
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.errors import INCORRECT_SERVICE, NO_FUNDS

# Raw translation keys some provider panels leak instead of their messages.
LEAKED_KEYS = (
    "neworder.error.not_enough_funds",
    "neworder.error.link_duplicate",
    "neworder.error.min_quantity",
    "neworder.error.max_quantity",
    "error.incorrect_service_id",
)

BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

CHALLENGE_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
    b'<meta name="robots" content="noindex,nofollow"></head><body>'
    b'<div class="main-wrapper" role="main"><div class="main-content">'
    b'<h1 class="zone-name-title h1">Checking if the site connection is secure</h1>'
    b"<p>Enable JavaScript and cookies to continue</p></div></div></body></html>"
)


class AfterFault(Enum):
    """What happens to an answer once the work is done."""

    TIMEOUT = "timeout"
    BAD_GATEWAY = "5xx"
    NOT_JSON = "non_json"


class FaultDice:
    """The sandbox's fault and jitter draws, from their own seeded RNG so that
    turning faults on does not change order fates."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:faults")
        self._lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def uniform(self, high: float) -> float:
        with self._lock:
            return self._rng.uniform(0, high)

    def choice(self, options: tuple[str, ...]) -> str:
        with self._lock:
            return self._rng.choice(options)


def latency_seconds(config: SandboxConfig, dice: FaultDice) -> float:
    jitter = dice.uniform(config.latency_jitter_ms) if config.latency_jitter_ms > 0 else 0
    return max(config.latency_ms + jitter, 0) / 1000


def before_add(config: SandboxConfig, dice: FaultDice) -> dict[str, Any] | None:
    """An error answered instead of processing the add, or None to process it."""
    if dice.roll(config.leaked_key_rate):
        return {"error": dice.choice(LEAKED_KEYS)}
    if dice.roll(config.no_funds_rate):
        return {"error": NO_FUNDS}
    if dice.roll(config.reject_add_rate):
        return {"error": INCORRECT_SERVICE}
    return None


def after_work(config: SandboxConfig, dice: FaultDice, action: str) -> AfterFault | None:
    if action not in config.fault_actions:
        return None
    if dice.roll(config.timeout_rate):
        return AfterFault.TIMEOUT
    if dice.roll(config.error_5xx_rate):
        return AfterFault.BAD_GATEWAY
    if dice.roll(config.non_json_rate):
        return AfterFault.NOT_JSON
    return None
