"""Shared fixtures. Every test works in its own temporary data directory; the demo extracts
are generated once per session (for all its workers: ``tests/once.py``) and copied, so no test
sees another test's files. So is the first nightly run: a test that starts after a good night
gets a copy of the session's."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dotenv import dotenv_values

from config.layout import REPO_ROOT, WarehousePaths
from demo import call_center, employer, national_pension, night_after_last_extract
from tests.once import RecordedRun, made_once, shared_dir

SCALE = 0.01
SEED = 7
# A test using any of these runs the real pipeline (dbt, a Dagster job): marked ``pipeline``. A fixture
# that uses one counts too (``first_night`` uses ``defs``): pytest lists every fixture a test reaches.
PIPELINE_FIXTURES = {"landed", "run_nightly", "published", "defs", "instance", "send_alerts", "built"}


# The longest files, longest first, as `make test` measured them (seconds of all their tests, the
# first night counted where it is made): 124 publication_gate, 116 demo_ui, 112 serve, 100
# night_reports, 93 incremental, 85 bench, 75 crash, 68 hostile_nightly, 64 kpi_jobs, 57 checks,
# 56 second_night, 55 hostile_input, 44 dashboard, 36 working_lock. `make test` hands whole files
# to its two workers in this order (`--no-loadscope-reorder`; xdist would otherwise start the
# files with the most tests, the short ones), and a long file started last would keep one worker
# busy while the other sits idle. serve comes first, beside the file that makes the first night
# it does not need. This changes the order only, never a result.
LONGEST_FIRST = (
    "test_spark_equality.py",  # two nights on DuckDB and Spark, then the cluster: about 9 minutes
    "test_serve.py",
    "test_readme_commands.py",
    "test_publication_gate.py",
    "test_demo_ui.py",
    "test_night_reports.py",
    "test_incremental.py",
    "test_bench.py",
    "test_crash.py",
    "test_hostile_nightly.py",
    "test_kpi_jobs.py",
    "test_checks.py",
    "test_second_night.py",
    "test_hostile_input.py",
    "test_dashboard.py",
    "test_working_lock.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Two lanes: ``make test-fast`` runs what is not ``pipeline``, ``make test`` everything.

    In ``make test`` the longest files go first, then the other pipeline tests; the short unit
    tests, coming last, fill whichever worker is free."""
    if missing := [name for name in LONGEST_FIRST if not (Path(__file__).parent / name).exists()]:
        raise pytest.UsageError(f"LONGEST_FIRST names test files that do not exist: {missing}")
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pipeline)

    def order(item: pytest.Item) -> tuple[int, bool]:
        name = item.path.name
        longest = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        return longest, item.get_closest_marker("pipeline") is None

    items.sort(key=order)  # stable: the tests of a file keep their order


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> Path:
    """Where the session's workers share what is made once."""
    return shared_dir(tmp_path_factory)


@pytest.fixture(scope="session", autouse=True)
def _removable_published_versions(tmp_path_factory):
    """Published versions are immutable where the pipeline can make them so (as root here): once
    the session is over, its own are released, so its temporary folders can be removed."""
    from publication.version_files import release_tree

    yield
    release_tree(tmp_path_factory.getbasetemp())
    release_tree(shared_dir(tmp_path_factory) / "first_night")


@pytest.fixture(scope="session")
def generated_call_center(shared) -> Path:
    """Demo CDR files at the test scale, generated once."""
    return made_once(shared, "generated/call_center", lambda folder: call_center.generate(folder, SCALE, SEED))


@pytest.fixture(scope="session")
def generated_national_pension(shared) -> Path:
    """Demo premium-ledger files (CP932) at the test scale, generated once."""
    return made_once(
        shared, "generated/national_pension", lambda folder: national_pension.generate(folder, SCALE, SEED)
    )


@pytest.fixture(scope="session")
def generated_employer(shared) -> Path:
    """Demo establishment register and contribution files at the test scale, generated once."""
    return made_once(shared, "generated/employer", lambda folder: employer.generate(folder, SCALE, SEED))


def _configure(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> WarehousePaths:
    """``data_dir`` wired into the environment the Dagster resources read."""
    for name, value in dotenv_values(REPO_ROOT / "defaults.env").items():  # every setting, as `make` exports them
        monkeypatch.setenv(name, value or "")
    monkeypatch.setenv("WAREHOUSE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("WAREHOUSE_SCALE", str(SCALE))
    monkeypatch.setenv("WAREHOUSE_SEED", str(SEED))
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "2GB")
    monkeypatch.setenv("WAREHOUSE_SETTLE_SECONDS", "0")  # test files are written whole
    monkeypatch.delenv("WAREHOUSE_PSEUDONYM_KEY", raising=False)  # each test gets its own key file
    return WarehousePaths(data_dir)


def _deliver(monkeypatch: pytest.MonkeyPatch, paths: WarehousePaths, *generated: Path) -> WarehousePaths:
    """Every source's demo extracts delivered to its landing zone, on the night after the last."""
    for directory in generated:
        shutil.copytree(directory, paths.landing_dir(directory.name))
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", night_after_last_extract(paths).isoformat())
    return paths


def next_night(monkeypatch: pytest.MonkeyPatch, paths: WarehousePaths) -> str:
    """The business date of the night after everything landed so far (a test that delivers a new day
    runs that day's night: a file of a later period than the business date is refused)."""
    night = night_after_last_extract(paths).isoformat()
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", night)
    return night


@pytest.fixture
def paths(tmp_path, monkeypatch) -> WarehousePaths:
    """A fresh data directory, wired into the environment the Dagster resources read."""
    return _configure(monkeypatch, tmp_path / "data")


@pytest.fixture
def landed(paths, generated_call_center, generated_national_pension, generated_employer, monkeypatch) -> WarehousePaths:
    """``paths`` with every source's demo extracts delivered to its landing zone, on the night after the last."""
    return _deliver(monkeypatch, paths, generated_call_center, generated_national_pension, generated_employer)


@dataclass(frozen=True)
class FirstNight:
    """The session's one nightly run on the demo extracts: its data directory, its instance, its result."""

    data_dir: Path
    instance_dir: Path
    result: RecordedRun


@pytest.fixture(scope="session")
def first_night(shared, defs, generated_call_center, generated_national_pension, generated_employer):
    """One real nightly_refresh on the demo extracts, run once a session (by the first worker to ask):
    the ~60 s every test that starts "after a good night" would otherwise spend. Tests never touch
    it: they get a copy (``after_first_night``)."""

    def run(root: Path) -> None:
        (root / "dagster").mkdir(parents=True)
        with (
            pytest.MonkeyPatch.context() as monkeypatch,
            dg.instance_for_test(temp_dir=str(root / "dagster")) as instance,
        ):
            _deliver(
                monkeypatch,
                _configure(monkeypatch, root / "data"),
                generated_call_center,
                generated_national_pension,
                generated_employer,
            )
            result = defs.resolve_job_def("nightly_refresh").execute_in_process(instance=instance, raise_on_error=False)
        RecordedRun.of(result).save(root / "result.json")

    root = made_once(shared, "first_night", run)
    result = RecordedRun.load(root / "result.json")
    assert result.success, "the session's first night failed: every test after it would be meaningless"
    return FirstNight(root / "data", root / "dagster", result)


@pytest.fixture
def after_first_night(first_night, paths, monkeypatch) -> WarehousePaths:
    """``landed`` after one good nightly run: the session's first night, copied into this test's
    own data directory (working and published databases, landing files with their times, the
    pseudonym key), and its Dagster instance copied into this test's ``instance``. The next
    ``run_nightly()`` is the second night, exactly as if this test had run the first."""
    shutil.copytree(first_night.data_dir, paths.data_dir, symlinks=True)
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", night_after_last_extract(paths).isoformat())
    return paths


@pytest.fixture
def instance(request, tmp_path):
    """A Dagster instance of this test's own; after the first night, a copy of that night's."""
    storage = tmp_path / "dagster"
    if "after_first_night" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("first_night").instance_dir, storage)
    else:
        storage.mkdir()
    with dg.instance_for_test(temp_dir=str(storage)) as instance:
        yield instance


@pytest.fixture(scope="session")
def defs():
    from orchestration.definitions import defs

    return defs()  # the code location, loaded as Dagster loads it


@pytest.fixture
def run_nightly(defs, instance):
    """Execute the real nightly_refresh job in process; returns the result (failures don't raise)."""

    def run() -> dg.ExecuteInProcessResult:
        return defs.resolve_job_def("nightly_refresh").execute_in_process(instance=instance, raise_on_error=False)

    return run


def query(database: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    """Rows of ``sql`` (``?`` for each of ``parameters``) on a DuckDB file opened read-only, as an analyst would."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, parameters).fetchall()


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; ``smtp.alert_url`` sends to it, ``smtp.mailbox`` holds what arrived."""
    from tests.smtp import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def send_alerts(defs, instance, smtp):
    """Evaluate the real alert sensor for a finished run (as the daemon does); the mail that arrived by SMTP."""
    from orchestration.defs.alerts import AlertsResource

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
        # The sensor sends as it is evaluated, and an SMTP client hears "250 OK" only once the server
        # has handled the message: what the night sent is in the box when the call returns (the
        # wait only bounds a slow server thread), so expecting none needs no waiting.
        defs.get_sensor_def(name)(context.for_run_failure() if failed else context)
        return smtp.mailbox.wait(expected)

    return send


@pytest.fixture
def published(after_first_night, monkeypatch) -> Path:
    """The demo extracts through one real nightly run; WAREHOUSE_PUBLISHED_DB names the published database."""
    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(after_first_night.published_db))
    return after_first_night.published_db
