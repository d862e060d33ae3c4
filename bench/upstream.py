"""The provider simulator in a process of its own (`manage.py sandbox_provider`), so that the
panel's figures measure the panel: a simulator in the benchmark's own process would share its
interpreter lock with the poller and count its own JSON work as the panel's."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

KEY = "sandbox-key"


@dataclass
class Upstream:
    base_url: str
    pid: int

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v2"

    def control(self, name: str, **body: Any) -> Any:
        answer = httpx.post(
            f"{self.base_url}/_sandbox/{name}", json={"key": KEY, **body}, timeout=300
        )
        answer.raise_for_status()
        return answer.json()

    def cpu_seconds(self) -> float:
        """User + system CPU the simulator process has used so far (from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def _clock_ticks() -> int:
    import os

    return os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_process(*, seed: int, services: int = 40, **options: float) -> Iterator[Upstream]:
    """Run `manage.py sandbox_provider` on a free port until the block ends."""
    from bench.common import worker_env
    from tests.e2e.processes import Process, free_port

    port = free_port()
    args = [sys.executable, "manage.py", "sandbox_provider", "--port", str(port)]
    args += ["--seed", str(seed), "--services", str(services), "--key", KEY]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    process = Process(args, worker_env(), "bench-sandbox")
    try:
        process.wait_for_output(r"Sandbox provider at", timeout=60)
        upstream = Upstream(base_url=f"http://127.0.0.1:{port}", pid=process.popen.pid)
        _wait_answering(upstream)
        yield upstream
    finally:
        process.stop()


def _wait_answering(upstream: Upstream) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            upstream.control("stats")
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
