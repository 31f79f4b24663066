"""Smoke test of the benchmark harness: it runs at a tiny scale and prints finite ratios (no time limits)."""

import math
import os
import subprocess
import sys

import pytest

from config.layout import REPO_ROOT

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


def test_bench_prints_every_ratio(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.002", "--runs", "1", "--work-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ratios = {}
    for line in result.stdout.splitlines():
        if line.startswith("RATIO "):
            _, name, value = line.split()
            ratios[name] = float(value)
    assert set(ratios) == {"R1", "R3", "R1L", "R3L", "R6", "R7"}
    assert all(math.isfinite(v) and v > 0 for v in ratios.values()), ratios
    assert result.stdout.rstrip().splitlines()[-1].startswith("RATIO R7 ")  # the ratio lines end the output

    # bench.stages times one more nightly on the harness's pipeline data (an incremental night)
    stages = subprocess.run(
        [sys.executable, "-m", "bench.stages", "--data-dir", str(tmp_path / "pipeline"), "--scale", "0.002"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        env={**os.environ, "WAREHOUSE_PSEUDONYM_KEY": "bench"},  # the key the harness loaded the ledger with
    )
    assert stages.returncode == 0, stages.stderr[-3000:]
    steps = {line.split()[1] for line in stages.stdout.splitlines() if line.startswith("step ")}
    assert {"call_center_dbt", "national_pension_dbt", "employer_dbt", "raw__call_center__calls"} <= steps
    assert "nightly_refresh succeeded in" in stages.stdout and "peak RSS" in stages.stdout
