"""Each KPI is declared once (``orchestration.lib.kpis``); every other place that names it must agree.

Read from the dbt manifest that ``make setup`` parses: a mart tagged for one KPI but listed in
another, a suite or a reconciliation mart that does not exist, a code list that drifted from
the extract spec, each fails here before it can mislead a run.
"""

import importlib
import itertools
import json

import jinja2
import pytest

from config.kpis import KPIS
from config.layout import DBT_PROJECT_DIR, EXPECTATIONS_DIR, REPO_ROOT
from ingest import specs
from orchestration.lib.dbt_project import kpi_of

MANIFEST = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
NODES = [n for n in MANIFEST["nodes"].values() if n["resource_type"] in ("model", "seed")]
KPI_NAMES = {kpi.name for kpi in KPIS}


def _marts_by_folder(manifest: dict, kpi: str) -> set[str]:
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["fqn"][1:3] == ["marts", kpi]
    }


def kpi_disagreements(manifest: dict) -> list[str]:
    """Every way the manifest disagrees with ``KPIS``: empty when they agree."""
    found = []
    listed = {mart: kpi.name for kpi in KPIS for mart in kpi.marts}
    for node in (n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")):
        folder_kpi = kpi_of(node).name  # the Dagster group and the step that builds it
        tagged = set(node["tags"]) & KPI_NAMES
        if tagged != {folder_kpi}:
            found.append(f"{node['name']} lies in {folder_kpi}'s folder but is tagged {sorted(tagged)}")
        if node["schema"] == "marts" and listed.get(node["name"]) != folder_kpi:
            found.append(
                f"{node['name']} is a mart of {folder_kpi} but Kpi.marts lists it under {listed.get(node['name'])}"
            )
    for kpi in KPIS:
        if (folder := _marts_by_folder(manifest, kpi.name)) != set(kpi.marts):
            found.append(f"{kpi.name}: marts in its folder {sorted(folder)} but Kpi.marts {sorted(kpi.marts)}")
    return found


def test_every_kpi_in_the_manifest_is_the_one_declared():
    assert kpi_disagreements(MANIFEST) == []


def test_a_mart_tagged_for_one_kpi_but_listed_in_another_is_caught():
    manifest = json.loads(json.dumps(MANIFEST))
    [mart] = [n for n in manifest["nodes"].values() if n["name"] == "employer_collection"]
    mart["tags"] = ["call_center"]
    assert kpi_disagreements(manifest) == [
        "employer_collection lies in employer's folder but is tagged ['call_center']"
    ]
    mart["tags"], mart["fqn"] = ["call_center"], ["pension_warehouse", "marts", "call_center", "employer_collection"]
    found = kpi_disagreements(manifest)
    assert "employer_collection is a mart of call_center but Kpi.marts lists it under employer" in found
    assert any(f.startswith("employer: marts in its folder") for f in found)


@pytest.mark.parametrize("kpi", KPIS, ids=lambda k: k.name)
def test_each_kpi_has_its_suites_its_reconciliation_and_its_published_figures(kpi):
    assert kpi.reconciliation in kpi.marts and kpi.reconciliation in _marts_by_folder(MANIFEST, kpi.name)
    for suite in kpi.gx_suites:
        assert suite in kpi.marts
        assert json.loads((EXPECTATIONS_DIR / f"{suite}.json").read_text(encoding="utf-8"))["name"] == suite
    figures = [
        n for n in NODES if n["resource_type"] == "seed" and n["name"].startswith("published_") and kpi_of(n) == kpi
    ]  # the report's figures, in the KPI's seed folder (a seed per table of the report)
    [reconciliation] = [n for n in NODES if n["name"] == kpi.reconciliation]
    assert figures and all(f["unique_id"] in reconciliation["depends_on"]["nodes"] for f in figures)


def _macro(name: str):
    """A macro of the project, rendered by Jinja as dbt renders it: ``return(...)`` gives its value."""

    class Returned(Exception):
        pass

    def give(value):
        raise Returned(value)

    source = MANIFEST["macros"][f"macro.pension_warehouse.{name}"]["macro_sql"]
    template = jinja2.Environment().from_string(source + "{{ " + name + "() }}", globals={"return": give})
    try:
        template.render()
    except Returned as returned:
        return returned.args[0]
    raise AssertionError(f"macro {name} returned nothing")


def test_premium_months_macro_matches_the_spec():
    assert [tuple(month) for month in _macro("premium_months")] == list(specs.PREMIUM_MONTHS)


def test_the_insurance_names_agree_everywhere():
    suite = json.loads((EXPECTATIONS_DIR / "employer_collection.json").read_text(encoding="utf-8"))
    [value_set] = [
        e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "insurance_name_ja" and "value_set" in e["kwargs"]
    ]
    assert tuple(value_set) == specs.INSURANCE_NAMES


def _readme_kpi_paths() -> dict[str, list[str]]:
    """The README's table of each KPI's path: column title -> the paths in its cells, row by row."""
    lines = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Step | Call center |"))
    table = itertools.takewhile(lambda line: line.startswith("|"), lines[start:])
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    header, body = rows[0], rows[2:]
    return {title: [row[column].strip("`") for row in body] for column, title in enumerate(header) if column}


def test_each_kpis_path_runs_through_folders_named_for_it():
    """A newcomer follows one KPI by its name: its spec module, demo generator, dbt folders, seeds, page."""
    for kpi in KPIS:
        module = importlib.import_module(f"ingest.specs.{kpi.name}")
        assert all(spec in vars(module).values() for spec in kpi.sources), f"{kpi.name}: a source declared elsewhere"
        assert any((REPO_ROOT / "demo" / name).exists() for name in (kpi.name, f"{kpi.name}.py")), kpi.name
        for layer in ("staging", "intermediate", "marts"):
            assert (DBT_PROJECT_DIR / "models" / layer / kpi.name).is_dir(), f"{kpi.name}: no {layer} folder"
        assert (DBT_PROJECT_DIR / "seeds" / kpi.name).is_dir(), kpi.name
        assert (REPO_ROOT / "dashboard" / "views" / f"{kpi.name}.py").is_file(), kpi.name

    table = _readme_kpi_paths()
    assert len(table) == len(KPIS)
    for kpi, paths in zip(KPIS, table.values(), strict=True):
        for path in paths:
            assert (REPO_ROOT / path).exists(), f"README names {path} for {kpi.name}, which does not exist"
        named = [p for p in paths if kpi.name in p]
        suites = [p for p in paths if p.startswith("expectations/")]
        assert suites == [f"expectations/{suite}.json" for suite in kpi.gx_suites]
        assert len(named) >= 7, f"README: {kpi.name}'s column is not its own: {paths}"
