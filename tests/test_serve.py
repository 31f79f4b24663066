"""`make serve` as a server runs it: dagster-webserver and dagster-daemon on a PostgreSQL instance.

A real PostgreSQL server, the real serve command, a real SMTP server for the alerts and
Debian's Chromium: extracts land, the landing sensor requests exactly one run for the batch,
the daemon runs it, the alert sensor mails the stale sources, the run and its check results
are read back from PostgreSQL, and the UI shows the schedule and sensors running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from config.layout import REPO_ROOT
from tests.browser import chromium_context, screenshot_page
from tests.postgres import PostgresServer
from tests.smtp import EVERY_SOURCE_STALE, free_port, text
from tests.waiting import wait_until

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


BIN = Path(sys.executable).parent
SENSORS = {"landing_sensor", "dead_run_reaper", "alert_on_run_failure", "alert_on_run_success", "publish_held_back"}


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def _up(base: str) -> bool:
    try:
        urllib.request.urlopen(f"{base}/server_info", timeout=2)
        return True
    except OSError:
        return False


def _runs(pg: PostgresServer) -> list[tuple]:
    return pg.query("select run_id, pipeline_name, status from runs order by create_timestamp")


def _deliver(deliveries: list[tuple[Path, Path]], transfer: Path) -> None:
    """Deliver files as a transfer does: written now (new modification times) beside the landing
    folders, then renamed into them. The renames take milliseconds, so the sensor sees the batch
    whole even when a loaded machine stalls the copying for longer than the settle period."""
    moves = []
    for source, landing in deliveries:
        landing.mkdir(parents=True, exist_ok=True)
        (transfer / landing.name).mkdir(parents=True)
        for path in sorted(source.iterdir()):
            shutil.copyfile(path, transfer / landing.name / path.name)
            moves.append((transfer / landing.name / path.name, landing / path.name))
    for written, landed in moves:
        written.rename(landed)


def _collapsed_day(monday: Path, day: str, folder: Path) -> Path:
    """A Monday's calls moved to ``day`` (YYYY-MM-DD), cut to a fifth: a delivery whose volume collapsed."""
    old, new = monday.stem[4:], day.replace("-", "")
    lines = monday.read_text(encoding="utf-8").splitlines()
    kept = [lines[0], *lines[1 : 1 + (len(lines) - 1) // 5]]
    text = "\n".join(kept).replace(f"CC{old}", f"CC{new}").replace(f"{old[:4]}-{old[4:6]}-{old[6:]}", day)
    folder.mkdir(parents=True)
    (folder / f"cdr_{new}.csv").write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def postgres():
    with PostgresServer() as server:
        yield server


def test_serve_runs_the_webserver_and_daemon_on_postgres_and_a_landing_batch_is_one_run(
    paths, generated_call_center, generated_national_pension, generated_employer, postgres, smtp, tmp_path, monkeypatch
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "WAREHOUSE_DAGSTER_PG_URL": postgres.url,
        "WAREHOUSE_ALERT_URLS": smtp.alert_url,
        "WAREHOUSE_UI_HOST": "127.0.0.1",
        "WAREHOUSE_UI_PORT": str(port),
        "WAREHOUSE_UI_URL": "",
        "WAREHOUSE_SETTLE_SECONDS": "5",
        "WAREHOUSE_SENSOR_INTERVAL_SECONDS": "5",  # every sensor's round (30 s by default): the test waits on each
        # ten days after the last extracts: every source is overdue, so the run succeeds with stale alerts
        "WAREHOUSE_BUSINESS_DATE": "2020-11-11",
    }
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "commands.serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _up(base), 180, "dagster-webserver to answer")
        assert "postgres" in (Path(env["DAGSTER_HOME"]) / "dagster.yaml").read_text()
        # The sensor's first evaluation only notes what lies in landing (here: nothing); wait for it.
        wait_until(
            lambda: postgres.query("select count(*) from job_ticks where tick_body like '%%landing_sensor%%'")[0][0],
            120,
            "the landing sensor's first tick",
        )
        assert _runs(postgres) == []

        deliveries = (
            (generated_call_center, "call_center"),
            (generated_national_pension, "national_pension"),
            (generated_employer, "employer"),
        )
        _deliver([(generated, paths.landing_dir(source)) for generated, source in deliveries], tmp_path / "transfer")
        delivered = sum(len(list(generated.iterdir())) for generated, _ in deliveries)
        [(run_id, job, _)] = wait_until(lambda: _runs(postgres), 180, "the landing sensor's run")
        assert job == "nightly_refresh"  # the batch feeds every KPI
        wait_until(lambda: _runs(postgres)[0][2] in ("SUCCESS", "FAILURE"), 900, "the run to finish", poll=2)
        assert _runs(postgres)[0][2] == "SUCCESS"
        tags = dict(postgres.query("select key, value from run_tags where run_id = %s", (run_id,)))
        assert tags["dagster/sensor_name"] == "landing_sensor" and tags["warehouse/landed-files"].startswith(
            f"{delivered}: "
        )

        # The alerts, sent by the daemon's sensor: one per stale source, each naming the run and its page.
        mails = smtp.mailbox.wait(len(EVERY_SOURCE_STALE), timeout=180)
        subjects = sorted(m["Subject"] for m in mails)
        assert subjects == EVERY_SOURCE_STALE
        assert all(f"Open it: {base}/runs/{run_id}" in text(m) for m in mails)

        # The check results, read back from PostgreSQL.
        checks = dict(
            postgres.query(
                "select asset_key || ' ' || check_name, execution_status from asset_check_executions where run_id = %s",
                (run_id,),
            )
        )
        assert checks['["marts", "call_center_reconciliation"] published_figures_reproduced'] == "SUCCEEDED"
        assert checks['["raw", "national_pension__premium_ledger"] freshness'] == "FAILED"  # a warning: overdue
        assert len(checks) > 100

        # A further sensor tick, the files unchanged: still exactly one run.
        ticks = postgres.query("select count(*) from job_ticks where tick_body like '%%landing_sensor%%'")[0][0]
        wait_until(
            lambda: (
                postgres.query("select count(*) from job_ticks where tick_body like '%%landing_sensor%%'")[0][0] > ticks
            ),
            120,
            "another landing sensor tick",
        )
        assert len(_runs(postgres)) == 1

        # A collapsed day: the landing sensor's call_center_refresh holds the call center back (its
        # volume check), and publish_held_back queues record_held_back, whose version says so at once.
        collapsed = _collapsed_day(generated_call_center / "cdr_20201026.csv", "2020-11-02", tmp_path / "collapsed")
        _deliver([(collapsed, paths.landing_dir("call_center"))], tmp_path / "transfer_collapsed")
        wait_until(
            lambda: len(_runs(postgres)) == 3 and _runs(postgres)[2][2] in ("SUCCESS", "FAILURE"),
            900,
            "the held-back run and record_held_back",
            poll=2,
        )
        [_, (_, job, status), (_, recorder, recorded)] = _runs(postgres)
        assert (job, status) == ("call_center_refresh", "FAILURE")
        assert (recorder, recorded) == ("record_held_back", "SUCCESS")
        banner = AppTest.from_file(str(REPO_ROOT / "dashboard" / "views" / "overview.py"), default_timeout=120)
        monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(paths.published_db))
        banner.run()
        [warning] = [w.value for w in banner.warning]
        assert (
            "Call-center answer rate (応答率): 公表保留 held back, last good version shown (raw/call_center__calls: volume)"
            in warning
        )
        with duckdb.connect(str(paths.published_db), read_only=True) as con:
            assert con.execute(
                "select bool_or(latest_attempt_passed) from marts.publication_log where kpi = 'call_center'"
            ).fetchall() == [(False,)]

        # What the UI shows: the schedule and the sensors running, the run history, the instance on PostgreSQL.
        repository = _graphql(
            base,
            """{ repositoryOrError(repositorySelector: {repositoryLocationName: "pension_warehouse",
            repositoryName: "__repository__"}) { ... on Repository { sensors { name sensorState { status } }
            schedules { name scheduleState { status } } } } }""",
        )["repositoryOrError"]
        assert {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]} == dict.fromkeys(
            SENSORS, "RUNNING"
        )
        assert repository["schedules"] == [{"name": "nightly_refresh_schedule", "scheduleState": {"status": "RUNNING"}}]
        assert "PostgresRunStorage" in _graphql(base, "{ instance { info } }")["instance"]["info"]
        with chromium_context() as browser:
            automation = screenshot_page(browser, f"{base}/automation", "serve_automation", "landing_sensor")
            shown = automation.inner_text("body")
            assert all(name in shown for name in [*SENSORS, "nightly_refresh_schedule"])
            runs = screenshot_page(browser, f"{base}/runs", "serve_runs", run_id[:8])
            assert "landing_sensor" in runs.inner_text("body")
            config = screenshot_page(
                browser, f"{base}/deployment/config", "serve_instance_config", "PostgresRunStorage"
            )
            shown = config.inner_text("body")
            assert all(
                f"{kind}: Postgres{kind.title().replace('_', '')}" in shown
                for kind in ("run_storage", "event_log_storage", "schedule_storage")
            )
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=120)
        log.close()
        print((tmp_path / "serve.log").read_text(errors="replace")[-5000:])  # shown when the test fails
    assert code == 0, (tmp_path / "serve.log").read_text()[-3000:]
    assert not _up(base)  # the webserver went with it
    out = (tmp_path / "serve.log").read_text()
    assert "stopping dagster-webserver and dagster-daemon" in out
