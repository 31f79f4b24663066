"""Run dbt by hand on a copy of the working database, never on the file the nightly run writes.

Any connection to ``data/working/warehouse.duckdb``, read-only included, locks the pipeline
out; a dbt command run by hand there could also change tables whose fingerprints the next
night relies on (``orchestration.lib.rebuilds``). So hand-run dbt works on a copy in
``data/sandbox/``, taken through the same lock wait as the pipeline's own connections (the copy
holds the file for as long as copying takes, and a night starting meanwhile waits for it):

    python -m commands.working_copy docs generate        # `make docs`: the schema is enough
    python -m commands.working_copy build -s tag:employer  # `make dbt ARGS=...`: a full copy

``docs generate`` (and ``parse``, ``compile``, ``ls``) get a schema-only copy, which takes a
second at any scale; everything else a full one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from commands import dbt_child, working_lock
from config.layout import DBT_PROJECT_DIR, WarehousePaths
from config.settings import Settings
from publication import duckdb_files

_CATALOG_ONLY = {"docs", "parse", "compile", "ls", "list"}


def copy_working(paths: WarehousePaths, target: Path, schema_only: bool, wait_seconds: float) -> None:
    """Copy the working database into ``target`` (replaced), holding the working file read-only meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target, target.with_name(target.name + ".wal")):
        stale.unlink(missing_ok=True)
    if not paths.working_db.exists():
        raise FileNotFoundError(f"{paths.working_db} does not exist yet: run the nightly job (make demo) first")
    con = working_lock.connect(
        paths.working_db,
        read_only=True,
        config={},
        wait_seconds=wait_seconds,
        published=paths.published_db,
        log=lambda m: print(m, file=sys.stderr),
    )
    try:
        duckdb_files.copy_database(con, target, schema_only)
    finally:
        con.close()


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    paths = settings.paths
    sandbox = paths.data_dir / "sandbox" / "warehouse.duckdb"
    schema_only = argv[0] in _CATALOG_ONLY
    print(
        f"copying the working database ({'schema' if schema_only else 'all tables'}) to {sandbox} ...", file=sys.stderr
    )
    copy_working(paths, sandbox, schema_only, settings.lock_wait_seconds)
    dbt_vars = settings.dbt_vars(working_db=sandbox)
    # its own target folder: the pipeline's dbt steps share dbt_project/target
    command = [
        str(dbt_child.executable()),
        *argv,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(sandbox.parent / "target"),
        "--vars",
        dbt_vars,
    ]
    return subprocess.run(command, cwd=DBT_PROJECT_DIR).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
