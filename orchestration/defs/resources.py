"""Resources: the warehouse (its settings and the working database) and dbt."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging.version import Version
from pydantic import ConfigDict

from commands import dbt_child, working_lock
from config.layout import DBT_PROJECT_DIR, WarehousePaths
from config.settings import Settings
from ingest.loading import pseudonyms

# Every step retries a transient error (a disk hiccup, a lock taken between the wait and dbt's
# own connect) twice, after 30 s then 60 s. What fails the same way again (bad data, a failing
# test, a lock that outlasted the wait) raises dg.Failure(allow_retries=False) and is not retried.
STEP_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse's settings (``config.settings.Settings``: the environment over ``defaults.env``),
    read when a step or sensor uses them, and what every asset does with the working database.

    ``overrides`` sets variables for this resource alone, by name (``{"WAREHOUSE_SCALE": "0.5"}``):
    tests and hand-built runs use it; the code location leaves it empty, so the Dagster CLI in a
    fresh shell needs nothing exported.
    """

    # A field this resource does not have is an error, not ignored: settings are not fields here.
    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, str] = {}

    @property
    def settings(self) -> Settings:
        return Settings.from_env({**os.environ, **self.overrides})

    @property
    def paths(self) -> WarehousePaths:
        return self.settings.paths

    def connect_working(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open the working database, waiting (with backoff, up to ``lock_wait_seconds``) while another
        process holds it; see ``commands.working_lock``."""
        path = self.paths.working_db
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return working_lock.connect(
                path,
                read_only=read_only,
                config={"memory_limit": self.settings.duckdb_memory_limit},
                wait_seconds=self.settings.lock_wait_seconds,
                published=self.paths.published_db,
                log=dg.get_dagster_logger().warning,
            )
        except working_lock.WorkingDatabaseLocked as err:  # it has waited already: not retried
            raise dg.Failure(description=err.description, allow_retries=err.allow_retries) from None

    @contextmanager
    def working(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working database. Only the pipeline opens this file."""
        path = self.paths.working_db
        con = self.connect_working(read_only)
        if not read_only:
            # Holding the only read-write connection, nobody else has the file open: what a
            # killed process spilled to DuckDB's temp folder (raw text, personal data
            # included) is a leftover, and goes before anything is spilled anew.
            shutil.rmtree(Path(f"{path}.tmp"), ignore_errors=True)
        try:
            yield con
        finally:
            con.close()

    def pseudonym_key(self, create: bool = True) -> bytes:
        """WAREHOUSE_PSEUDONYM_KEY, else the 0600 key file under the data directory (see ingest.loading.pseudonyms).

        ``create=False`` once data exists: a missing key file is then an error, not a new key.
        """
        return pseudonyms.load_key(self.paths.data_dir, create=create)

    def dbt_vars(self) -> str:
        return self.settings.dbt_vars()


class OwnDbtCliResource(DbtCliResource):
    """dbt of the environment running Dagster (so an unactivated venv still works).

    That dbt's version is the installed dbt-core's, so it is read from the package metadata:
    DbtCliResource would otherwise run `dbt --version`, a second interpreter start-up (1.5 s),
    in every process that runs a dbt step (once a run in process, once a step under the
    multiprocess executor). `tests/test_definitions.py` checks the overridden members still exist.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """No dbt adapter in the step's own process.

        DbtCliResource builds one before every dbt command (load the profile and project, register
        the adapter: 1.5 s in a run's first dbt step, 0.4 s in each later one) only for the
        invocation's ``fetch_row_counts()`` and ``fetch_column_metadata()``, which the warehouse
        does not call: it counts rows itself once dbt has exited (``orchestration.defs.dbt``).
        """
        return None


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment, as ``warehouse-dbt``: it dies with the step that runs it."""
    return OwnDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(dbt_child.executable()),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Where the warehouse lives (every WAREHOUSE_ setting) and dbt, for every asset."""
    return dg.Definitions(resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()})
