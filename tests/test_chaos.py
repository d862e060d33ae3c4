"""`make chaos` in its short form: a few worker kills and every sandbox fault at 10 %, and the
run must end with every invariant of docs/reliability.md holding."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
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
