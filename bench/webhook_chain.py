"""A status change travelling down a chain of three copies of this panel: the sandbox provider,
panel A buying from it, panel B buying from A, panel C buying from B, each a whole panel of its
own (database, gunicorn, worker with beat, a file broker). C's customer orders; the orders reach
the sandbox through B and A and run there until the benchmark finishes them. Measured per order:
from the moment A writes Completed to the moment C does.

First with webhooks (B and C subscribed to their providers, docs/protocol.md), then with polling
alone (the subscriptions removed), on the same poll settings: the baseline is what every chain
of panels pays today, about one poll interval per level."""

import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from bench.common import BENCH_DB, PG, note, report, reset_tables
from bench.upstream import KEY, Upstream, sandbox_process
from tests.e2e.processes import VENV_BIN, Process, free_port, manage, wait_until

LEVELS = ("a", "b", "c")


@dataclass
class Panel:
    name: str
    url: str
    env: dict[str, str]
    database: str

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v2"

    def api(self, key: str, **fields: str) -> object:
        answer = httpx.post(self.api_url, data={"key": key, **fields}, timeout=30)
        return json.loads(answer.text, parse_float=Decimal)

    def orders(self) -> dict[int, tuple[str | None, str, float | None]]:
        """id → (upstream id, status, finished_at as a unix time)."""
        with psycopg.connect(f"{PG}/{self.database}") as conn:
            rows = conn.execute(
                "SELECT id, upstream_id, status, extract(epoch FROM finished_at) FROM orders_order"
            ).fetchall()
        return {row[0]: (row[1], row[2], float(row[3]) if row[3] else None) for row in rows}


def _clone_bench_database(name: str) -> str:
    """A copy of the benchmark's database, migrated already (the same code, the same schema):
    three `migrate` runs would cost minutes on a busy machine."""
    from django.db import connections

    connections.close_all()  # a template must have no session
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{BENCH_DB}"')
    return f"{PG}/{name}"


def _env(name: str, port: int, folder: Path, poll_seconds: int, interval: int) -> dict[str, str]:
    broker = folder / name / "broker"
    for sub in ("queue", "processed", "control"):
        (broker / sub).mkdir(parents=True, exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "PANEL_ENV_FILE": "",
        "SECRET_KEY": f"bench-chain-{name}-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "PANEL_ENCRYPTION_KEYS": "wVQ8H0w2oB9bJ8K4kq2mZ3T2pYV7nS6c1dF5gH8jK0E=",
        "DATABASE_URL": _clone_bench_database(f"{BENCH_DB}_chain_{name}"),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(
            {
                "data_folder_in": str(broker / "queue"),
                "data_folder_out": str(broker / "queue"),
                "processed_folder": str(broker / "processed"),
                "control_folder": str(broker / "control"),
                "store_processed": False,
                "polling_interval": 0.1,
            }
        ),
        "CACHE_URL": f"filecache://{folder / name / 'cache'}",
        "EMAIL_URL": "consolemail://",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PANEL_HTTPS": "off",
        "PANEL_LANGUAGE": "en",
        "PANEL_NAME": f"Panel {name.upper()}",
        "PANEL_WEB_PORT": str(port),
        "PANEL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PANEL_WEBHOOKS_ALLOW_LOOPBACK": "on",
        "PANEL_WEBHOOKS_SECONDS": "2",
        "PANEL_POLL_SECONDS": str(poll_seconds),
        "PANEL_POLL_INTERVAL_SECONDS": str(interval),
        "PANEL_POLL_MAX_INTERVAL_SECONDS": str(interval * 8),
        "PANEL_FORWARD_SWEEP_SECONDS": "1",
        "PANEL_REQUIRE_EMAIL_CONFIRMATION": "False",
        "PANEL_STAFF_2FA": "False",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def _panel(
    name: str, provider_url: str, provider_key: str, folder: Path, poll_seconds: int, interval: int
) -> Iterator[Panel]:
    port = free_port()
    env = _env(name, port, folder, poll_seconds, interval)
    manage(env, "add_provider", "Upstream", provider_url, provider_key, "--markup-percent", "10")
    manage(env, "sync_catalog")
    web = Process(
        [str(VENV_BIN / "gunicorn"), "panel.wsgi", "-c", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env,
        f"chain-{name}-web",
    )
    worker_args = [str(VENV_BIN / "celery"), "-A", "panel", "worker", "--loglevel", "WARNING"]
    worker_args += ["--concurrency", "3", "--hostname", f"chain-{name}@%h", "--beat"]
    worker_args += ["--schedule", str(folder / name / "beat.db")]
    worker = Process(worker_args, env, f"chain-{name}-worker")
    panel = Panel(name, f"http://127.0.0.1:{port}", env, f"{BENCH_DB}_chain_{name}")
    try:
        wait_until(lambda: _answers(f"{panel.url}/health/"), timeout=60, what=f"panel {name}")
        yield panel
    finally:
        web.stop()
        worker.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _reseller(panel: Panel, name: str) -> str:
    return (
        manage(panel.env, "create_reseller", name, "--balance", "100000").strip().splitlines()[-1]
    )


def _place(bottom: Panel, key: str, count: int, tag: str) -> list[int]:
    services = bottom.api(key, action="services")
    assert isinstance(services, list)
    service = next(s for s in services if s["type"] == "Default")
    ids = []
    for n in range(count):
        answer = bottom.api(
            key,
            action="add",
            service=str(service["service"]),
            link=f"https://instagram.com/p/chain-{tag}-{n}",
            quantity=str(service["min"]),
        )
        assert isinstance(answer, dict) and "order" in answer, answer
        ids.append(int(answer["order"]))
    return ids


def _trace(panels: dict[str, Panel], bottom_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each bottom order's order at B and at A (None until forwarded)."""
    a, b, c = (panels[level].orders() for level in LEVELS)
    traced = {}
    for cid in bottom_ids:
        b_id = c[cid][0]
        a_id = b[int(b_id)][0] if b_id and int(b_id) in b else None
        if b_id and a_id and int(a_id) in a and a[int(a_id)][0]:
            traced[cid] = (int(b_id), int(a_id))
    return traced


def _measure(panels: dict[str, Panel], sandbox: Upstream, bottom_ids: list[int]) -> list[float]:
    """Finish the orders at the sandbox once the whole chain shows them In progress; seconds
    from A's Completed to C's."""
    started = time.monotonic()
    wait_until(
        lambda: len(_trace(panels, bottom_ids)) == len(bottom_ids),
        timeout=120,
        interval=0.5,
        what="the orders to reach the sandbox through B and A",
    )
    note(f"at the sandbox after {time.monotonic() - started:.1f} s")
    wait_until(
        lambda: all(panels["c"].orders()[i][1] == "In progress" for i in bottom_ids),
        timeout=300,
        interval=0.5,
        what="the bottom panel to see In progress",
    )
    note(f"in progress at every level after {time.monotonic() - started:.1f} s")
    traced = _trace(panels, bottom_ids)
    a_orders = panels["a"].orders()
    for _, a_id in traced.values():
        sandbox.control("force", order=int(a_orders[a_id][0] or 0), status="Completed")
    wait_until(
        lambda: all(panels["c"].orders()[i][1] == "Completed" for i in bottom_ids),
        timeout=600,
        interval=0.2,
        what="the bottom panel to see Completed",
    )
    a_orders, c_orders = panels["a"].orders(), panels["c"].orders()
    return [(c_orders[cid][2] or 0) - (a_orders[a_id][2] or 0) for cid, (_, a_id) in traced.items()]


def _unsubscribe(panels: dict[str, Panel], keys: dict[str, str]) -> None:
    """Remove B's subscription at A and C's at B: from here on, polling alone."""
    for upper, lower in (("a", "b"), ("b", "c")):
        with psycopg.connect(f"{PG}/{panels[lower].database}") as conn:
            (webhook_id,) = conn.execute("SELECT webhook_id FROM providers_provider").fetchone()
        answer = panels[upper].api(keys[lower], action="webhook_unsubscribe", webhook=webhook_id)
        assert isinstance(answer, dict) and answer.get("deleted") == 1, answer


def run(orders: int = 5, poll_seconds: int = 5, interval_seconds: int = 10) -> None:
    # The panels are clones of the benchmark's database: it must hold no rows of an earlier
    # benchmark (a provider whose key another process encrypted would stop their sync).
    reset_tables()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-chain-")))
        sandbox = stack.enter_context(
            sandbox_process(seed=21, services=20, pending_seconds=0.5, run_seconds=100_000)
        )
        keys: dict[str, str] = {}
        panels: dict[str, Panel] = {}
        provider_url, provider_key = sandbox.url, KEY
        started = time.monotonic()
        for level, buyer in zip(LEVELS, ("b", "c", "customer"), strict=True):
            panel = stack.enter_context(
                _panel(level, provider_url, provider_key, folder, poll_seconds, interval_seconds)
            )
            panels[level] = panel
            keys[buyer] = _reseller(panel, f"buyer-{buyer}")
            provider_url, provider_key = panel.api_url, keys[buyer]
            note(f"panel {level} up after {time.monotonic() - started:.1f} s")
        for level in ("b", "c"):
            note(manage(panels[level].env, "subscribe_webhooks").strip())
        note(
            f"3 panels up; poll every {poll_seconds} s, orders every {interval_seconds} s "
            f"(doubling while idle)"
        )

        pushed = _measure(panels, sandbox, _place(panels["c"], keys["customer"], orders, "hook"))
        note("with webhooks: " + ", ".join(f"{s:.2f}" for s in sorted(pushed)) + " s")
        report("webhook_chain_3_levels", statistics.median(pushed), "s")
        report("webhook_chain_3_levels_max", max(pushed), "s")

        _unsubscribe(panels, keys)
        polled = _measure(panels, sandbox, _place(panels["c"], keys["customer"], orders, "poll"))
        note("polling only: " + ", ".join(f"{s:.2f}" for s in sorted(polled)) + " s")
        report("poll_chain_3_levels", statistics.median(polled), "s")
        report("poll_chain_3_levels_max", max(polled), "s")
