"""The code location, a `dg` project (``[tool.dg]`` in pyproject.toml): every module of
``orchestration/defs/`` gives the definitions of one concern (ingest, dbt, checks, publication, jobs
and the schedule, sensors, alerts, resources), loaded when Dagster loads the code location, not
when this module is imported. ``workspace.yaml`` names this module; `dg check defs` validates it.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
