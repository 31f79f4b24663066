"""One naming rule for marts, ``<kpi>_<what it holds>``, and the former names kept for one release."""

import duckdb

from config.kpis import FORMER_MART_NAMES, KPIS
from publication.log import Attempt, stored_log
from publication.publish import publish
from tests.conftest import query


def test_every_mart_is_named_for_its_kpi_and_what_it_holds():
    for kpi in KPIS:
        assert all(mart.startswith(f"{kpi.name}_") for mart in kpi.marts), kpi.marts
    current = {mart for kpi in KPIS for mart in kpi.marts}
    assert set(FORMER_MART_NAMES.values()) <= current and not set(FORMER_MART_NAMES) & current


def test_a_former_name_reads_its_mart_in_every_published_version(paths):
    paths.working_db.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.working_db)) as con:
        con.execute("create schema marts; create table marts.national_pension_payment_rate as select 1 as v")
        publish(con, paths, "national_pension", ["national_pension_payment_rate"], {}, "run1")
        con.execute("create table marts.employer_collection as select 2 as v")
        publish(con, paths, "employer", ["employer_collection"], {}, "run2")  # carries the other KPI's mart
    assert query(paths.published_db, "select v from marts.np_payment_rate") == [(1,)]
    kinds = dict(
        query(
            paths.published_db,
            "select table_name, table_type from information_schema.tables where table_schema = 'marts'",
        )
    )
    assert kinds["np_payment_rate"] == "VIEW" and kinds["national_pension_payment_rate"] == "BASE TABLE"
    assert "np_insured_persons" not in kinds  # only the former names of marts the version holds


def test_a_working_database_from_before_the_rename_carries_its_marts_under_their_new_names(paths):
    paths.working_db.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.working_db)) as con:
        con.execute("create schema marts; create table marts.employer_collection as select 1 as v")
        publish(con, paths, "employer", ["employer_collection"], {}, "run1")
        # as the last publication before the rename left it
        con.execute("create table publication.delinquent_establishments as select 7 as n")
        con.execute("insert into publication.log (mart, kpi) values ('delinquent_establishments', 'employer')")
        con.execute("create or replace table marts.employer_collection as select 2 as v")
        publish(
            con, paths, "employer", ["employer_collection"], {"employer_collection": ("employer", Attempt(1))}, "run2"
        )
        marts = [m for (m,) in con.execute("select mart from publication.log order by mart").fetchall()]
        assert (
            marts
            == ["employer_collection", "employer_delinquent_establishments"]
            == sorted(stored_log(con, "log")["mart"])
        )
    assert query(paths.published_db, "select n from marts.employer_delinquent_establishments") == [(7,)]
    assert query(paths.published_db, "select n from marts.delinquent_establishments") == [(7,)]  # the view
