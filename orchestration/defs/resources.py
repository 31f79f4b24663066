"""Resources: where the warehouse lives (configured through environment variables) and dbt."""

from __future__ import annotations

import datetime as dt
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

from commands import dbt_child, working_lock
from config.layout import DBT_PROJECT_DIR, WarehousePaths
from config.settings import Settings, variable
from ingest.loading import pseudonyms

JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")

# Every step retries a transient error (a disk hiccup, a lock taken between the wait and dbt's
# own connect) twice, after 30 s then 60 s. What fails the same way again (bad data, a failing
# test, a lock that outlasted the wait) raises dg.Failure(allow_retries=False) and is not retried.
STEP_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


class WarehouseResource(dg.ConfigurableResource):
    """The data directory, the demo scale and DuckDB settings shared by every asset.

    Each field is the text of a ``WAREHOUSE_*`` variable (``warehouse_from_env`` binds them with
    ``EnvVar``); unset, it is ``defaults.env``'s. ``settings`` parses them as ``config.settings`` does.
    """

    data_dir: str
    scale: str | None = None
    duckdb_memory_limit: str | None = None
    published_versions_kept: int = 5
    # A landing file is taken once its size and modification time have not changed for this
    # long (a file still being copied in is not loaded half-written).
    settle_seconds: str | None = None
    # The night being processed (YYYY-MM-DD): deliveries are judged against it. Blank: today in Japan.
    business_date: str | None = None
    # A stale KPI (a source overdue) publishes its last good figures marked stale; "true" holds it back.
    stale_blocks: str | None = None
    # Above this share of a file's lines rejected, the source's KPI is held back (any reject warns).
    max_reject_rate: str | None = None
    # How long to wait for another process to let go of the working database before failing.
    lock_wait_seconds: str | None = None

    @property
    def settings(self) -> Settings:
        return Settings.from_values({variable(name): getattr(self, name) for name in _SETTING_FIELDS})

    @property
    def paths(self) -> WarehousePaths:
        return self.settings.paths

    @property
    def scale_value(self) -> float:
        return self.settings.scale

    @property
    def business_date_value(self) -> dt.date:
        return self.settings.business_date or dt.datetime.now(JAPAN).date()

    @property
    def stale_blocks_value(self) -> bool:
        return self.settings.stale_blocks

    @property
    def max_reject_rate_value(self) -> float:
        return self.settings.max_reject_rate

    @property
    def settle_seconds_value(self) -> float:
        return self.settings.settle_seconds

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


# The resource's fields that are settings (WAREHOUSE_<FIELD>), as warehouse_from_env binds them.
_SETTING_FIELDS = (
    "data_dir",
    "scale",
    "duckdb_memory_limit",
    "settle_seconds",
    "business_date",
    "stale_blocks",
    "max_reject_rate",
    "lock_wait_seconds",
)


def warehouse_from_env() -> WarehouseResource:
    return WarehouseResource(**{name: dg.EnvVar(variable(name)) for name in _SETTING_FIELDS})


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
    return dg.Definitions(resources={"warehouse": warehouse_from_env(), "dbt": dbt_resource()})
