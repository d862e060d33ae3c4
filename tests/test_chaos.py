"""`make chaos` in its short form: a few worker kills and every sandbox fault at 10 %, and the
run must end with every invariant of docs/reliability.md holding."""

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from orders.services.polling import engine

ROOT = Path(__file__).resolve().parent.parent
# Defect 8 of issue 8, still open where this holds: a poll round SIGKILLed half-way leaves the
# rows it claimed unpolled for the claim's whole lease (5 minutes), so a kill that lands in a
# round fails the run. The marker lifts itself once the lease is short.
POLL_STALL_AFTER_A_KILL = getattr(engine, "LEASE", timedelta(0)) > timedelta(seconds=30)


@pytest.mark.slow
@pytest.mark.xfail(
    POLL_STALL_AFTER_A_KILL,
    reason="defect 8: rows claimed by a killed poll round wait out a 5-minute lease",
    strict=False,
)
def test_a_short_chaos_run_ends_with_every_invariant_holding() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.chaos", "--short"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    kills = re.search(r"^chaos: kills (\d+)$", result.stdout, re.MULTILINE)
    assert kills is not None and int(kills[1]) >= 3, output[-3000:]
