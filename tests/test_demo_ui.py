"""`make demo` as a user sees it: a short terminal summary whose figures are the published ones, a
run that the UI shows on the job's page, and, in a real browser, owners, column types, check
descriptions and the same kpi/layer tags on every asset."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from commands import launch
from config.kpis import KPIS
from config.layout import REPO_ROOT
from ingest.specs import SPECS
from tests.browser import SHOTS, chromium_context, screenshot_page, wait_for_http
from tests.conftest import SCALE
from tests.smtp import free_port

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


SCREEN_LINES = 50  # what fits on one screen, besides the reconciliation summary


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`python -m commands.demo_night` in a fresh data directory and instance, as `make demo` runs it."""
    data = tmp_path_factory.mktemp("demo") / "data"
    home = data / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "WAREHOUSE_DATA_DIR": str(data), "DAGSTER_HOME": str(home), "WAREHOUSE_SCALE": str(SCALE)}
    env.pop("WAREHOUSE_BUSINESS_DATE", None)
    done = subprocess.run(
        [sys.executable, "-m", "commands.demo_night"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return data, home, env, done.stdout


def test_the_demo_prints_a_short_summary_of_what_was_published(demo):
    data, home, _, out = demo
    lines = out.splitlines()
    summary_starts = next(i for i, line in enumerate(lines) if line.startswith("Published database:"))
    assert summary_starts < SCREEN_LINES, out  # generation, steps and checks fit on a screen
    assert not [line for line in lines if " DEBUG " in line or "dbt" in line.lower() and "Running" in line]
    # Every check passes: the report's own discrepancy is said in the reconciliation, not as a failure.
    assert any(re.fullmatch(r"Checks: (\d+) of \1 passed", line) for line in lines), out
    assert (
        f"  デモ規模 1/{round(1 / SCALE)} · demo scale: counts and amounts are 1/{round(1 / SCALE)} of the report's"
        in lines
    )
    assert any(line.startswith("  ! KNOWN_DISCREPANCY cc_fy2019_apr_oct_offered_summary") for line in lines)
    # The full log is where the summary says, and holds the run's events.
    [log] = re.findall(r"^Full log: (.+)$", out, flags=re.M)
    run_id = re.search(r"succeeded in \d+ s total \(run ([0-9a-f-]{36})\)", out)[1]
    text = Path(log).read_text(encoding="utf-8")
    assert f"=== event log of run {run_id} ===" in text and "ASSET_CHECK_EVALUATION" in text
    # Every figure the summary prints is the published database's.
    published = data / "published" / "warehouse.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        for kpi in KPIS:
            statuses = con.execute(
                f"select status, count(*) from marts.{kpi.reconciliation} group by 1 order by 1"
            ).fetchall()
            assert "  figures of the report recomputed: " + ", ".join(f"{n} {s}" for s, n in statuses) in lines
            for figure, expected, recomputed, status in con.execute(
                f"select figure_id, expected_value, recomputed_value, status from marts.{kpi.reconciliation} where status <> 'match'"
            ).fetchall():  # each figure that is not a match, with the mart's own values
                assert any(
                    line.startswith(
                        f"  ! {status.upper()} {figure}: expected {expected:,.2f}, recomputed {recomputed:,.2f}"
                    )
                    for line in lines
                ), figure
            (as_of,) = con.execute(
                "select min(data_as_of) from marts.publication_log where kpi = ?", [kpi.name]
            ).fetchone()
            [row] = [line for line in lines if line.startswith(f"  {kpi.name} ")]
            assert str(as_of) in row and row.endswith("published")
        checks = con.execute("select count(*) from marts.publication_log").fetchone()[0]
    assert checks == sum(len(kpi.marts) for kpi in KPIS)
    assert f"{published} -> {published.resolve().name}" in out


def test_the_demo_run_belongs_to_the_code_location(demo):
    _, home, env, out = demo
    run_id = re.search(r"\(run ([0-9a-f-]{36})\)", out)[1]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.remote_job_origin is not None  # launched through the workspace, not execute_in_process
    assert run.remote_job_origin.location_name == "pension_warehouse"
    assert run.job_name == "nightly_refresh"


@pytest.fixture(scope="module")
def webserver(demo):
    data, home, env, _ = demo
    port = free_port()  # another test worker may serve a UI of its own
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/server_info", "dagster-webserver", process=server)
    yield base
    os.killpg(server.pid, 15)
    server.wait(timeout=60)


@pytest.fixture(scope="module")
def browser():
    with chromium_context() as context:
        yield context


_page = screenshot_page


def test_the_ui_shows_the_demo_run_on_the_job_page(demo, webserver, browser):
    run_id = re.search(r"\(run ([0-9a-f-]{36})\)", demo[3])[1]
    page = _page(browser, f"{webserver}/locations/pension_warehouse/jobs/nightly_refresh/runs", "job_runs", run_id[:8])
    text = page.inner_text("body")
    assert "Success" in text and "No runs" not in text
    overview = _page(browser, f"{webserver}/overview/activity/timeline", "overview", "nightly_refresh")
    assert "pension_warehouse" in overview.inner_text("body")


def test_the_ui_shows_owners_types_tags_and_check_descriptions(demo, webserver, browser):
    mart = _page(browser, f"{webserver}/assets/marts/call_center_monthly", "mart_overview", "Columns")
    text = mart.inner_text("body")
    assert "call-center-analytics" in text  # the owner
    assert "kpi: call_center" in text and "layer: marts" in text
    for column, data_type in (("answer_rate", "double"), ("calls_offered", "bigint"), ("month", "date")):
        assert re.search(rf"{column}\s+{data_type}", text), (column, data_type)
    assert "応答率" in text  # Japanese descriptions come through as text
    raw = _page(browser, f"{webserver}/assets/raw/call_center__calls", "raw_overview", "Owners")
    assert "kpi: call_center" in raw.inner_text("body") and "layer: raw" in raw.inner_text("body")

    checks = _page(browser, f"{webserver}/assets/marts/call_center_monthly?view=checks", "mart_checks", "Checks (12)")
    assert "Every row satisfies" in checks.inner_text("body")
    freshness = _page(browser, f"{webserver}/assets/raw/call_center__calls?view=checks", "raw_checks", "freshness")
    freshness.get_by_text("freshness").first.click()
    freshness.get_by_text("The daily delivery is in by its due date").first.wait_for(timeout=30_000)
    freshness.screenshot(path=str(SHOTS / "raw_freshness.png"), full_page=True)
    assert "latest_delivered" in freshness.inner_text("body") and "20201031" in freshness.inner_text("body")

    # The report's own discrepancy: a check that passed, and says what it is in its metadata.
    reconciliation = _page(
        browser,
        f"{webserver}/assets/marts/call_center_reconciliation?view=checks",
        "reconciliation_checks",
        "published_figures_reproduced",
    )
    reconciliation.get_by_text("published_figures_reproduced").first.click()
    reconciliation.get_by_text("known_discrepancies").first.wait_for(timeout=30_000)
    reconciliation.screenshot(path=str(SHOTS / "reconciliation_known_discrepancy.png"), full_page=True)
    shown = reconciliation.inner_text("body")
    assert "Passed" in shown and "cc_fy2019_apr_oct_offered_summary" in shown
    assert "a figure the report itself contradicts" in shown  # the check's description


def test_a_run_launched_after_the_demo_judges_the_demos_data_on_the_demos_night(demo, tmp_path):
    """As a newcomer's first run from the UI: nightly_refresh through the code location, with nothing
    but the data directory set. The data directory remembers the demo's night, so nothing goes stale."""
    data, home, env, _ = demo
    env = {k: v for k, v in env.items() if k != "WAREHOUSE_BUSINESS_DATE"}
    assert (data / "demo_business_date").read_text(encoding="utf-8").strip() == "2020-11-01"
    with dg.DagsterInstance.from_config(str(home)) as instance, launch.daemon(env, tmp_path / "daemon.log") as daemon:
        run_id = launch.submit(instance, "nightly_refresh", env, tmp_path / "launch.log")
        run = launch.wait(instance, run_id, daemon_process=daemon, timeout=900)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        evaluations = [
            r.get_dagster_event().asset_check_evaluation_data
            for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        freshness = [e for e in evaluations if e.check_name == "freshness"]
        assert len(freshness) == len(SPECS) and all(e.passed for e in freshness), freshness
        assert {e.metadata["business_date"].value for e in freshness} == {"2020-11-01"}
    with duckdb.connect(str(data / "published" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.publication_log where is_stale").fetchall() == [(0,)]
