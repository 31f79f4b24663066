"""The same dbt project on DuckDB and on Apache Spark gives the same marts, the same reconciliation
and the same test results: two nights (the second with new and superseded loads), built
incrementally on each engine, then once more from scratch on a standalone cluster through its
Thrift server, whose tasks must run on its workers.

Spark's JVM costs half a minute per dbt call, so the nights are built once a test session
(``tests.once``), at the smallest demo scale, and every test reads what they left.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from config.layout import WarehousePaths
from config.settings import Settings
from demo import call_center, employer, national_pension, night_after_last_extract
from engines import spark_cluster
from ingest.specs import SPECS
from tests import engine_nights as engines
from tests.once import made_once

pytestmark = [pytest.mark.pipeline, pytest.mark.spark]

RECONCILIATIONS = ("call_center_reconciliation", "national_pension_reconciliation", "employer_reconciliation")
# Held back from the first night, delivered on the second: a new day of calls and a new month of
# contributions; and on the second night, re-deliveries that supersede a load of every extract
# (the ledger's and the register's included, which take the incremental models' re-decision path).
LAST_DELIVERIES = {"call_center__calls": 1, "employer__contributions": 1}
SEED = 11


@dataclass(frozen=True)
class Nights:
    folder: Path

    def marts(self, night: int, engine: str) -> Path:
        return self.folder / f"night{night}_{engine}.duckdb"

    def tests(self, night: int, engine: str) -> dict[str, str]:
        return json.loads((self.folder / f"night{night}_{engine}_results.json").read_text())

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"


def _withheld(paths: WarehousePaths) -> dict[Path, Path]:
    """The last deliveries of each source, moved aside for the second night."""
    aside = paths.data_dir / "aside"
    aside.mkdir(parents=True, exist_ok=True)
    moved = {}
    for spec in SPECS.values():
        if spec.raw_table not in LAST_DELIVERIES:
            continue
        files = sorted(paths.landing_dir(spec.source).glob(spec.pattern), key=lambda p: spec.period(p.name))
        for file in files[-LAST_DELIVERIES[spec.raw_table] :]:
            moved[aside / file.name] = file
            shutil.move(file, aside / file.name)
    return moved


def _redeliver(paths: WarehousePaths) -> None:
    """A correction of one earlier file of each source: the same name, a line fewer (a new version)."""
    for spec in SPECS.values():
        files = sorted(paths.landing_dir(spec.source).glob(spec.pattern), key=lambda p: spec.period(p.name))
        earlier = files[len(files) // 2]
        lines = earlier.read_bytes().splitlines(keepends=True)
        earlier.write_bytes(b"".join(lines[:-1]))


def _build_nights(folder: Path) -> None:
    paths = WarehousePaths(folder / "data")
    for module, source in (
        (call_center, "call_center"),
        (national_pension, "national_pension"),
        (employer, "employer"),
    ):
        module.generate(paths.landing_dir(source), engines.SCALE, SEED)
    withheld = _withheld(paths)
    nights = Nights(folder)
    for night in (1, 2):
        if night == 2:
            for aside, landing in withheld.items():
                shutil.move(aside, landing)
            _redeliver(paths)
        engines.load_night(paths, night_after_last_extract(paths))
        for engine, target in (("duckdb", "working"), ("spark", "spark")):
            results = engines.dbt(paths, target, "build")
            (folder / f"night{night}_{engine}_results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
        engines.duckdb_marts(paths, nights.marts(night, "duckdb"))
        engines.spark_marts(paths, nights.marts(night, "spark"))


@pytest.fixture(scope="session")
def nights(shared) -> Nights:
    return Nights(made_once(shared, "engine_nights", _build_nights))


@pytest.mark.parametrize("night", [1, 2])
def test_every_mart_is_equal_on_both_engines(nights, night):
    duck, spark = nights.marts(night, "duckdb"), nights.marts(night, "spark")
    assert engines.differences(duck, spark) == []
    with duckdb.connect(str(duck), read_only=True) as con:
        marts = con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0]
        rows = con.execute("select count(*) from marts.national_pension_payment_rate").fetchone()[0]
    assert marts >= 8 and rows > 100  # compared something: every KPI's marts, with rows


@pytest.mark.parametrize("night", [1, 2])
def test_every_reconciliation_figure_has_the_same_status(nights, night):
    for mart in RECONCILIATIONS:
        duck = engines.statuses(nights.marts(night, "duckdb"), mart)
        assert duck == engines.statuses(nights.marts(night, "spark"), mart)
        assert len(duck) > 40
    # the first night is the report's own data: every figure reproduced, on both engines
    if night == 1:
        assert set(engines.statuses(nights.marts(1, "spark"), "national_pension_reconciliation").values()) == {"match"}


@pytest.mark.parametrize("night", [1, 2])
def test_every_dbt_test_has_the_same_result(nights, night):
    duck, spark = nights.tests(night, "duckdb"), nights.tests(night, "spark")
    tests = {node for node in duck if node.startswith(("test.", "unit_test."))}
    assert len(tests) > 90
    assert {n: duck[n] for n in tests} == {n: spark.get(n) for n in tests}
    # every node ran: nothing failed, erred or was skipped (the second night's corrections move
    # some figures off the report's, which the reconciliation tests flag as a warning)
    assert {n: s for n, s in {**duck, **spark}.items() if s in ("fail", "error", "skipped")} == {}


def test_the_second_night_changed_what_it_should(nights):
    """The nights compared are not the same night twice: the second's new and superseded loads show."""
    with (
        duckdb.connect(str(nights.marts(1, "duckdb")), read_only=True) as first,
        duckdb.connect(str(nights.marts(2, "duckdb")), read_only=True) as second,
    ):
        query = "select sum(calls_offered) from marts.call_center_monthly"
        assert first.execute(query).fetchone() != second.execute(query).fetchone()
    with duckdb.connect(str(nights.data_dir / "working" / "warehouse.duckdb"), read_only=True) as con:
        superseded = con.execute(
            "select count(*) from raw.load_manifest where superseded_by_load_id is not null"
        ).fetchone()
    assert superseded[0] == len(SPECS)  # one correction of each extract


def test_a_planted_duplicate_fails_the_uniqueness_test_on_both_engines(nights, tmp_path):
    paths = WarehousePaths(tmp_path / "data")
    shutil.copytree(nights.data_dir, paths.data_dir)
    shutil.rmtree(paths.spark_dir)  # a metastore of its own, built afresh
    # one call of one load, twice: in raw, and in that load's Parquet in the lake
    with duckdb.connect(str(paths.working_db)) as con:
        load_id = con.execute("select max(_load_id) from raw.call_center__calls").fetchone()[0]
        con.execute(
            f"insert into raw.call_center__calls select * from raw.call_center__calls where _load_id = {load_id} limit 1"
        )
        folder = paths.lake_raw / "call_center__calls" / f"_load_id={load_id}"
        con.execute(
            f"""copy (select * exclude (_load_id) from raw.call_center__calls where _load_id = {load_id})
                to '{folder}/data_0.parquet' (format parquet)"""
        )
    for target in ("working", "spark"):
        results = engines.dbt(paths, target, "build", "--select", "stg_call_center__calls", "call_center_dials")
        [unique] = [n for n in results if n.startswith("test.pension_warehouse.unique_stg_call_center__calls_call_id.")]
        assert results[unique] == "fail", (target, results)
        assert {n: s for n, s in results.items() if s == "fail"} == {unique: "fail"}  # that test alone


@pytest.fixture
def cluster_paths(nights, tmp_path):
    """The second night's data directory, with a Spark state of its own, and the cluster on it."""
    paths = WarehousePaths(tmp_path / "data")
    shutil.copytree(nights.data_dir, paths.data_dir, ignore=shutil.ignore_patterns("spark"))
    settings = Settings.from_env(engines.environment(paths))
    spark_cluster.start(paths, settings.spark_thrift_port, settings.spark_driver_memory)
    try:
        yield paths
    finally:
        spark_cluster.stop(paths, settings.spark_thrift_port)


def test_the_standalone_cluster_builds_the_same_marts_on_its_workers(nights, cluster_paths, tmp_path):
    """From scratch through the Thrift server, equal to DuckDB's second night (built incrementally)."""
    paths = cluster_paths
    results = engines.dbt(paths, "spark_cluster", "build", "--exclude-resource-type", "unit_test")
    assert {node: status for node, status in results.items() if status in ("fail", "error", "skipped")} == {}
    duck_tests = nights.tests(2, "duckdb")
    assert {n: s for n, s in results.items() if n.startswith("test.")} == {
        n: s for n, s in duck_tests.items() if n.startswith("test.")
    }
    built = engines.spark_marts(paths, tmp_path / "cluster.duckdb")
    assert engines.differences(nights.marts(2, "duckdb"), built) == []

    found = spark_cluster.cluster(paths, Settings.from_env(engines.environment(paths)).spark_thrift_port)
    workers = found.master_status()["workers"]
    assert [w["state"] for w in workers] == ["ALIVE", "ALIVE"]
    executors = {e["id"]: e["completedTasks"] for e in found.executors()}
    # the tasks ran on the workers' executors, none on the driver
    assert executors.pop("driver") == 0
    assert len(executors) == 2 and all(tasks > 0 for tasks in executors.values()), executors
