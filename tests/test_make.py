"""`make` takes every setting from the environment first, defaults.env second (README, Configuration)."""

import os
import subprocess

import pytest

from config.layout import REPO_ROOT

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


def _make_config(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAREHOUSE_", "DAGSTER_HOME", "MAKE", "MFLAGS"))}
    out = subprocess.run(
        ["make", "-s", "config"], cwd=REPO_ROOT, env={**env, **settings}, capture_output=True, text=True, check=True
    )
    return dict(line.split("=", 1) for line in out.stdout.splitlines())


def test_the_environment_overrides_the_defaults():
    defaults = _make_config()
    assert defaults["WAREHOUSE_SCALE"] == "0.01" and defaults["WAREHOUSE_DATA_DIR"] == str(REPO_ROOT / "data")
    assert defaults["DAGSTER_HOME"] == str(REPO_ROOT / "data" / "dagster_home")
    overridden = _make_config(
        WAREHOUSE_SCALE="0.002",
        WAREHOUSE_DATA_DIR="/tmp/elsewhere",
        WAREHOUSE_ALERT_URLS="mailtos://oncall:hunter2@smtp.example.org",
        WAREHOUSE_DAGSTER_PG_URL="postgresql://dagster:hunter2@db:5432/dagster",
    )
    assert overridden["WAREHOUSE_SCALE"] == "0.002"
    assert "hunter2" not in str(overridden), "make config printed a password"
    assert overridden["WAREHOUSE_ALERT_URLS"] and overridden["WAREHOUSE_DAGSTER_PG_URL"]  # set, said so
    assert overridden["DAGSTER_HOME"] == "/tmp/elsewhere/dagster_home"  # the instance lives with the data it describes
    assert overridden["WAREHOUSE_SEED"] == defaults["WAREHOUSE_SEED"]


def test_no_dotenv_file_overrides_the_environment():
    # Dagster loads a `.env` in the working directory *over* the environment (dagster dev, code
    # servers), so the defaults live in defaults.env, which only fills in what is unset.
    assert not (REPO_ROOT / ".env").exists()
    assert (REPO_ROOT / "defaults.env").exists()


def test_the_longest_files_started_first_are_files_of_the_suite():
    from tests.conftest import LONGEST_FIRST

    assert all((REPO_ROOT / "tests" / name).is_file() for name in LONGEST_FIRST)


def test_make_reload_asks_the_next_run_to_read_a_file_again(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAREHOUSE_", "DAGSTER_HOME", "MAKE", "MFLAGS"))}
    env["WAREHOUSE_DATA_DIR"] = str(tmp_path / "data")
    landing = tmp_path / "data" / "landing" / "employer"
    landing.mkdir(parents=True)
    delivered = landing / "contributions_202009.tsv"
    delivered.write_text("restored from a backup with its times\n", encoding="utf-8")
    done = subprocess.run(
        ["make", "-s", "reload", f"FILE={delivered}"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "contributions_202009.tsv: the next run reads it again" in done.stdout
    assert (tmp_path / "data" / "reload" / "employer" / "contributions_202009.tsv").is_file()
    refused = subprocess.run(
        ["make", "-s", "reload", "FILE=/etc/hostname"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "not a file of a landing folder" in refused.stderr
