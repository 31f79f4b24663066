"""The publication log: one row per mart of what was published, when, and in which state.

``publication.log`` in the working database holds the latest state, ``marts.publication_log``
in each published version the state it shows. This module owns its columns and how a run's
verdict (``Attempt``) and each KPI's state (``KpiState``) update it; ``publication.publish``
writes it, ``publication.rollback`` rewrites it, and the ingest checks ask when a KPI last passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

import duckdb
import polars as pl

from config.kpis import FORMER_MART_NAMES
from publication.duckdb_files import table_exists

LOG_SCHEMA = pl.Schema(
    {
        "mart": pl.Utf8(),
        "kpi": pl.Utf8(),
        "version_run_id": pl.Utf8(),
        "built_at": pl.Datetime("us", "UTC"),
        "checks_passed": pl.Boolean(),
        "checks_evaluated": pl.Int64(),
        "published_at": pl.Datetime("us", "UTC"),
        "latest_attempt_run_id": pl.Utf8(),
        "latest_attempt_at": pl.Datetime("us", "UTC"),
        "latest_attempt_passed": pl.Boolean(),
        "latest_attempt_failures": pl.Utf8(),
        # The last day the published rows cover: moves only when the KPI publishes (passes its checks).
        "data_as_of": pl.Date(),
        "data_changed_at": pl.Datetime("us", "UTC"),
        "is_stale": pl.Boolean(),
        "stale_reason": pl.Utf8(),
        "content_fingerprint": pl.Utf8(),
        "last_passed_at": pl.Datetime("us", "UTC"),
        # Set by a rollback (publication.rollback) on the marts it showed again, until they publish anew.
        "rolled_back_at": pl.Datetime("us", "UTC"),
        "rolled_back_from": pl.Utf8(),  # the version that was current
        "rolled_back_to": pl.Utf8(),  # the version whose figures it shows again
        "rollback_reason": pl.Utf8(),
        # The rows a rollback withdrew: not published again unless they change (then they are news).
        "withheld_fingerprint": pl.Utf8(),
        "rollback_ended_at": pl.Datetime("us", "UTC"),  # make end-rollback: the rollback's marking ended
        "rollback_end_reason": pl.Utf8(),
        # What the working database has loaded, published or not: the last day the KPI's current
        # loads cover, and how many of those loads its published rows do not include yet (a KPI
        # held back since they came, or a run killed before it published them).
        "loaded_as_of": pl.Date(),
        "unpublished_loads": pl.Int64(),
    }
)
# What a reader of the published file sees of a mart's state: a change here is worth a new
# version even when no figure changed (a KPI held back, gone stale, or fresh again).
VISIBLE_STATE = (
    "mart",
    "kpi",
    "version_run_id",
    "checks_passed",
    "latest_attempt_passed",
    "latest_attempt_failures",
    "data_as_of",
    "data_changed_at",
    "loaded_as_of",
    "unpublished_loads",
    "is_stale",
    "stale_reason",
    "rolled_back_to",
)
ROLLBACK_COLUMNS = ("rolled_back_at", "rolled_back_from", "rolled_back_to", "rollback_reason", "withheld_fingerprint")


@dataclass(frozen=True)
class Attempt:
    """What a run's checks said about one mart (this run's, unless ``run_id`` says another's)."""

    checks_evaluated: int
    failures: tuple[str, ...] = ()
    run_id: str | None = None  # an earlier run that ended without its verdict recorded (killed)
    at: dt.datetime | None = None  # when that run started on the KPI

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class KpiState:
    """What the log says of a KPI besides its checks."""

    built_at: dt.datetime | None = None  # its last dbt rebuild; None: unknown, taken as now
    loaded_as_of: dt.date | None = None  # the latest day its current loads cover, published or not
    stale_reason: str | None = None  # why it is stale (a source overdue); None: fresh
    unpublished_loads: int = 0  # current loads of its sources made since it last passed

    @property
    def is_stale(self) -> bool:
        return self.stale_reason is not None


# The working database's ``publication`` schema holds the last published rows of every mart, one
# table each, beside these tables of its own bookkeeping.
BOOKKEEPING_TABLES = ("log", "published_log", "load_quality", "attempts")


def stored_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The marts whose last published rows the working database keeps (schema ``publication``)."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'publication' "
        "and not list_contains(?, table_name) order by table_name",
        [list(BOOKKEEPING_TABLES)],
    ).fetchall()
    return [name for (name,) in rows]


def rename_former_marts(con: duckdb.DuckDBPyConnection) -> None:
    """A working database from before the marts were renamed (``config.kpis.FORMER_MART_NAMES``):
    its last published rows and its log rows take the new names, once."""
    con.execute("create schema if not exists publication")
    for former, current in FORMER_MART_NAMES.items():
        if table_exists(con, "publication", former):
            if table_exists(con, "publication", current):
                con.execute(f"drop table publication.{former}")
            else:
                con.execute(f"alter table publication.{former} rename to {current}")
        for log in ("log", "published_log"):
            if table_exists(con, "publication", log):
                con.execute(f"update publication.{log} set mart = ? where mart = ?", [current, former])


def stored_log(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    con.execute("create schema if not exists publication")
    if not table_exists(con, "publication", table):
        return pl.DataFrame(schema=LOG_SCHEMA)
    return normalized_log(con.sql(f"select * from publication.{table}").pl())


def normalized_log(stored: pl.DataFrame) -> pl.DataFrame:
    """A publication log in today's columns: one written before a column existed has it unknown (null)."""
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in LOG_SCHEMA.items() if name not in stored.columns]
    return stored.with_columns(missing).select(LOG_SCHEMA.names()).cast(LOG_SCHEMA)


def updated_log(
    previous: pl.DataFrame,
    kpi: str,
    marts: list[str],
    changed: dict[str, str],
    attempts: dict[str, tuple[str, Attempt]],
    states: Mapping[str, KpiState],
    run_id: str,
    now: dt.datetime,
    publishes: bool = True,
) -> pl.DataFrame:
    """``changed``: the KPI's marts published anew, with their rows' fingerprints; ``states``: every KPI's.

    ``publishes``: the KPI passed (its step runs only then) and is not held back as stale, so its
    published rows now cover what its loads cover (``data_as_of``), changed or not. Every other
    KPI's ``data_as_of`` stays what its published rows cover, whatever has loaded since.
    An attempt of an earlier run (``Attempt.run_id``) is recorded as that run's."""
    rows = {r["mart"]: r for r in previous.iter_rows(named=True)}
    for mart in marts:
        row = rows.setdefault(mart, {"mart": mart, "kpi": kpi, "checks_passed": False, "checks_evaluated": 0})
        if mart in changed:
            _, attempt = attempts.get(mart, (kpi, Attempt(0)))
            row.update(
                version_run_id=run_id,
                checks_passed=True,
                checks_evaluated=attempt.checks_evaluated,
                published_at=now,
                data_changed_at=now,
                content_fingerprint=changed[mart],
                **dict.fromkeys(ROLLBACK_COLUMNS),
            )
    # Record the verdict on every mart checked, including marts held back (and a verdict an earlier
    # run never recorded: it was killed, or held every KPI back).
    for mart, (mart_kpi, attempt) in attempts.items():
        row = rows.setdefault(mart, {"mart": mart, "kpi": mart_kpi, "checks_passed": False, "checks_evaluated": 0})
        row.update(
            latest_attempt_run_id=attempt.run_id or run_id,
            latest_attempt_at=attempt.at or now,
            latest_attempt_passed=attempt.passed,
            latest_attempt_failures="; ".join(attempt.failures) or None,
        )
        if attempt.passed:
            row["last_passed_at"] = attempt.at or now
    # Every KPI's state, whichever KPI's step this is: one version tells all of it.
    for row in rows.values():
        if (state := states.get(row["kpi"])) is None:
            continue
        own = publishes and row["kpi"] == kpi
        row.update(
            built_at=state.built_at or (now if row["mart"] in changed else row.get("built_at")),
            loaded_as_of=state.loaded_as_of,
            unpublished_loads=0 if own else state.unpublished_loads,
            is_stale=state.is_stale,
            stale_reason=state.stale_reason,
        )
        if own:
            row["data_as_of"] = state.loaded_as_of
    return pl.DataFrame(list(rows.values()), schema=LOG_SCHEMA).sort("kpi", "mart")


def last_passed_at(con: duckdb.DuckDBPyConnection, kpi: str) -> dt.datetime | None:
    """When the KPI last passed all its checks, or None if it never did: loads made since have
    not been judged good yet (the volume and reject-rate checks look at those)."""
    if not table_exists(con, "publication", "log"):
        return None
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'publication' and table_name = 'log'"
        ).fetchall()
    }
    passed = "coalesce(last_passed_at, published_at)" if "last_passed_at" in columns else "published_at"
    return con.execute(f"select max({passed}) from publication.log where kpi = ?", [kpi]).fetchall()[0][0]


def held_back_as_stale(
    attempts: dict[str, tuple[str, Attempt]], kpi: str, marts: list[str], states: Mapping[str, KpiState]
) -> dict[str, tuple[str, Attempt]]:
    """This run's verdict with staleness as one more failure of each mart of every stale KPI."""
    held = dict(attempts)
    for mart in {*marts, *attempts}:
        mart_kpi, attempt = held.get(mart, (kpi, Attempt(0)))
        state = states.get(mart_kpi)
        if state is not None and state.is_stale:
            held[mart] = (mart_kpi, replace(attempt, failures=(*attempt.failures, f"stale: {state.stale_reason}")))
    return held


# Each run notes the KPIs it works on before it changes anything, and the note goes once its
# verdict on them is in the log. A note left by another run is a verdict never recorded: that
# run was killed, or held every KPI back so that no publication step recorded anything.
_ATTEMPTS_DDL = """
create schema if not exists publication;
create table if not exists publication.attempts (run_id varchar not null, kpi varchar not null, started_at timestamptz not null)
"""


def open_attempt(con: duckdb.DuckDBPyConnection, kpi: str, run_id: str) -> None:
    """Note that ``run_id`` is working on ``kpi`` (once: later steps of the run leave the note as it is)."""
    con.execute(_ATTEMPTS_DDL)
    con.execute(
        """insert into publication.attempts
           select ?, ?, now() where not exists (select 1 from publication.attempts where run_id = ? and kpi = ?)""",
        [run_id, kpi, run_id, kpi],
    )


def open_attempts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, dt.datetime]]:
    """(run_id, kpi, started_at) of every attempt whose verdict is not in the log yet, oldest first."""
    con.execute(_ATTEMPTS_DDL)
    return con.execute("select run_id, kpi, started_at from publication.attempts order by started_at").fetchall()


def close_attempts(con: duckdb.DuckDBPyConnection, kpis: set[str]) -> None:
    """The verdicts on ``kpis`` are in the log: their notes, of this run and any earlier one, go."""
    con.execute(_ATTEMPTS_DDL)
    con.execute("delete from publication.attempts where list_contains(?, kpi)", [sorted(kpis)])
