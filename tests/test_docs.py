"""The dbt docs say what analysts need: a front page, every mart column, and what reads each mart."""

import json

from config.kpis import KPIS
from config.layout import DBT_PROJECT_DIR, REPO_ROOT

MANIFEST = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))


def test_every_column_of_every_mart_is_documented_and_contracted():
    marts = [n for n in MANIFEST["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert len(marts) == sum(len(kpi.marts) for kpi in KPIS) == 12
    for mart in marts:
        assert mart["description"], mart["name"]
        # the contract makes the declared columns the table's columns, so none can go undocumented
        assert mart["contract"]["enforced"], mart["name"]
        assert mart["columns"] and all(column["description"].strip() for column in mart["columns"].values()), mart[
            "name"
        ]


def test_the_front_page_and_the_exposures_of_the_dashboard_and_each_notebook():
    overview = MANIFEST["docs"]["doc.pension_warehouse.__overview__"]["block_contents"]
    assert "# Pension operations warehouse" in overview and "published" in overview
    exposures = {e["name"]: e for e in MANIFEST["exposures"].values()}
    notebooks = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert (
        sorted(e["label"].removeprefix("notebooks/") for e in exposures.values() if e["type"] == "notebook")
        == notebooks
    )
    dashboard = exposures["kpi_dashboard"]
    reconciliations = {n["unique_id"] for n in MANIFEST["nodes"].values() if n["name"].endswith("_reconciliation")}
    assert reconciliations <= set(dashboard["depends_on"]["nodes"])  # the reconciliation page reads them all
    source = (REPO_ROOT / "analytics" / "queries.py").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in (REPO_ROOT / "dashboard").rglob("*.py")
    )
    for unique_id in dashboard["depends_on"]["nodes"]:
        name = MANIFEST["nodes"][unique_id]["name"]
        assert f"marts.{name}" in source or name.endswith("_reconciliation"), name  # declared marts are the ones read
    declared = {MANIFEST["nodes"][u]["name"] for u in dashboard["depends_on"]["nodes"]}
    marts = {n["name"] for n in MANIFEST["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"}
    assert {m for m in marts if f"marts.{m}" in source} <= declared  # and every mart read is declared


def test_every_column_of_every_model_is_documented(after_first_night):
    """Staging and intermediate too: each column a built model has is described in its YAML."""
    from tests.conftest import query

    undocumented = []
    for node in MANIFEST["nodes"].values():
        if node["resource_type"] != "model":
            continue
        built = {
            name
            for (name,) in query(
                after_first_night.working_db,
                f"select column_name from information_schema.columns where table_schema = '{node['schema']}' "
                f"and table_name = '{node['alias']}'",
            )
        }
        assert built, node["name"]
        documented = {name for name, column in node["columns"].items() if column["description"].strip()}
        undocumented += [f"{node['name']}.{name}" for name in sorted(built - documented)]
    assert undocumented == [], "\n".join(undocumented)


def test_every_staging_view_has_a_grain_test():
    tests = [n for n in MANIFEST["nodes"].values() if n["resource_type"] == "test"]
    for node in MANIFEST["nodes"].values():
        if node["resource_type"] == "model" and node["schema"] == "staging":
            grain = [
                t
                for t in tests
                if node["unique_id"] in t["depends_on"]["nodes"]
                and (t.get("test_metadata") or {}).get("name") in ("unique", "unique_combination_of_columns")
            ]
            assert grain, node["name"]
