"""`make chaos` in its short form: every kind of crash once (a worker, every worker, beat, a web
process mid-request, gunicorn's master, PostgreSQL, Redis with and without its data) and two
aimed kills under the mixed load (a child panel's orders through its parent among it) with every
sandbox fault at 10 %, and the run must end with every invariant of docs/reliability.md holding.

The timeout is generous: the machine's two cores may be shared, and a Celery worker can take half
a minute to start under load."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.chaos.killer import TARGETS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_short_chaos_run_ends_with_every_invariant_holding() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.chaos", "--short"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    kills = re.search(r"^chaos: kills_by_target (.+)$", result.stdout, re.MULTILINE)
    assert kills is not None, output[-3000:]
    # Every target, and the aimed kills' own (every web process at once) besides.
    assert set(TARGETS) <= set(json.loads(kills[1])), output[-3000:]
