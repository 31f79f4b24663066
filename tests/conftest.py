"""Shared fixtures. Every test works in its own temporary data directory; the demo extracts
are generated once per session and copied, so no test sees another test's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dotenv import dotenv_values

from config.layout import REPO_ROOT, WarehousePaths
from demo import call_center, employer, national_pension, night_after_last_extract

SCALE = 0.01
SEED = 7
# A test using any of these runs the real pipeline (dbt, a Dagster job): marked ``pipeline``.
PIPELINE_FIXTURES = {"landed", "run_nightly", "published", "defs", "instance", "send_alerts", "built"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Two lanes: ``make test-fast`` runs what is not ``pipeline``, ``make test`` everything."""
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pipeline)


@pytest.fixture(scope="session")
def generated_call_center(tmp_path_factory) -> Path:
    """Demo CDR files at the test scale, generated once."""
    directory = tmp_path_factory.mktemp("generated") / "call_center"
    call_center.generate(directory, SCALE, SEED)
    return directory


@pytest.fixture(scope="session")
def generated_national_pension(tmp_path_factory) -> Path:
    """Demo premium-ledger files (CP932) at the test scale, generated once."""
    directory = tmp_path_factory.mktemp("generated") / "national_pension"
    national_pension.generate(directory, SCALE, SEED)
    return directory


@pytest.fixture(scope="session")
def generated_employer(tmp_path_factory) -> Path:
    """Demo establishment register and contribution files at the test scale, generated once."""
    directory = tmp_path_factory.mktemp("generated") / "employer"
    employer.generate(directory, SCALE, SEED)
    return directory


@pytest.fixture
def paths(tmp_path, monkeypatch) -> WarehousePaths:
    """A fresh data directory, wired into the environment the Dagster resources read."""
    data_dir = tmp_path / "data"
    for name, value in dotenv_values(REPO_ROOT / "defaults.env").items():  # every setting, as `make` exports them
        monkeypatch.setenv(name, value or "")
    monkeypatch.setenv("WAREHOUSE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("WAREHOUSE_SCALE", str(SCALE))
    monkeypatch.setenv("WAREHOUSE_SEED", str(SEED))
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "2GB")
    monkeypatch.setenv("WAREHOUSE_SETTLE_SECONDS", "0")  # test files are written whole
    monkeypatch.delenv("WAREHOUSE_PSEUDONYM_KEY", raising=False)  # each test gets its own key file
    return WarehousePaths(data_dir)


@pytest.fixture
def landed(paths, generated_call_center, generated_national_pension, generated_employer, monkeypatch) -> WarehousePaths:
    """``paths`` with every source's demo extracts delivered to its landing zone, on the night after the last."""
    shutil.copytree(generated_call_center, paths.landing_dir("call_center"))
    shutil.copytree(generated_national_pension, paths.landing_dir("national_pension"))
    shutil.copytree(generated_employer, paths.landing_dir("employer"))
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", night_after_last_extract(paths).isoformat())
    return paths


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="session")
def defs():
    from orchestration.definitions import defs

    return defs


@pytest.fixture
def run_nightly(defs, instance):
    """Execute the real nightly_refresh job in process; returns the result (failures don't raise)."""

    def run() -> dg.ExecuteInProcessResult:
        return defs.resolve_job_def("nightly_refresh").execute_in_process(instance=instance, raise_on_error=False)

    return run


def query(database: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` on a DuckDB file opened read-only, as an analyst would."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; ``smtp.alert_url`` sends to it, ``smtp.mailbox`` holds what arrived."""
    from tests.smtp import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def send_alerts(defs, instance, smtp):
    """Evaluate the real alert sensor for a finished run (as the daemon does); the mail that arrived by SMTP."""
    from orchestration.alerts import AlertsResource

    def send(result: dg.ExecuteInProcessResult, expected: int) -> list:
        run = instance.get_run_by_id(result.run_id)
        failed = run.status == dg.DagsterRunStatus.FAILURE
        name = "alert_on_run_failure" if failed else "alert_on_run_success"
        [event] = instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE if failed else dg.DagsterEventType.RUN_SUCCESS
        )
        context = dg.build_run_status_sensor_context(
            sensor_name=name,
            dagster_event=event.dagster_event,
            dagster_instance=instance,
            dagster_run=run,
            resources={"alerts": AlertsResource(urls=smtp.alert_url, ui_url="http://warehouse.example:3000")},
        )
        defs.get_sensor_def(name)(context.for_run_failure() if failed else context)
        return smtp.mailbox.wait(expected)

    return send


@pytest.fixture
def published(landed, run_nightly, monkeypatch) -> Path:
    """The demo extracts through one real nightly run; WAREHOUSE_PUBLISHED_DB names the published database."""
    assert run_nightly().success
    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(landed.published_db))
    return landed.published_db
