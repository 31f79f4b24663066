"""What ``marts.publication_log`` says of the rows analysts read: ``data_as_of`` is what the
published rows cover, what loaded but did not publish has columns of its own, and a run killed
before its verdict is recorded as failed by the next publication."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from config.kpis import CALL_CENTER_KPI, EMPLOYER_KPI
from orchestration.lib import verdicts
from orchestration.lib.kpi_assets import kpi_keys
from publication.log import Attempt, KpiState, close_attempts, open_attempt, open_attempts
from publication.publish import publish
from tests.conftest import query

SEPTEMBER, OCTOBER = dt.date(2020, 9, 30), dt.date(2020, 10, 31)


@pytest.fixture
def working(paths):
    paths.working_db.parent.mkdir(parents=True)
    con = duckdb.connect(str(paths.working_db))
    con.execute("create schema marts")
    for mart in (*CALL_CENTER_KPI.marts, *EMPLOYER_KPI.marts):
        con.execute(f"create table marts.{mart} as select 1 as v")
    yield con
    con.close()


def _log(paths, kpi: str) -> set[tuple]:
    return set(
        query(
            paths.published_db,
            "select data_as_of, loaded_as_of, unpublished_loads, latest_attempt_run_id, latest_attempt_passed, "
            f"latest_attempt_failures from marts.publication_log where kpi = '{kpi}'",
        )
    )


def _passed(kpi) -> dict:
    return {mart: (kpi.name, Attempt(3)) for mart in kpi.marts}


def test_a_held_back_kpi_keeps_the_as_of_of_its_published_rows(paths, working):
    both = {"call_center": KpiState(loaded_as_of=SEPTEMBER), "employer": KpiState(loaded_as_of=SEPTEMBER)}
    publish(working, paths, "call_center", list(CALL_CENTER_KPI.marts), _passed(CALL_CENTER_KPI), "run1", states=both)
    publish(working, paths, "employer", list(EMPLOYER_KPI.marts), _passed(EMPLOYER_KPI), "run1", states=both)
    assert _log(paths, "call_center") == {(SEPTEMBER, SEPTEMBER, 0, "run1", True, None)}

    # October loads; the call center is held back, the employer KPI publishes: the version it writes
    # must not say the call center's (September) rows are as of October.
    working.execute("create or replace table marts.call_center_monthly as select 2 as v")  # built, not published
    october = {
        "call_center": KpiState(loaded_as_of=OCTOBER, unpublished_loads=31),
        "employer": KpiState(loaded_as_of=OCTOBER, unpublished_loads=2),
    }
    held = {m: ("call_center", Attempt(3, ("raw/call_center__calls: volume",))) for m in CALL_CENTER_KPI.marts}
    publish(
        working, paths, "employer", list(EMPLOYER_KPI.marts), {**held, **_passed(EMPLOYER_KPI)}, "run2", states=october
    )
    assert _log(paths, "call_center") == {(SEPTEMBER, OCTOBER, 31, "run2", False, "raw/call_center__calls: volume")}
    assert _log(paths, "employer") == {(OCTOBER, OCTOBER, 0, "run2", True, None)}
    assert query(paths.published_db, "select v from marts.call_center_monthly") == [(1,)]  # September's rows


def test_a_killed_run_is_recorded_as_failed_by_the_next_publication(paths, working):
    """The killed run noted its attempt (its first step does) and never recorded a verdict; the next
    run that publishes anything records it, with the run's own id and what is known of it."""
    states = {"call_center": KpiState(loaded_as_of=SEPTEMBER), "employer": KpiState(loaded_as_of=SEPTEMBER)}
    publish(working, paths, "call_center", list(CALL_CENTER_KPI.marts), _passed(CALL_CENTER_KPI), "run1", states=states)
    open_attempt(working, "call_center", "killed-run")
    open_attempt(working, "call_center", "killed-run")  # a later step of the same run: one note
    open_attempt(working, "employer", "run3")

    with dg.DagsterInstance.ephemeral() as instance:  # the killed run left no check evaluation
        earlier = verdicts.unrecorded(instance, open_attempts(working), "run3", kpi_keys())
    assert set(earlier) == set(CALL_CENTER_KPI.marts)
    [(kpi, attempt)] = set(earlier.values())
    assert (kpi, attempt.run_id, attempt.failures) == ("call_center", "killed-run", (verdicts.UNRECORDED,))

    publish(
        working,
        paths,
        "employer",
        list(EMPLOYER_KPI.marts),
        {**earlier, **_passed(EMPLOYER_KPI)},
        "run3",
        states=states,
    )
    assert _log(paths, "call_center") == {(SEPTEMBER, SEPTEMBER, 0, "killed-run", False, verdicts.UNRECORDED)}
    close_attempts(working, {"call_center", "employer"})
    assert open_attempts(working) == []


def test_a_run_that_held_every_kpi_back_is_recorded_with_its_failures(paths, working):
    """No publication step ran to record it: the next run reads the verdict from that run's checks."""
    with dg.DagsterInstance.ephemeral() as instance:
        failed = dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["raw", "call_center__calls"]),
            check_name="volume",
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
        )
        instance.report_runless_asset_event(failed)  # recorded under the run id "" in the event log
        open_attempt(working, "call_center", "")  # ... so the run that held it back is ""
        earlier = verdicts.unrecorded(instance, open_attempts(working), "run3", kpi_keys())
    [(kpi, attempt)] = set(earlier.values())
    assert attempt.failures == ("raw/call_center__calls: volume",) and attempt.checks_evaluated == 1
