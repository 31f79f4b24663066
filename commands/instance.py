"""DAGSTER_HOME/dagster.yaml: the instance settings of ``orchestration/dagster.yaml``, on PostgreSQL or SQLite.

With ``WAREHOUSE_DAGSTER_PG_URL`` set, runs, event logs, schedules and sensor ticks are stored
in that PostgreSQL database (dagster-postgres), which the webserver, the daemon and every run
share; the file names the variable, never the URL, so the password stays in the environment.
Blank, they are SQLite files under DAGSTER_HOME: fine for one machine and a trial, not for a
server (SQLite serialises every writer, and the files are not backed up with a database dump).

    python -m commands.instance     # `make setup` runs it: writes the file when it would change
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from config.layout import REPO_ROOT
from config.settings import Settings, variable

BASE = REPO_ROOT / "orchestration" / "dagster.yaml"
PG_URL = variable("dagster_pg_url")

POSTGRES_STORAGE = f"""
# Runs, event logs, schedules and sensor ticks in PostgreSQL: {PG_URL} is read when the
# instance loads (written by commands/instance.py because {PG_URL} was set).
storage:
  postgres:
    postgres_url:
      env: {PG_URL}
"""


def settings(use_postgres: bool) -> str:
    return BASE.read_text(encoding="utf-8") + (POSTGRES_STORAGE if use_postgres else "")


def configure(home: Path, environ: dict[str, str] | None = None) -> bool:
    """Write ``home``/dagster.yaml for the environment; whether it is on PostgreSQL."""
    use_postgres = bool(Settings.from_env(environ).dagster_pg_url.get_secret_value())
    home.mkdir(parents=True, exist_ok=True)
    target, text = home / "dagster.yaml", settings(use_postgres)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        staged = target.with_name(".dagster.yaml.new")
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, target)
    return use_postgres


def main() -> int:
    if not os.environ.get("DAGSTER_HOME"):
        print(
            "DAGSTER_HOME is not set: set it to the instance's folder (make uses <WAREHOUSE_DATA_DIR>/dagster_home)",
            file=sys.stderr,
        )
        return 2
    home = Path(os.environ["DAGSTER_HOME"])
    on_postgres = configure(home)
    print(
        f"{home / 'dagster.yaml'}: instance storage on " + (f"PostgreSQL ({PG_URL})" if on_postgres else "SQLite files")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
