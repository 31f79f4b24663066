import subprocess
import sys

import dagster as dg
from dagster_dbt import DbtCliResource

from config.layout import REPO_ROOT
from config.settings import Settings
from orchestration.defs.alerts import build_alert_sensors
from orchestration.defs.dead_runs import build_dead_run_reaper
from orchestration.defs.landing_sensor import build_landing_sensor
from orchestration.defs.resources import dbt_resource


def test_definitions_load_with_assets_checks_job_and_schedule(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw/call_center__calls",
        "staging/stg_call_center__calls",
        "intermediate/int_call_center__dial_months",
        "marts/call_center_monthly",
        "marts/call_center_reconciliation",
        "published/call_center",
    } <= keys

    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    # dbt tests surface as asset checks, next to the GX suite and the reconciliation check.
    assert ("marts/call_center_monthly", "unique_combination_of_columns_call_center_monthly_month__dial_code") in checks
    assert ("marts/call_center_monthly", "gx_call_center_monthly") in checks
    assert ("marts/call_center_reconciliation", "published_figures_reproduced") in checks
    assert ("marts/call_center_reconciliation", "call_center_reconciliation_has_no_mismatch") in checks

    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Tokyo"
    assert schedule.job_name == "nightly_refresh"

    # The ingest asset feeds dbt: the translator maps the dbt source onto it.
    stg = graph.get(dg.AssetKey(["staging", "stg_call_center__calls"]))
    assert dg.AssetKey(["raw", "call_center__calls"]) in stg.parent_keys
    publish = graph.get(dg.AssetKey(["published", "call_center"]))
    assert dg.AssetKey(["marts", "call_center_monthly"]) in publish.parent_keys
    assert graph.get(dg.AssetKey(["marts", "call_center_monthly"])).group_name == "call_center_marts"


def test_gx_and_reconciliation_checks_are_blocking(defs):
    specs = {spec.name: spec for checks_def in defs.asset_checks or [] for spec in checks_def.check_specs}
    assert specs["gx_call_center_monthly"].blocking
    assert specs["published_figures_reproduced"].blocking


def test_dbt_version_comes_from_the_package_and_matches_the_executable():
    """The resource skips `dbt --version` by overriding a dagster-dbt member: it must still exist and agree."""
    assert "_cli_version" in vars(DbtCliResource)  # renamed upstream, the override would silently stop applying
    resource = dbt_resource()
    reported = subprocess.check_output([resource.dbt_executable, "--version"], text=True)
    assert f"installed: {resource._cli_version}" in reported


def _running(pid: int) -> bool:
    from orchestration.defs.dead_runs import process_alive

    return process_alive(pid, float("inf"))


def test_dbt_dies_with_the_process_that_started_it(tmp_path):
    """warehouse-dbt asks the kernel to end it with its parent: kill -9 the parent, and it goes at once."""
    import os
    import signal
    import sys
    import time

    pid_file = tmp_path / "child.pid"
    child = (
        "import os, time\nfrom commands.dbt_child import _die_with_parent\n_die_with_parent()\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {child!r}])\ntime.sleep(60)",
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchild = int(pid_file.read_text())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 2
        while _running(grandchild) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _running(grandchild), "the child outlived its parent"
    finally:
        parent.kill()


def test_the_dbt_resource_runs_warehouse_dbt():
    import tomllib

    from commands import dbt_child

    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[dbt_child.SCRIPT] == "commands.dbt_child:main"
    assert dbt_resource().dbt_executable == str(dbt_child.executable())
    assert dbt_child.executable().is_file()


def test_the_dbt_resource_builds_no_adapter_in_the_step():
    """The override that spares each dbt step an in-process adapter must still be the member cli() calls."""
    import inspect

    assert "_initialize_dbt_core_adapter" in vars(DbtCliResource)
    assert "self._initialize_dbt_core_adapter(" in inspect.getsource(DbtCliResource.cli)
    assert dbt_resource()._initialize_dbt_core_adapter(["build"]) is None


def test_warehouse_dbt_skips_the_iri_grammar_and_dbt_still_validates():
    """In dbt's process, jsonschema loads without its IRI check (about 1 s of grammar compiling), and
    dbt's own schema validation still rejects a malformed project file."""
    code = (
        "import sys\nfrom commands.dbt_child import _skip_unused_iri_grammar\n_skip_unused_iri_grammar()\n"
        "import jsonschema\nfrom dbt.cli.main import cli\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
        "assert 'iri' not in jsonschema.FormatChecker.checkers\n"
        "from dbt_common.dataclass_schema import ValidationError\nfrom dbt.contracts.project import Project\n"
        "try:\n    Project.validate({'name': 'x', 'version': 1.0, 'profile': 3, 'config-version': 'two'})\n"
        "except ValidationError:\n    print('rejected')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "rejected"


def test_every_sensor_is_evaluated_at_the_configured_interval(defs):
    names = ("landing_sensor", "dead_run_reaper", "alert_on_run_failure", "alert_on_run_success")
    interval = Settings.from_env().sensor_interval_seconds
    assert {name: defs.get_sensor_def(name).minimum_interval_seconds for name in names} == dict.fromkeys(
        names, interval
    )
    built = [build_landing_sensor(7), build_dead_run_reaper(7), *build_alert_sensors({}, 7)]
    assert {s.name: s.minimum_interval_seconds for s in built} == dict.fromkeys(names, 7)


def test_loading_the_code_location_does_not_import_great_expectations():
    # 2 s of every process that loads it (webserver, daemon, each run): only a check evaluation needs GX.
    code = "import sys, orchestration.definitions; print('great_expectations' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert loaded.stdout.strip() == "False"
