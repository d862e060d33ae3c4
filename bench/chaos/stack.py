"""The processes a chaos run starts, each on its own port, database and Redis databases."""

import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.e2e.processes import (
    FAST_PANEL,
    VENV_BIN,
    Process,
    celery_worker,
    flush_redis,
    free_port,
    manage,
    recreate_database,
    redis_db,
    wait_until,
)

SANDBOX_KEY = "chaos-sandbox-key"
# Dedicated defaults: the tests use Redis 14/15 (and 10/11 for their peer panel).
DEFAULT_DB = "smm_chaos"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/12"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/13"
# Every fault the sandbox has, at about one request in ten (sandbox/config.py, sandbox/faults.py).
FAULT_RATE = 0.1
FAULTS = {
    "partial_rate": FAULT_RATE,
    "cancel_rate": FAULT_RATE,
    "refill_rejected_rate": FAULT_RATE,
    "timeout_rate": FAULT_RATE,
    "error_5xx_rate": FAULT_RATE,
    "non_json_rate": FAULT_RATE,
    "leaked_key_rate": FAULT_RATE,
    "no_funds_rate": FAULT_RATE,
}
FAULT_ACTIONS = "add,status"
# The faults that only make the provider refuse an add for a while ("busy"): each pauses all
# forwarding to the provider for minutes, so they are switched off once the orders are in and
# the provider "recovers". Timeouts, 5xx and non-JSON answers go on until the end.
BUSY_FAULTS = ("leaked_key_rate", "no_funds_rate")
READ_TIMEOUT_SECONDS = 3  # a timed-out answer costs a worker slot this long
# The sweeper flags a row stuck in `sending` after the task's hard limit + 60 s: short limits
# keep a run within minutes (the tasks themselves take well under a second).
TASK_SOFT_LIMIT_SECONDS = 20
TASK_HARD_LIMIT_SECONDS = 30


@dataclass
class Restart:
    """One SIGKILL of the worker and the worker that replaced it."""

    killed_at: float
    ready_at: float = 0.0
    due_at_kill: int = 0  # sent, unfinished orders whose poll was due (or leased) at the kill
    leased_at_kill: int = 0  # of those, rows the killed round had claimed for its lease
    leased_still_waiting: int = 0  # of those, still unpolled two poll periods after ready
    resumed_after: float | None = None  # seconds from ready to the first status call upstream


@dataclass
class Stack:
    """Web, worker, beat and sandbox of one run; `env` is what the panel processes read."""

    env: dict[str, str]
    sandbox_url: str
    web_url: str
    sandbox: Process
    web: Process
    beat: Process
    worker: Process
    restarts: list[Restart] = field(default_factory=list)
    worker_logs: list[Path] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"{self.web_url}/api/v2"

    def control(self, name: str, **body: object) -> object:
        answer = httpx.post(
            f"{self.sandbox_url}/_sandbox/{name}", json={"key": SANDBOX_KEY, **body}, timeout=30
        )
        answer.raise_for_status()
        return answer.json()

    def kill_worker(self) -> Restart:
        """SIGKILL the whole process group: the main process and its prefork children at once."""
        restart = Restart(killed_at=time.monotonic())
        os.killpg(self.worker.popen.pid, signal.SIGKILL)
        self.worker.popen.wait(timeout=30)
        self.worker.stop()
        self.restarts.append(restart)
        return restart

    def start_worker(self) -> None:
        self.worker = celery_worker(self.env, name="chaos-worker", beat=False)
        self.worker_logs.append(self.worker.log)

    def stop_panel(self) -> None:
        for process in (self.worker, self.beat, self.web):
            process.stop()

    def stop(self) -> None:
        self.stop_panel()
        self.sandbox.stop()


def panel_env() -> dict[str, str]:
    database = os.environ.get("PANEL_CHAOS_DB", DEFAULT_DB)
    broker_url = os.environ.get("PANEL_CHAOS_BROKER_URL", DEFAULT_BROKER_URL)
    cache_url = os.environ.get("PANEL_CHAOS_CACHE_URL", DEFAULT_CACHE_URL)
    flush_redis(redis_db(broker_url))
    flush_redis(redis_db(cache_url))
    return {
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "PANEL_ENV_FILE": "",
        "SECRET_KEY": "chaos-run-secret-key-not-for-production-0123456789abcdef",
        "PANEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": recreate_database(database),
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": cache_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PANEL_HTTPS": "off",  # plain HTTP on loopback: no TLS proxy in front
        "PANEL_API_RATE": "100000/min",
        "CELERY_TASK_SOFT_TIME_LIMIT": str(TASK_SOFT_LIMIT_SECONDS),
        "CELERY_TASK_TIME_LIMIT": str(TASK_HARD_LIMIT_SECONDS),
        **FAST_PANEL,
        "PANEL_PROVIDER_READ_TIMEOUT": str(READ_TIMEOUT_SECONDS),
    }


def _sandbox_args(port: int, seed: int, *, busy_faults: bool) -> list[str]:
    args = [sys.executable, "manage.py", "sandbox_provider", "--port", str(port)]
    args += ["--key", SANDBOX_KEY, "--seed", str(seed), "--services", "40", "--products", "2"]
    args += ["--latency-ms", "20", "--latency-jitter-ms", "80"]
    args += ["--pending-seconds", "1", "--run-seconds", "4"]
    args += ["--timeout-seconds", str(READ_TIMEOUT_SECONDS + 1)]
    for name, rate in FAULTS.items():
        if name != "refill_rejected_rate":  # no command-line option; patched below
            on = busy_faults or name not in BUSY_FAULTS
            args += [f"--{name.replace('_', '-')}", str(rate if on else 0)]
    return [*args, "--fault-actions", FAULT_ACTIONS]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def stack_start(*, seed: int, busy_faults: bool) -> Stack:
    env = panel_env()
    sandbox_port, web_port = free_port(), free_port()
    sandbox = Process(
        _sandbox_args(sandbox_port, seed, busy_faults=busy_faults), env, "chaos-sandbox"
    )
    sandbox.wait_for_output("Sandbox provider at", timeout=60)
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    manage(env, "migrate", "--noinput")
    web = Process(
        [str(VENV_BIN / "gunicorn"), "panel.wsgi", "-c", "gunicorn.conf.py"],
        {**env, "GUNICORN_BIND": f"127.0.0.1:{web_port}"},
        "chaos-web",
    )
    schedule = Path(tempfile.mkdtemp(prefix="chaos-beat-")) / "schedule.db"
    beat = Process(
        [str(VENV_BIN / "celery"), "-A", "panel", "beat", "--schedule", str(schedule)],
        env,
        "chaos-beat",
    )
    stack = Stack(
        env=env,
        sandbox_url=sandbox_url,
        web_url=f"http://127.0.0.1:{web_port}",
        sandbox=sandbox,
        web=web,
        beat=beat,
        worker=celery_worker(env, name="chaos-worker", beat=False),
    )
    stack.worker_logs.append(stack.worker.log)
    stack.control("config", refill_rejected_rate=FAULTS["refill_rejected_rate"])
    wait_until(lambda: _answers(f"{stack.web_url}/health/"), timeout=60, what="gunicorn")
    return stack
