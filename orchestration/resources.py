"""Resources: where the warehouse lives (configured through environment variables) and dbt."""

from __future__ import annotations

import json
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
        try:
            yield con
        finally:
            con.close()

    def pseudonym_key(self) -> bytes:
        """WAREHOUSE_PSEUDONYM_KEY, else the 0600 key file under the data directory (see ingest.pseudonym)."""
        return pseudonym.load_key(self.paths.data_dir)

    def dbt_vars(self) -> str:
        return json.dumps({"working_db": str(self.paths.working_db), "scale": self.scale_value})


def warehouse_from_env() -> WarehouseResource:
    return WarehouseResource(
        data_dir=dg.EnvVar("WAREHOUSE_DATA_DIR"),
        scale=dg.EnvVar("WAREHOUSE_SCALE"),
        duckdb_memory_limit=dg.EnvVar("WAREHOUSE_DUCKDB_MEMORY_LIMIT"),
    )


class OwnDbtCliResource(DbtCliResource):
    """dbt run by the interpreter running Dagster (so an unactivated venv still works).

    That dbt's version is the installed dbt-core's, so it is read from the package metadata:
    DbtCliResource would otherwise run `dbt --version`, a second interpreter start-up (1.5 s),
    in every process that runs a dbt step (once a run in process, once a step under the
    multiprocess executor). `tests/test_definitions.py` checks the overridden member still exists.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return OwnDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )
