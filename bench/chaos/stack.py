"""The processes a chaos run starts: its own PostgreSQL cluster and Redis server (servers.py),
the sandbox provider, gunicorn, Celery workers and beat, each on a port of its own."""

import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from bench.chaos.servers import PgCluster, RedisServer
from tests.e2e.processes import (
    FAST_PANEL,
    VENV_BIN,
    Process,
    celery_worker,
    free_port,
    manage,
    wait_until,
)
from tests.payments.senders import BANK_ACCOUNT, CASSO_KEY, SEPAY_KEY

SANDBOX_KEY = "chaos-sandbox-key"
# The child panel's domain: its customers reach the run's gunicorn with this Host header.
CHILD_DOMAIN = "child.chaos.test"
# After gunicorn's master is SIGKILLed its orphaned workers notice within a second or two and
# exit; the ones still serving after this long are killed, as a container's end kills them all.
ORPHAN_GRACE_SECONDS = 5
# Generous: the machine's two cores are shared, and a process may take a minute to start.
START_TIMEOUT = 180
WORKERS = 2  # Celery workers (prefork, concurrency 2 each): one or both die at a time
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
    """One kill and the process (or server) that replaced it: what was hit, what was in flight
    at that moment, and how long the stack took to come back."""

    target: str
    killed_at: float
    in_flight: dict[str, int] = field(default_factory=dict)
    ready_at: float = 0.0
    due_at_kill: int = 0  # sent, unfinished orders whose poll was due (or leased) at the kill
    leased_at_kill: int = 0  # of those, rows the killed round had claimed for its lease
    leased_still_waiting: int = 0  # of those, still unpolled two poll periods after ready
    resumed_after: float | None = None  # seconds from ready to the first status call upstream
    revived: list[str] = field(default_factory=list)  # what died of it and was started again
    aim: str = ""  # an aimed kill: what it waited for, and whether it was seen

    @property
    def stops_polling(self) -> bool:
        """Whether this kill stopped every poll round (all workers, beat, the database, or the
        broker): the ones after which polling must be seen to come back."""
        return self.target not in ("worker", "web", "web-all", "web-master")


@dataclass
class Stack:
    """The run's servers and processes; `env` is what the panel processes read."""

    env: dict[str, str]
    pg: PgCluster
    redis: RedisServer
    sandbox_url: str
    web_url: str
    web_port: int
    mail_dir: Path
    sandbox: Process
    web: Process
    beat: Process
    workers: list[Process]
    restarts: list[Restart] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"{self.web_url}/api/v2"

    def control(self, name: str, **body: object) -> object:
        answer = httpx.post(
            f"{self.sandbox_url}/_sandbox/{name}", json={"key": SANDBOX_KEY, **body}, timeout=30
        )
        answer.raise_for_status()
        return answer.json()

    def kill_workers(self, indexes: list[int]) -> None:
        """SIGKILL each whole process group: the main process and its prefork children at once,
        all the chosen workers in the same instant."""
        for index in indexes:
            os.killpg(self.workers[index].popen.pid, signal.SIGKILL)
        for index in indexes:
            self.workers[index].popen.wait(timeout=30)
            self.workers[index].stop()

    def start_workers(self, indexes: list[int]) -> None:
        """Side by side, as a supervisor starts them: each may take a while to be ready."""
        with ThreadPoolExecutor(len(indexes)) as pool:
            started = list(pool.map(lambda index: _worker(self.env, index), indexes))
        for index, worker in zip(indexes, started, strict=True):
            self.workers[index] = worker

    def kill_beat(self) -> None:
        os.killpg(self.beat.popen.pid, signal.SIGKILL)
        self.beat.popen.wait(timeout=30)
        self.beat.stop()

    def start_beat(self) -> None:
        self.beat = _beat(self.env)

    def kill_web_worker(self) -> bool:
        """SIGKILL one of gunicorn's worker processes (its master forks a new one): the requests
        it was serving die with it. False when no worker process was found."""
        children = _children(self.web.popen.pid)
        if not children:
            return False
        os.kill(children[0], signal.SIGKILL)
        return True

    def kill_web_workers(self) -> bool:
        """SIGKILL every gunicorn worker process at once; False when none was found."""
        children = _children(self.web.popen.pid)
        for child in children:
            os.kill(child, signal.SIGKILL)
        return bool(children)

    def kill_web_master(self) -> list[int]:
        """SIGKILL gunicorn's master alone; its orphaned worker processes are left to notice and
        exit (those still alive after ORPHAN_GRACE_SECONDS are killed, as the end of a
        container kills them). Returns the orphans' pids."""
        orphans = _children(self.web.popen.pid)
        os.kill(self.web.popen.pid, signal.SIGKILL)
        self.web.popen.wait(timeout=30)
        deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
        while any(_alive(pid) for pid in orphans) and time.monotonic() < deadline:
            time.sleep(0.2)
        try:
            os.killpg(self.web.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.web.stop()
        return orphans

    def start_web(self) -> None:
        """A new gunicorn on the same port, as the supervisor starts it again."""
        self.web = _web(self.env, self.web_port)

    def revive(self) -> list[str]:
        """Start again what exited on its own, as the supervisor of a real deployment does
        (`restart: unless-stopped` in docker-compose.yml); returns what had died."""
        died = []
        for index, worker in enumerate(self.workers):
            if worker.popen.poll() is not None:
                worker.stop()
                died.append(f"worker{index} ({_last_error(worker)})")
                self.start_workers([index])
        if self.web.popen.poll() is not None:
            died.append(f"web ({_last_error(self.web)})")
            self.web.stop()
            self.start_web()
            wait_until(self.web_answers, timeout=START_TIMEOUT, what="gunicorn")
        if self.beat.popen.poll() is not None:
            died.append(f"beat ({_last_error(self.beat)})")
            self.beat.stop()
            self.start_beat()
        return died

    def web_answers(self) -> bool:
        return _answers(f"{self.web_url}/health/")

    def stop_panel(self) -> None:
        for process in (*self.workers, self.beat, self.web):
            process.stop()

    def stop(self) -> None:
        self.stop_panel()
        self.sandbox.stop()
        self.pg.remove()
        self.redis.remove()


def _last_error(process: Process) -> str:
    """The line a process died with: its last CRITICAL or ERROR line, else its last line."""
    lines = [line for line in process.output().splitlines() if line.strip()]
    worst = [line for line in lines if " CRITICAL " in line] or lines[-1:]
    return worst[-1].split(" ", 3)[-1][:160] if worst else "no output"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting for its (gone) parent."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _web(env: dict[str, str], port: int) -> Process:
    return Process(
        [str(VENV_BIN / "gunicorn"), "panel.wsgi", "-c", "gunicorn.conf.py"],
        {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        "chaos-web",
    )


def _worker(env: dict[str, str], index: int) -> Process:
    return celery_worker(env, name=f"chaos-worker{index}", beat=False, timeout=START_TIMEOUT)


def _beat(env: dict[str, str]) -> Process:
    schedule = Path(tempfile.mkdtemp(prefix="chaos-beat-")) / "schedule.db"
    beat = Process(
        [str(VENV_BIN / "celery"), "-A", "panel", "beat", "--schedule", str(schedule)],
        env,
        "chaos-beat",
    )
    # Back once its scheduler has opened the schedule file, right before its first tick: the
    # banner comes before Django loads, and its "sending due task" lines are silenced
    # (panel/celery.py).
    beat.wait_for_output("is starting", timeout=START_TIMEOUT)
    wait_until(
        lambda: any(schedule.parent.glob("schedule.db*")),
        timeout=START_TIMEOUT,
        what="beat's schedule file",
    )
    return beat


def panel_env(pg: PgCluster, redis: RedisServer, mail_dir: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "PANEL_ENV_FILE": "",
        "SECRET_KEY": "chaos-run-secret-key-not-for-production-0123456789abcdef",
        "PANEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": pg.url,
        "CELERY_BROKER_URL": redis.url(0),
        "CACHE_URL": redis.url(1),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PANEL_HTTPS": "off",  # plain HTTP on loopback: no TLS proxy in front
        # The sandbox bills in dollars and the run's balances and refunds are counted in them;
        # a panel's default follows its language (VND for vi, the product default).
        "PANEL_CURRENCY": "USD",
        "PANEL_API_RATE": "100000/min",
        "CELERY_TASK_SOFT_TIME_LIMIT": str(TASK_SOFT_LIMIT_SECONDS),
        "CELERY_TASK_TIME_LIMIT": str(TASK_HARD_LIMIT_SECONDS),
        **FAST_PANEL,
        "PANEL_PROVIDER_READ_TIMEOUT": str(READ_TIMEOUT_SECONDS),
        # Every email the panel sends is a file: the run counts them against the outbox.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "PANEL_NOTIFICATIONS_SECONDS": "2",
        # Resellers' status webhooks go to the run's loopback receiver (hooks.py).
        "PANEL_WEBHOOKS_ALLOW_LOOPBACK": "on",
        "PANEL_WEBHOOKS_SECONDS": "2",
        "PANEL_REQUIRE_EMAIL_CONFIRMATION": "off",
        # Bank transfers reported by SePay and Casso (as tests/payments sign them).
        "PANEL_BANK_BIN": "970436",
        "PANEL_BANK_ACCOUNT": BANK_ACCOUNT,
        "PANEL_BANK_ACCOUNT_NAME": "SMM PANEL CO",
        "PANEL_TRANSFER_PREFIX": "NAP",
        "PANEL_SEPAY_API_KEY": SEPAY_KEY,
        "PANEL_CASSO_CHECKSUM_KEY": CASSO_KEY,
        "PANEL_VND_RATE": "25000",
        # Commissions settle as soon as they accrue, and the settle pass runs every minute.
        "PANEL_AFFILIATE_HOLD_DAYS": "0",
        "PANEL_AFFILIATE_CARD_HOLD_DAYS": "0",
        "PANEL_AFFILIATE_SETTLE_MINUTES": "1",
        # The affiliate takes his commission out in small payouts (money.Affiliate).
        "PANEL_AFFILIATE_MIN_PAYOUT": "0.10",
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


def stack_start(*, seed: int, busy_faults: bool, extra_env: dict[str, str]) -> Stack:
    """The whole stack, up; on a failure on the way, whatever had started is stopped.
    `extra_env`: settings of the run's own fakes (the Bot API's address)."""
    pg, redis = PgCluster(), RedisServer()
    started: list[Process] = []
    try:
        return _start(pg, redis, started, seed=seed, busy_faults=busy_faults, extra=extra_env)
    except BaseException:
        for process in started:
            process.stop()
        pg.remove()
        redis.remove()
        raise


def _start(
    pg: PgCluster,
    redis: RedisServer,
    started: list[Process],
    *,
    seed: int,
    busy_faults: bool,
    extra: dict[str, str],
) -> Stack:
    pg.start()
    redis.start()
    mail_dir = Path(tempfile.mkdtemp(prefix="chaos-mail-"))
    env = {**panel_env(pg, redis, mail_dir), **extra}
    sandbox_port, web_port = free_port(), free_port()
    # The child panel's provider: the parent's own /api/v2, on loopback.
    env["PANEL_CHILD_PANEL_API_URL"] = f"http://127.0.0.1:{web_port}/api/v2"
    sandbox = Process(
        _sandbox_args(sandbox_port, seed, busy_faults=busy_faults), env, "chaos-sandbox"
    )
    started.append(sandbox)
    sandbox.wait_for_output("Sandbox provider at", timeout=START_TIMEOUT)
    manage(env, "migrate", "--noinput", timeout=2 * START_TIMEOUT)
    web = _web(env, web_port)
    started.append(web)

    def one(start: Callable[[], Process]) -> Process:
        process = start()
        started.append(process)
        return process

    with ThreadPoolExecutor(WORKERS + 1) as pool:
        beat = pool.submit(one, lambda: _beat(env))
        workers = list(pool.map(lambda index: one(lambda: _worker(env, index)), range(WORKERS)))
    stack = Stack(
        env=env,
        pg=pg,
        redis=redis,
        sandbox_url=f"http://127.0.0.1:{sandbox_port}",
        web_url=f"http://127.0.0.1:{web_port}",
        web_port=web_port,
        mail_dir=mail_dir,
        sandbox=sandbox,
        web=web,
        beat=beat.result(),
        workers=workers,
    )
    stack.control("config", refill_rejected_rate=FAULTS["refill_rejected_rate"])
    wait_until(stack.web_answers, timeout=START_TIMEOUT, what="gunicorn")
    return stack
