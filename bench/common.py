"""What every benchmark shares: a fresh database, timing, and the `bench:` output lines."""

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

from tests.e2e.processes import database_server


def _bench_db() -> str:
    """PANEL_BENCH_DB, or the database the environment names with `_bench` appended
    (smm_panel_bench by default): checkouts that use different databases never drop each other's
    benchmark database."""
    if name := os.environ.get("PANEL_BENCH_DB"):
        return name
    url = os.environ.get("DATABASE_URL", "")
    base = url.rsplit("/", 1)[-1].split("?")[0] if url.startswith("postgres") else ""
    return f"{base or 'smm_panel'}_bench"


BENCH_DB = _bench_db()
# The server DATABASE_URL names (127.0.0.1:5432 by default), as the tests use it.
PG = database_server()


def database_cpu_seconds() -> float | None:
    """CPU seconds used so far by this machine's PostgreSQL processes (live backends and the
    ones that have exited, through the postmaster's children), or None when there are none
    to read (the database runs elsewhere). The difference over a run is the database's share
    of the machine, beside the panel process's own CPU."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, seen = 0, False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() not in ("postgres", "postmaster"):
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile, or not ours to read
        # utime, stime, and the same of its reaped children
        total += sum(int(value) for value in fields[11:15])
        seen = True
    return total / ticks if seen else None


def _own_backends(pids: "set[str] | None" = None) -> dict[str, int]:
    """CPU ticks so far of each live PostgreSQL process that works for the benchmark's database
    (its connections and autovacuum workers: the process title names the database): of every
    process, or only of `pids` (those found before)."""
    found = {}
    for pid in pids if pids is not None else filter(str.isdigit, os.listdir("/proc")):
        try:
            if pids is None:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace")
                # NUL-padded, and an autovacuum worker's title ends with the database's name.
                words = title.replace("\0", " ").split()
                if not title.startswith("postgres: ") or BENCH_DB not in words:
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = int(fields[11]) + int(fields[12])
    return found


class OwnDatabaseCpu:
    """What `own_database_cpu` measured: the database's seconds (None when none of its
    processes runs here) and the CPU seconds its sampling thread took in this process, which
    a benchmark takes off the process's own CPU: they are the measurement's, not the panel's."""

    seconds: float | None = None
    sampler_cpu: float = 0.0


@contextmanager
def own_database_cpu(interval: float = 0.05, rescan: float = 0.5) -> Iterator[OwnDatabaseCpu]:
    """CPU seconds the benchmark database's own PostgreSQL processes spent while the block ran:
    unlike `database_cpu_seconds`, other databases' work on a shared machine does not count, and
    neither do the server's shared processes (WAL writer, checkpointer). A backend's figures
    vanish when it exits (a poll round's lane connections close at its end), so the processes
    found are read every `interval` seconds, and all of /proc searched for new ones every
    `interval` seconds in the first `4 * rescan` seconds and while none is known, every `rescan`
    seconds after (searching it every time cost a few per cent of a core, counted as the
    panel's); a backend that starts and exits between two searches is missed."""
    import threading

    ticks = os.sysconf("SC_CLK_TCK")
    start = _own_backends()
    last = dict(start)
    done = threading.Event()
    measured = OwnDatabaseCpu()

    def sample() -> None:
        began = searched = time.monotonic()
        while not done.wait(interval):
            now = time.monotonic()
            # Every time in the first seconds, when the round opens its connections (a small
            # round's may all have closed within a second), and while none is known.
            if now - began < 4 * rescan or not last or now - searched >= rescan:
                last.update(_own_backends())
                searched = now
            else:
                last.update(_own_backends(set(last)))
        measured.sampler_cpu = time.thread_time()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield measured
    finally:
        done.set()
        sampler.join()
        last.update(_own_backends())
        if last:
            measured.seconds = sum(value - start.get(pid, 0) for pid, value in last.items()) / ticks


def report(name: str, value: float, unit: str) -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"bench: {name} {text} {unit}", flush=True)


def note(text: str) -> None:
    print(f"  {text}", flush=True)


# The seconds the run's own `migrate` took on its freshly created database (bench/child_panels.py
# reports it: a full migrate from zero, the same on any number of child panels).
MIGRATED_FROM_ZERO: list[float] = []


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    import django

    django.setup()
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    MIGRATED_FROM_ZERO.append(time.perf_counter() - start)


def broker_db() -> int:
    """The Redis database of the configured broker: the one a benchmark may flush."""
    from django.conf import settings

    from tests.e2e.processes import redis_db

    return redis_db(settings.CELERY_BROKER_URL)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a process (worker, gunicorn) that serves this benchmark's database."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **extra,
    }


# The months' registry describes partitions, which TRUNCATE keeps: emptied, every event and
# ledger row would fall to the legacy month, and every period lookup would read it again.
KEPT_TABLES = frozenset({"panel_period_start", "panel_partition"})


def vacuum_analyze_loaded(table: str) -> None:
    """VACUUM ANALYZE the partitions of `table` that hold rows: what autovacuum does soon after
    a bulk load. Not the empty partitions made ahead, which autovacuum leaves unanalyzed until
    rows arrive: analyzed empty, one is planned at its size when planned, and a key check
    cached on such a plan scans the whole partition as it fills (docs/performance.md, "A month
    analyzed empty"). Nor the partitioned table itself, which autovacuum never analyzes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {table}")  # noqa: S608 - a model's table
        loaded = [name for (name,) in cursor.fetchall()]
        for name in loaded:
            cursor.execute(f"VACUUM ANALYZE {name}")


def reset_tables() -> None:
    """Empty every product table, as a new install is, with this month's partitions ready
    (what beat's hourly `partitions-prepare` keeps so: the id sequences back at their months'
    ranges, this month's first ids marked)."""
    from django.conf import settings
    from django.db import connection

    from orders.partitions import partitions_prepare_all

    tables = [
        t
        for t in connection.introspection.table_names()
        # Every app's tables but Django's own: a benchmark starts from an empty panel.
        if t.split("_")[0] in settings.PANEL_APPS and t not in KEPT_TABLES
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    partitions_prepare_all()


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


@contextmanager
def count_queries() -> Iterator[list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    box: list[int] = []
    with CaptureQueriesContext(connection) as ctx:
        yield box
    box.append(len(ctx.captured_queries))


def median_ms(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 of `repeat` runs, in milliseconds (after one warm-up run)."""
    run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]
