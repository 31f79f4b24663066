"""The folders keep their jobs: the libraries that run without Dagster never import it.

``ingest/`` (landing to raw and the lake), ``engines/`` (dbt on Spark), ``publication/`` (write-audit-publish), ``config/``, the analysts'
``analytics/`` and ``dashboard/`` and the ``demo/`` generator run on their own (`make dashboard`,
notebooks, `python -m demo`, the bench) and are what another orchestrator would call: Dagster
stays in ``orchestration/`` (and the operator programs that drive it, ``commands/launch.py`` and
``commands/demo_night.py``).
"""

import ast
import subprocess
import sys

import pytest

from config.layout import REPO_ROOT

DAGSTER_FREE = ("ingest", "engines", "publication", "config", "analytics", "dashboard", "demo")
# The operator programs that drive Dagster itself (launch a run, follow the demo's run).
COMMANDS_ON_DAGSTER = {"launch", "demo_night"}


def _modules(package: str) -> list[str]:
    root = REPO_ROOT / package
    return sorted(
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in root.rglob("*.py")
    )


def dagster_imports(source: str) -> list[str]:
    """The modules of Dagster (dagster, dagster_dbt, ...) that a module's source imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [name for name in names if name.split(".")[0].startswith("dagster")]
    return found


def _free_modules() -> list[str]:
    commands = [m for m in _modules("commands") if m.rsplit(".", 1)[-1] not in COMMANDS_ON_DAGSTER]
    return [m for package in DAGSTER_FREE for m in _modules(package)] + commands


@pytest.mark.parametrize("module", _free_modules())
def test_a_dagster_free_module_imports_no_dagster(module):
    path = REPO_ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = REPO_ROOT / module.replace(".", "/") / "__init__.py"
    assert dagster_imports(path.read_text(encoding="utf-8")) == []


def test_importing_them_all_loads_no_dagster():
    """Not even through another module: import every one in a fresh interpreter, and look."""
    modules = [m for m in _free_modules() if not m.startswith("dashboard.views") and m != "dashboard.app"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.startswith('dagster')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout[-500:]


def test_the_check_can_fail():
    assert dagster_imports("import dagster as dg\nfrom dagster_dbt import DbtProject\nimport duckdb\n") == [
        "dagster",
        "dagster_dbt",
    ]


def test_importing_the_code_location_does_no_work():
    """Importing orchestration.definitions builds nothing: dbt, its manifest and the assets wait for
    Dagster to load the definitions (``@dg.definitions``)."""
    code = (
        "import sys\nimport orchestration.definitions\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('dagster_dbt', 'dbt', 'duckdb', 'orchestration.defs'))}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
