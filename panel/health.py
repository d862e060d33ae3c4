"""What `/health/` and `/health/worker/` report: each dependency of the web process on its own,
with its latency, and how long ago a worker last consumed the heartbeat that beat sends.

Answers name the failing part and the exception's class only: an exception's text can carry a
database or broker URL with its password.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.db.session import ping

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "panel:worker-heartbeat"
# Kept far longer than any alert threshold, so a missing key means "never seen", not "expired".
HEARTBEAT_TTL_SECONDS = 7 * 24 * 3600
_PROBE_KEY = "panel:health-probe"


@dataclass(frozen=True)
class Check:
    is_ok: bool
    latency_ms: float
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        answer: dict[str, object] = {"ok": self.is_ok, "latency_ms": round(self.latency_ms, 1)}
        if self.error:
            answer["error"] = self.error
        return answer


def _timed(name: str, probe: Callable[[], None]) -> Check:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:  # any failure of a dependency is "down"
        logger.warning("health check: %s is down (%s)", name, type(error).__name__)
        return Check(False, (time.perf_counter() - started) * 1000, type(error).__name__)
    return Check(True, (time.perf_counter() - started) * 1000)


def _cache() -> None:
    token = str(time.monotonic_ns())
    cache.set(_PROBE_KEY, token, 30)
    if cache.get(_PROBE_KEY) != token:
        raise LookupError("the cache did not keep a value")


def _broker() -> None:
    from panel.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, timeout=settings.PANEL_HEALTH_TIMEOUT
        )


def dependency_checks() -> dict[str, Check]:
    return {
        "database": _timed("database", ping),
        "broker": _timed("broker", _broker),
        "cache": _timed("cache", _cache),
    }


def heartbeat_record(*, worker: str) -> None:
    """Called by the heartbeat task on whichever worker consumed it."""
    cache.set(
        HEARTBEAT_KEY,
        {"at": timezone.now().isoformat(), "worker": worker},
        HEARTBEAT_TTL_SECONDS,
    )


@dataclass(frozen=True)
class WorkerStatus:
    is_alive: bool
    last_seen_at: datetime | None
    worker: str

    def as_dict(self) -> dict[str, object]:
        age = (timezone.now() - self.last_seen_at).total_seconds() if self.last_seen_at else None
        return {
            "ok": self.is_alive,
            "last_heartbeat_at": self.last_seen_at.isoformat() if self.last_seen_at else None,
            "age_seconds": round(age) if age is not None else None,
            "max_age_seconds": settings.PANEL_WORKER_HEARTBEAT_MAX_AGE,
            "worker": self.worker,
        }


def worker_status() -> WorkerStatus:
    try:
        seen = cache.get(HEARTBEAT_KEY)
    except Exception as error:  # an unreachable cache says nothing about workers
        logger.warning("health check: cannot read the heartbeat (%s)", type(error).__name__)
        seen = None
    if not isinstance(seen, dict):
        return WorkerStatus(False, None, "")
    last_seen_at = datetime.fromisoformat(str(seen["at"]))
    age = (timezone.now() - last_seen_at).total_seconds()
    return WorkerStatus(
        age <= settings.PANEL_WORKER_HEARTBEAT_MAX_AGE, last_seen_at, str(seen.get("worker", ""))
    )
