"""One job per KPI refreshes and publishes that KPI only; a rollback repoints the published database and logs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import dagster as dg
from streamlit.testing.v1 import AppTest

from config.kpis import KPIS
from config.layout import REPO_ROOT
from orchestration.defs.jobs import kpi_job_name
from tests.conftest import query


def _state(paths) -> dict:
    """What each run could change: the sources loaded, the marts published, each mart's published version."""
    loaded = {s for (s,) in query(paths.working_db, "select distinct source from raw.load_manifest")}
    log = dict(query(paths.published_db, "select mart, version_run_id from marts.publication_log"))
    published = {
        t for (t,) in query(paths.published_db, "select table_name from duckdb_tables() where schema_name = 'marts'")
    }
    return {"loaded": loaded, "log": log, "published": published - {"publication_log", "load_quality", "extract_scale"}}


def test_each_kpi_job_refreshes_and_publishes_only_its_kpi_and_a_rollback_goes_back(
    landed, defs, instance, monkeypatch
):
    versions, runs = [], {}
    for done, kpi in enumerate(KPIS, start=1):
        job = defs.resolve_job_def(kpi_job_name(kpi))
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert result.success, kpi.name
        runs[kpi.name] = result.run_id
        touched = {e.asset_key for e in result.get_asset_materialization_events()}
        assert touched and all(
            defs.get_assets_def(key).tags_by_key[key].get("kpi") == kpi.name for key in touched
        )  # nothing of another KPI
        assert {e.asset_key for e in result.get_asset_check_evaluations()} <= touched  # its checks ran, on its assets
        assert dg.AssetKey(["published", kpi.name]) in touched

        state = _state(landed)
        assert state["loaded"] == {s.source for k in KPIS[:done] for s in k.sources}
        assert state["published"] == {m for k in KPIS[:done] for m in k.marts}
        # the KPIs refreshed before keep the version their own job published
        assert state["log"] == {m: runs[k.name] for k in KPIS[:done] for m in k.marts}
        versions.append(landed.published_db.resolve())

    # The documented command: list the versions, then show the second one again, with a reason.
    env = dict(os.environ)
    listing = subprocess.run(
        [sys.executable, "-m", "commands.versions"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # each version by its time in Japan, and each KPI's state in it
    assert re.search(rf"^\* \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d JST  {versions[-1].name}$", listing, re.M), listing
    assert re.search(rf"^  \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d JST  {versions[1].name}$", listing, re.M), listing
    assert re.search(r"^      employer +published +run [0-9a-f]{8}$", listing, re.M), listing
    env["WAREHOUSE_PUBLISHED_VERSIONS_KEPT"] = "2"  # the rollback prunes to 2, but keeps the version it shows
    rolled = subprocess.run(
        [
            sys.executable,
            "-m",
            "commands.versions",
            "--to",
            versions[1].name,
            "--reason",
            "employer figures under review",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert rolled.returncode == 0, rolled.stderr
    assert f"now shows the figures of {versions[1].name}" in rolled.stdout
    now = landed.published_db.resolve()
    assert now.name.endswith("_rollback.duckdb") and now not in versions
    assert _state(landed)["published"] == {m for k in KPIS[:2] for m in k.marts}
    log = query(
        landed.published_db,
        "select distinct rolled_back_from, rolled_back_to, rollback_reason from marts.publication_log",
    )
    assert log == [(versions[-1].name, versions[1].name, "employer figures under review")]
    sql = "select * from marts.national_pension_payment_rate order by all"
    assert query(landed.published_db, sql) == query(versions[1], sql)
    kept = sorted(p.name for p in (landed.published_dir / "versions").glob("warehouse_*.duckdb"))
    assert kept == sorted([versions[1].name, versions[2].name, now.name])  # the oldest pruned, not the one shown
    listing = subprocess.run(
        [sys.executable, "-m", "commands.versions"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert re.search(
        rf"^      call_center +rolled back +run [0-9a-f]{{8}}: to {versions[1].name}: employer figures under review$",
        listing,
        re.M,
    ), listing

    # The rollback ended: the same figures, no longer marked rolled back; the log says when and why.
    ended = subprocess.run(
        [sys.executable, "-m", "commands.versions", "--end", "--reason", "review done"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ended.returncode == 0, ended.stderr
    assert "the rollback has ended" in ended.stdout
    after = landed.published_db.resolve()
    assert after.name.endswith("_rollback_end.duckdb")
    assert query(landed.published_db, sql) == query(now, sql)  # the same figures as the rollback showed
    # its target no longer shown, pruning takes it: the 2 latest stay
    assert sorted(p.name for p in (landed.published_dir / "versions").glob("warehouse_*.duckdb")) == sorted(
        [now.name, after.name]
    )
    assert query(
        landed.published_db,
        "select count(*) from marts.publication_log where rolled_back_to is not null or withheld_fingerprint is not null",
    ) == [(0,)]
    assert query(
        landed.published_db,
        "select distinct rollback_end_reason from marts.publication_log where rollback_ended_at is not null",
    ) == [("review done",)]
    banner = AppTest.from_file(str(REPO_ROOT / "dashboard" / "views" / "overview.py"), default_timeout=120)
    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(landed.published_db))
    banner.run()
    assert not [w for w in banner.warning if "rolled back" in w.value], [w.value for w in banner.warning]
    again = subprocess.run(
        [sys.executable, "-m", "commands.versions", "--end", "--reason", "twice"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "shows no rollback: there is none to end" in again.stderr

    refused = subprocess.run(
        [sys.executable, "-m", "commands.versions", "--to", "warehouse_nonsense.duckdb", "--reason", "x"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (
        refused.returncode == 2
        and "rollback refused: no published version 'warehouse_nonsense.duckdb'" in refused.stderr
    )
