"""Every setting is read in one place (config.settings), with one default (defaults.env)."""

import os
import re
import subprocess
import sys
import time

import pytest

from config.layout import BIN, REPO_ROOT
from config.settings import DEFAULTS_FILE, SettingError, Settings, defaults, variable
from orchestration.defs.resources import WarehouseResource


def test_every_setting_has_one_default_and_every_default_is_a_setting():
    declared = {variable(name) for name in Settings.model_fields}
    assert declared == set(defaults())
    # and nothing else in the code reads a WAREHOUSE_ variable from the environment by hand
    readers = []
    for path in REPO_ROOT.glob("*/**/*.py"):
        if path.parts[len(REPO_ROOT.parts)] in (".venv", "data", "tests") or path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        readers += [
            f"{path.relative_to(REPO_ROOT)}: {m}"
            for m in re.findall(r"(?:environ\.get|environ\[|getenv)\(?\s*[\"']WAREHOUSE_\w+", text)
        ]
    assert readers == []


def test_the_environment_wins_over_the_defaults_and_relative_paths_are_the_repositorys():
    settings = Settings.from_env({"WAREHOUSE_SCALE": "0.5", "WAREHOUSE_DATA_DIR": "elsewhere", "OTHER": "x"})
    assert settings.scale == 0.5 and settings.seed == int(defaults()["WAREHOUSE_SEED"])
    assert settings.data_dir == REPO_ROOT / "elsewhere"
    assert settings.published_db == REPO_ROOT / "elsewhere" / "published" / "warehouse.duckdb"
    assert Settings.from_env({"WAREHOUSE_PUBLISHED_DB": "/tmp/x.duckdb"}).published_db.as_posix() == "/tmp/x.duckdb"
    assert Settings.from_env({}).business_date is None and Settings.from_env({}).alert_url_list == ()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WAREHOUSE_SCALE", "one", "WAREHOUSE_SCALE='one': expected a number"),
        ("WAREHOUSE_SEED", "1.5", "WAREHOUSE_SEED='1.5': expected an integer"),
        ("WAREHOUSE_STALE_BLOCKS", "yes", "WAREHOUSE_STALE_BLOCKS='yes': expected true or false"),
        (
            "WAREHOUSE_BUSINESS_DATE",
            "2020/11/01",
            "WAREHOUSE_BUSINESS_DATE='2020/11/01': expected YYYY-MM-DD, or blank for today",
        ),
        ("WAREHOUSE_DATA_DIR", " ", "WAREHOUSE_DATA_DIR is blank"),
        (
            "WAREHOUSE_SENSOR_INTERVAL_SECONDS",
            "0",
            "WAREHOUSE_SENSOR_INTERVAL_SECONDS='0': expected a whole number of at least 1",
        ),
        ("WAREHOUSE_SENSOR_INTERVAL_SECONDS", "5.5", "WAREHOUSE_SENSOR_INTERVAL_SECONDS='5.5': expected an integer"),
    ],
)
def test_a_bad_value_names_its_variable_and_what_it_expects(name, value, message):
    with pytest.raises(SettingError) as raised:
        Settings.from_env({name: value})
    assert str(raised.value).startswith(message)


def test_the_resource_parses_its_fields_as_the_settings_do(tmp_path):
    given = {"WAREHOUSE_DATA_DIR": str(tmp_path), "WAREHOUSE_SCALE": "0.25", "WAREHOUSE_STALE_BLOCKS": "true"}
    resource = WarehouseResource(overrides=given)
    assert resource.settings == Settings.from_env({**os.environ, **given})
    assert (resource.settings.scale, resource.settings.stale_blocks, resource.settings.settle_seconds) == (
        0.25,
        True,
        float(os.environ.get("WAREHOUSE_SETTLE_SECONDS") or defaults()["WAREHOUSE_SETTLE_SECONDS"]),
    )
    assert resource.dbt_vars() == resource.settings.dbt_vars()
    with pytest.raises(SettingError, match="WAREHOUSE_MAX_REJECT_RATE='lots'"):
        _ = WarehouseResource(overrides={"WAREHOUSE_MAX_REJECT_RATE": "lots"}).settings


def test_the_command_prints_the_settings_but_never_a_secret_url():
    env = {"PATH": "/usr/bin", "WAREHOUSE_DAGSTER_PG_URL": "postgresql://u:hunter2@h/db", "WAREHOUSE_SCALE": "0.02"}
    shown = subprocess.run(
        [sys.executable, "-m", "config.settings"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "WAREHOUSE_SCALE=0.02" in shown and "hunter2" not in shown
    assert "WAREHOUSE_DAGSTER_PG_URL=(set; not shown" in shown
    assert DEFAULTS_FILE.name == "defaults.env"


def test_the_dagster_cli_runs_in_a_fresh_shell_with_the_defaults(landed, tmp_path):
    """As a user types it, with only the data directory set: every other setting from defaults.env,
    none 'not set' (the resources read the settings themselves; no EnvVar is bound to a setting)."""
    hour_ago = time.time() - 3600  # delivered an hour ago: settled under the default WAREHOUSE_SETTLE_SECONDS
    for path in landed.landing.rglob("*.csv"):
        os.utime(path, (hour_ago, hour_ago))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WAREHOUSE_DATA_DIR": str(landed.data_dir)}
    done = subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "execute",
            "-m",
            "orchestration.definitions",
            "-j",
            "call_center_refresh",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    assert "which is not set" not in output
    assert done.returncode == 0, output[-3000:]
    assert "RUN_SUCCESS" in output
    assert landed.published_db.exists()  # the call center published, today's night marking it stale


def test_the_readme_documents_every_setting_with_its_default():
    """README's Configuration table: a row per setting of defaults.env, with the same default."""
    rows = [
        line.split("|")[1:3]
        for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `WAREHOUSE_")
    ]
    documented: dict[str, str] = {}
    for names_cell, defaults_cell in rows:
        names = [n.strip(" `") for n in names_cell.split(",")]
        values = [d.strip(" `") for d in defaults_cell.split(",")] if len(names) > 1 else [defaults_cell.strip(" `")]
        documented.update(zip(names, values, strict=True))
    secret_only_in_the_environment = {"WAREHOUSE_PSEUDONYM_KEY"}
    declared = defaults()
    assert set(documented) - secret_only_in_the_environment == set(declared)
    for name, value in declared.items():
        assert documented[name] == (value or "blank"), f"README says {name} defaults to {documented[name]!r}"


def test_the_instance_command_says_in_one_line_that_dagster_home_is_missing():
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run(
        [sys.executable, "-m", "commands.instance"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("DAGSTER_HOME is not set"), done.stderr


def test_a_demo_data_directory_keeps_the_demos_night(tmp_path):
    """make demo's night stays the data directory's night: the UI, schedule and sensor take it, not today;
    WAREHOUSE_BUSINESS_DATE still wins, and a directory without the file (real extracts) takes today."""
    import datetime as dt

    from config.settings import JAPAN

    env = {"WAREHOUSE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).night == dt.datetime.now(JAPAN).date()
    (tmp_path / "demo_business_date").write_text("2020-11-01\n", encoding="utf-8")
    assert Settings.from_env(env).night == dt.date(2020, 11, 1)
    assert Settings.from_env({**env, "WAREHOUSE_BUSINESS_DATE": "2020-11-05"}).night == dt.date(2020, 11, 5)
