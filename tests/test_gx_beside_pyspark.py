"""Great Expectations where pyspark is installed (the Spark engine): pyspark's Spark Connect client
ends a process whose ``__main__`` has no file (``python -c``, as Dagster's step workers and
pytest-xdist's workers are) when imported, and GX imports it. A GX check must validate there,
whether or not something imported pyspark before it."""

import subprocess
import sys

import pytest

from config.layout import REPO_ROOT

pytest.importorskip("pyspark")  # installed by make test (make setup-spark)

VALIDATE = """
import pandas as pd
from config.layout import EXPECTATIONS_DIR
from orchestration.defs.checks.great_expectations import validate_suite
result = validate_suite(pd.DataFrame({"x": [1]}), EXPECTATIONS_DIR / "call_center_monthly.json")
print("validated", result.success)
"""


@pytest.mark.parametrize("before", ["", "import pyspark\n", "import pyspark.sql\n"])
def test_a_gx_check_validates_in_a_worker_without_a_main_file(before):
    done = subprocess.run(
        [sys.executable, "-c", before + VALIDATE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "validated False" in done.stdout, (done.stdout[-1000:], done.stderr[-2000:])  # ran, and judged the frame
