"""Resources: where the warehouse lives (configured through environment variables) and dbt."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging.version import Version

from ingest import pseudonym
from ingest.config import DBT_PROJECT_DIR, WarehousePaths


class WarehouseResource(dg.ConfigurableResource):
    """The data directory, the demo scale and DuckDB settings shared by every asset."""

    data_dir: str
    scale: str = "1.0"
    duckdb_memory_limit: str = "8GB"
    published_versions_kept: int = 5
    # A landing file is taken once its size and modification time have not changed for this
    # long (a file still being copied in is not loaded half-written).
    settle_seconds: str = "60"

    @property
    def paths(self) -> WarehousePaths:
        return WarehousePaths(Path(self.data_dir).resolve())

    @property
    def scale_value(self) -> float:
        return float(self.scale)

    @contextmanager
    def working(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working database. Only the pipeline opens this file."""
        path = self.paths.working_db
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": self.duckdb_memory_limit})
        if not read_only:
            # Holding the only read-write connection, nobody else has the file open: what a
            # killed process spilled to DuckDB's temp folder (raw text, personal data
            # included) is a leftover, and goes before anything is spilled anew.
            shutil.rmtree(Path(f"{path}.tmp"), ignore_errors=True)
        try:
            yield con
        finally:
            con.close()

    @property
    def settle_seconds_value(self) -> float:
        return float(self.settle_seconds)

    def pseudonym_key(self, create: bool = True) -> bytes:
        """WAREHOUSE_PSEUDONYM_KEY, else the 0600 key file under the data directory (see ingest.pseudonym).

        ``create=False`` once data exists: a missing key file is then an error, not a new key.
        """
        return pseudonym.load_key(self.paths.data_dir, create=create)

    def dbt_vars(self) -> str:
        return json.dumps({"working_db": str(self.paths.working_db), "scale": self.scale_value})


def warehouse_from_env() -> WarehouseResource:
    return WarehouseResource(
        data_dir=dg.EnvVar("WAREHOUSE_DATA_DIR"),
        scale=dg.EnvVar("WAREHOUSE_SCALE"),
        duckdb_memory_limit=dg.EnvVar("WAREHOUSE_DUCKDB_MEMORY_LIMIT"),
        settle_seconds=dg.EnvVar("WAREHOUSE_SETTLE_SECONDS"),
    )


class OwnDbtCliResource(DbtCliResource):
    """dbt of the environment running Dagster (so an unactivated venv still works).

    That dbt's version is the installed dbt-core's, so it is read from the package metadata:
    DbtCliResource would otherwise run `dbt --version`, a second interpreter start-up (1.5 s),
    in every process that runs a dbt step (once a run in process, once a step under the
    multiprocess executor). `tests/test_definitions.py` checks the overridden member still exists.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment, as ``warehouse-dbt``: it dies with the step that runs it."""
    return OwnDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).with_name("warehouse-dbt")),
    )
