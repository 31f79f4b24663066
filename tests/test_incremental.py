"""An incremental night must leave exactly what a full rebuild from the same files leaves."""

import shutil

import duckdb
import polars as pl

from ingest.config import WarehousePaths
from ingest.generate import deliver_next_night


def _published_marts(paths: WarehousePaths) -> dict[str, pl.DataFrame]:
    """Every published mart (not the publication log, whose run ids differ), rows in a canonical order."""
    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        marts = [t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()]
        frames = {t: con.sql(f"select * from marts.{t}").pl() for t in marts if t != "publication_log"}
    return {t: f.sort(f.columns, nulls_last=True) for t, f in frames.items()}


def test_incremental_night_equals_full_rebuild(landed, run_nightly, monkeypatch, tmp_path):
    assert run_nightly().success  # night 1: the history
    deliver_next_night(landed)
    second = run_nightly()  # night 2: only what is new
    assert second.success
    loaded = {e.asset_key.to_user_string(): e.materialization.metadata["files_loaded"].value
              for e in second.get_asset_materialization_events() if e.asset_key.path[0] == "raw"}
    assert loaded["raw/call_center__calls"] == 1 and loaded["raw/national_pension__premium_ledger"] == 1
    incremental = _published_marts(landed)

    full = WarehousePaths(tmp_path / "full")
    shutil.copytree(landed.landing, full.landing)
    shutil.copytree(landed.data_dir / "secrets", full.data_dir / "secrets")  # the same pseudonymisation key
    monkeypatch.setenv("WAREHOUSE_DATA_DIR", str(full.data_dir))
    assert run_nightly().success  # every file in one night
    rebuilt = _published_marts(full)

    assert incremental.keys() == rebuilt.keys() and len(incremental) == 8
    for mart, frame in incremental.items():
        assert frame.equals(rebuilt[mart]), mart
    assert incremental["call_center_monthly"].filter(pl.col("month") == pl.date(2020, 11, 1)).height > 0
