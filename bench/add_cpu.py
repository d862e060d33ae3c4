"""The CPU of one API `add` in process, beside the fair baseline's (a DRF endpoint that inserts
one row and commits): the Django test client posting form-encoded requests, the two taken in
alternating slices so that the machine's drift falls on both. Python's CPU is the process's
own (`time.process_time`), PostgreSQL's the connection's backend's (`/proc/<pid>/stat`), so
other databases' work on a shared machine does not count. Gunicorn's rates (`api`, `api_scale`)
move with the machine's load by more than a change to `add` is worth; these figures do not."""

import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpResponse

from bench.common import note, report

FORM = "application/x-www-form-urlencoded"


def _backend_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests(services: int) -> dict[str, Callable[[], None]]:
    """An `add` and a baseline request, each ready to post again (a new link each time)."""
    from django.test import Client

    from bench.api import catalog_and_reseller
    from providers.models import Service

    provider, user, key = catalog_and_reseller(services, username="addcpu")
    service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
    assert service is not None
    client = Client()
    serial = iter(range(10**9))

    def post(path: str, data: dict[str, object]) -> HttpResponse:
        # Form-encoded, as resellers' clients and `api`'s gunicorn runs post (the test client
        # would send multipart, whose parser costs more than most of `add`).
        return client.post(path, urlencode(data), content_type=FORM)

    def add() -> None:
        answer = post(
            "/api/v2",
            {
                "key": key,
                "action": "add",
                "service": service.pk,
                "link": f"https://x.com/p/{next(serial)}",
                "quantity": service.min,
            },
        )
        assert answer.status_code == 200 and b'"order"' in answer.content, answer.content[:200]

    def insert() -> None:
        answer = post("/bench/insert", {"link": f"https://x.com/p/{next(serial)}"})
        assert answer.status_code == 200, answer.content[:200]

    return {"add": add, "insert": insert}


def run(*, services: int, slices: int, per_slice: int) -> None:
    from django.db import connection

    targets = requests(services)
    for request in targets.values():  # warm: the process's caches, the prepared statements
        for _ in range(50):
            request()
    statements = []
    with connection.execute_wrapper(lambda execute, *args: statements.append(1) or execute(*args)):
        targets["add"]()
    python: dict[str, list[float]] = {name: [] for name in targets}
    backend: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(slices):
        for name, request in targets.items():
            pid = connection.connection.info.backend_pid
            cpu, database = time.process_time(), _backend_seconds(pid)
            for _ in range(per_slice):
                request()
            assert connection.connection.info.backend_pid == pid, "the connection was replaced"
            python[name].append((time.process_time() - cpu) / per_slice * 1000)
            backend[name].append((_backend_seconds(pid) - database) / per_slice * 1000)
    note(
        f"{slices} slices of {per_slice} requests each, taken in turn; medians of the slices; "
        f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    report("api_add_statements", len(statements), "statements")
    for name in targets:
        report(f"api_{name}_python_cpu_per_request", statistics.median(python[name]), "ms")
        report(f"api_{name}_backend_cpu_per_request", statistics.median(backend[name]), "ms")
    report(
        "api_add_python_cpu_over_insert",
        statistics.median(a - b for a, b in zip(python["add"], python["insert"], strict=True)),
        "ms",
    )
