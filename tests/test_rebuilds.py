"""The fingerprint that lets a KPI with nothing new skip its dbt build must change with every input."""

import duckdb
import pytest

from config.kpis import CALL_CENTER_KPI, EMPLOYER_KPI
from ingest.raw_schema import MANIFEST_DDL
from orchestration.lib.rebuilds import inputs_sha256, last_good_build, record_good_build


@pytest.fixture
def project(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: w\n")
    (tmp_path / "models" / "m.sql").write_text("select 1\n")
    return tmp_path


def _load(con, load_id, source, superseded_by=None):
    con.execute(
        """insert into raw.load_manifest (load_id, source, file_name, file_path, file_version, size_bytes, sha256, rows_read,
                                         rows_loaded, rows_rejected, run_id, loaded_at, superseded_by_load_id, mtime_ns)
           values (?, ?, 'f', 'p', 1, 1, 'sha', 1, 1, 0, null, now(), ?, 0)""",
        [load_id, source, superseded_by],
    )


def test_fingerprint_changes_with_every_input_and_nothing_else(project):
    con = duckdb.connect()
    assert inputs_sha256(con, CALL_CENTER_KPI, project, "{}") is None  # nothing loaded yet: always build
    con.execute(MANIFEST_DDL)
    _load(con, 1, "call_center")
    first = inputs_sha256(con, CALL_CENTER_KPI, project, "{}")
    assert inputs_sha256(con, CALL_CENTER_KPI, project, "{}") == first

    _load(con, 2, "employer")  # another KPI's source
    assert inputs_sha256(con, CALL_CENTER_KPI, project, "{}") == first
    assert inputs_sha256(con, EMPLOYER_KPI, project, "{}") != first

    changes = []
    _load(con, 3, "call_center")  # a new file
    changes.append(inputs_sha256(con, CALL_CENTER_KPI, project, "{}"))
    con.execute("update raw.load_manifest set superseded_by_load_id = 4 where load_id = 3")
    _load(con, 4, "call_center")  # a corrected re-delivery
    changes.append(inputs_sha256(con, CALL_CENTER_KPI, project, "{}"))
    (project / "models" / "m.sql").write_text("select 2\n")  # a model changes
    changes.append(inputs_sha256(con, CALL_CENTER_KPI, project, "{}"))
    (project / "macros").mkdir()
    (project / "macros" / "x.sql").write_text("{% macro x() %}1{% endmacro %}\n")  # a macro appears
    changes.append(inputs_sha256(con, CALL_CENTER_KPI, project, "{}"))
    changes.append(inputs_sha256(con, CALL_CENTER_KPI, project, '{"scale": 1.0}'))  # other vars
    moved = inputs_sha256(con, CALL_CENTER_KPI, project, '{"scale": 1.0, "working_db": "/elsewhere/warehouse.duckdb"}')
    assert moved == changes[-1]  # the database's path is not an input: a moved data directory does not rebuild
    assert len({first, *changes}) == 1 + len(changes)


def test_only_a_recorded_build_counts(project):
    con = duckdb.connect()
    con.execute(MANIFEST_DDL)
    _load(con, 1, "call_center")
    assert last_good_build(con, CALL_CENTER_KPI) is None
    inputs = inputs_sha256(con, CALL_CENTER_KPI, project, "{}")
    record_good_build(con, CALL_CENTER_KPI, inputs, "run-1")
    record_good_build(con, CALL_CENTER_KPI, inputs, "run-2")  # one row per KPI
    assert last_good_build(con, CALL_CENTER_KPI).inputs_sha256 == inputs
    assert last_good_build(con, EMPLOYER_KPI) is None
    assert con.execute("select kpi, run_id from pipeline.dbt_builds").fetchall() == [("call_center", "run-2")]
