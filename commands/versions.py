"""The published versions, and a rollback to one of them: the operator's command.

    python -m commands.versions                                  # `make versions`: the versions kept
    python -m commands.versions --to VERSION --reason "why"      # `make rollback VERSION=... REASON=...`

What a rollback does is ``publication.rollback``'s to say.
"""

from __future__ import annotations

import argparse
import sys

from commands import working_lock
from config.layout import WarehousePaths
from config.settings import Settings
from publication import version_files
from publication.rollback import RollbackError, rollback


def _print_listing(paths: WarehousePaths) -> None:
    found = version_files.listing(paths)
    if not found:
        print(f"no published version in {paths.published_dir / 'versions'}: run make demo (or the nightly job) first")
        return
    print(f"published versions in {paths.published_dir / 'versions'} (oldest first; * is {paths.published_db}):")
    for version in found:
        runs = ", ".join(f"{kpi} {(run or '')[:8]}" for kpi, run in version.kpis.items())
        print(f"{'*' if version.is_current else ' '} {version.name}  {runs}")


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m commands.versions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", metavar="VERSION", help="file name of the version to show again (see the listing)")
    parser.add_argument("--reason", default="", help="why, for the publication log")
    args = parser.parse_args(argv)
    paths = settings.paths
    if not args.to:
        _print_listing(paths)
        return 0
    if not paths.working_db.exists():
        print(f"no working database at {paths.working_db}: nothing has been published", file=sys.stderr)
        return 2
    try:
        con = working_lock.connect(
            paths.working_db,
            read_only=False,
            config={"memory_limit": settings.duckdb_memory_limit},
            wait_seconds=settings.lock_wait_seconds,
            published=paths.published_db,
            log=lambda message: print(message, file=sys.stderr),
        )
    except working_lock.WorkingDatabaseLocked as err:
        print(f"rollback not made: {err.description}", file=sys.stderr)
        return 3
    try:
        final = rollback(con, paths, args.to, args.reason)
    except RollbackError as err:
        print(f"rollback refused: {err}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(
        f"{paths.published_db} now shows the figures of {args.to}, as the new version {final.name}; "
        "marts.publication_log records the rollback. The withdrawn figures are not published again until they change."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
