"""The dbt models' SQL style, as ``.sqlfluff`` declares it and ``make lint`` enforces it: the
models pass, and the configuration really is the one in force (a model breaking dbt-labs'
rules is caught, Jinja and the project's macros included)."""

import re

import pytest
from sqlfluff.core import FluffConfig, Linter

from config.layout import DBT_PROJECT_DIR, REPO_ROOT


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(config=FluffConfig.from_path(str(REPO_ROOT)))


def test_every_model_follows_the_style(linter):
    records = linter.lint_paths((str(DBT_PROJECT_DIR / "models"),)).as_records()
    found = [
        f"{r['filepath']}:{v['start_line_no']} {v['code']} {v['description']}" for r in records for v in r["violations"]
    ]
    assert len(records) == len(list((DBT_PROJECT_DIR / "models").rglob("*.sql")))  # every model was read
    assert found == []


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        # `using` merges the key columns: dbt-labs' style names both sides with `on`
        ("select a.x\nfrom {{ ref('a') }} as a\ninner join {{ ref('b') }} as b using (id)\n", "ST07"),
        # a column of a join names its table
        ("select x\nfrom {{ ref('a') }} as a\ninner join {{ ref('b') }} as b on a.id = b.id\n", "RF02"),
        ("SELECT a.x\nFROM {{ ref('a') }} AS a\n", "CP01"),  # lowercase
        ("select cast(a.x as date) as x, a.y::date as y\nfrom {{ ref('a') }} as a\n", "CV11"),  # cast(), not ::
    ],
)
def test_a_model_against_the_style_is_caught(linter, sql, rule):
    result = linter.lint_string(sql, fname=str(DBT_PROJECT_DIR / "models" / "example.sql"))
    assert not [v for v in result.violations if v.rule_code() in {"TMP", "PRS"}], "the example did not render or parse"
    assert rule in {v.rule_code() for v in result.violations}


def test_the_projects_macros_render(linter):
    """Without them every model using one would be a template error, and lint nothing."""
    model = DBT_PROJECT_DIR / "models" / "example.sql"
    sql = "select {{ %s('a.month') }} as fiscal_year\nfrom {{ ref('a') }} as a\n"
    assert linter.lint_string(sql % "fiscal_year", fname=str(model)).violations == []
    assert "TMP" in {v.rule_code() for v in linter.lint_string(sql % "no_such_macro", fname=str(model)).violations}


def test_every_dispatching_macro_resolves_to_its_default_when_linted():
    """sqlfluff has no dbt `adapter`: .sqlfluff_macros routes each dispatching macro to its
    default__ (DuckDB's). A macro dispatched without a stand-in there would fail the lint of every
    model calling it; a stand-in left after its macro stopped dispatching would lint a stale body."""
    macros = (REPO_ROOT / "dbt_project" / "macros").glob("*.sql")
    dispatching = set()
    for path in macros:
        text = path.read_text(encoding="utf-8")
        dispatching |= set(re.findall(r"adapter\.dispatch\('(\w+)', 'pension_warehouse'\)", text))
    stand_ins = (REPO_ROOT / ".sqlfluff_macros" / "dispatch.sql").read_text(encoding="utf-8")
    routed = dict(re.findall(r"\{% macro (\w+)\(.*?\{\{ return\(default__(\w+)\(", stand_ins))
    assert all(name == target for name, target in routed.items()), routed
    # declare_raw_sources runs as a hook, never inside a model: sqlfluff does not meet it
    assert set(routed) == dispatching - {"declare_raw_sources"}
