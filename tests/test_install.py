"""The install is locked: requirements.lock pins what pyproject.toml asks for, and the lint runs the same
everywhere (make lint, the pre-commit hooks)."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from config.layout import REPO_ROOT


def _pins(lock: str = "requirements.lock") -> dict[str, str]:
    lines = (REPO_ROOT / lock).read_text().splitlines()
    pins = dict(re.match(r"^([A-Za-z0-9._-]+)==(\S+)$", line).groups() for line in lines if "==" in line)
    return {canonicalize_name(name): version for name, version in pins.items()}


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_the_lock_pins_every_declared_package_within_its_bounds():
    pins = _pins()
    declared = _declared()
    assert len(declared) > 30
    missing = [str(r) for r in declared if canonicalize_name(r.name) not in pins]
    assert not missing, f"not in requirements.lock (run make lock): {missing}"
    outside = [f"{r} (locked {pins[canonicalize_name(r.name)]})" for r in declared]
    outside = [o for o, r in zip(outside, declared, strict=True) if pins[canonicalize_name(r.name)] not in r.specifier]
    assert not outside, f"requirements.lock is older than pyproject.toml (run make lock): {outside}"


def test_the_spark_lock_adds_the_spark_engine_and_changes_no_other_pin():
    """requirements-spark.lock (make setup-spark, make test) is compiled with requirements.lock as its
    constraints: installed over it, it adds pyspark and dbt-spark and replaces nothing."""
    base, spark = _pins(), _pins("requirements-spark.lock")
    assert {name: spark[name] for name in base} == base
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for requirement in map(Requirement, project["optional-dependencies"]["spark"]):
        assert spark[canonicalize_name(requirement.name)] in requirement.specifier, requirement
    assert "pyspark" not in base  # a DuckDB-only install goes without its 490 MB


def test_the_lock_pins_each_package_once_and_exactly():
    lines = [line for line in (REPO_ROOT / "requirements.lock").read_text().splitlines() if line and line[0].isalnum()]
    assert all("==" in line for line in lines), [line for line in lines if "==" not in line]
    names = [canonicalize_name(line.split("==")[0]) for line in lines]
    assert len(names) == len(set(names)) > 200


def test_the_pre_commit_hooks_run_what_make_lint_runs():
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    makefile = (REPO_ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    recipe = {line.strip().replace("$(BIN)/", ".venv/bin/") for line in lint.splitlines()[1:]}
    for hook in hooks:
        assert any(line.startswith(hook["entry"]) for line in recipe), f"{hook['id']}: {hook['entry']} not in make lint"
    assert len(hooks) == len(recipe) - 1  # all but dg check defs, which loads the code location (26 s)


def test_a_deprecated_dagster_api_called_from_our_code_fails_the_suite():
    """pyproject's filterwarnings: a DeprecationWarning attributed to our modules is an error."""
    import dagster as dg
    import pytest

    @dg.asset
    def uses_a_deprecated_api(context: dg.AssetExecutionContext) -> None:
        context.run_id  # noqa: B018  (deprecated in Dagster 1.13: context.run.run_id)

    with pytest.raises(DeprecationWarning, match="run_id is deprecated"):
        dg.materialize([uses_a_deprecated_api])


def test_a_library_deprecating_inside_itself_does_not():
    import warnings

    # as sqlglotrs does on import: attributed to the library's module, not ours
    warnings.warn_explicit(
        "sqlglotrs is deprecated", DeprecationWarning, "sqlglot/tokens.py", 16, module="sqlglot.tokens"
    )
