"""The published versions, and a rollback to one of them: the operator's command.

    python -m commands.versions                                  # `make versions`: the versions kept
    python -m commands.versions --to VERSION --reason "why"      # `make rollback VERSION=... REASON=...`
    python -m commands.versions --end --reason "why"             # `make end-rollback REASON=...`

What a rollback does is ``publication.rollback``'s to say.
"""

from __future__ import annotations

import argparse
import sys

from commands import working_lock
from config.layout import WarehousePaths
from config.settings import JAPAN, Settings
from publication import version_files
from publication.rollback import RollbackError, end_rollback, rollback


def _print_listing(paths: WarehousePaths) -> None:
    found = version_files.listing(paths)
    if not found:
        print(f"no published version in {paths.published_dir / 'versions'}: run make demo (or the nightly job) first")
        return
    print(
        f"published versions in {paths.published_dir / 'versions'}, oldest first; * is what {paths.published_db} shows"
    )
    for version in found:
        written = version.written_at.astimezone(JAPAN)
        print(f"{'*' if version.is_current else ' '} {written:%Y-%m-%d %H:%M:%S} JST  {version.name}")
        for kpi in version.kpis:
            reason = f": {kpi.reason}" if kpi.reason else ""
            print(f"      {kpi.kpi:<18} {kpi.state:<12} run {(kpi.run_id or '-')[:8]}{reason}")


def _connect(paths: WarehousePaths, settings: Settings):
    return working_lock.connect(
        paths.working_db,
        read_only=False,
        config={"memory_limit": settings.duckdb_memory_limit},
        wait_seconds=settings.lock_wait_seconds,
        published=paths.published_db,
        log=lambda message: print(message, file=sys.stderr),
    )


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m commands.versions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", metavar="VERSION", help="file name of the version to show again (see the listing)")
    parser.add_argument("--end", action="store_true", help="end the rollback the published version shows")
    parser.add_argument("--reason", default="", help="why, for the publication log")
    args = parser.parse_args(argv)
    if args.end and args.to:
        parser.error("--end and --to are two different things: end a rollback, or make one")
    paths = settings.paths
    if not args.to and not args.end:
        _print_listing(paths)
        return 0
    if not paths.working_db.exists():
        print(f"no working database at {paths.working_db}: nothing has been published", file=sys.stderr)
        return 2
    try:
        con = _connect(paths, settings)
    except working_lock.WorkingDatabaseLocked as err:
        print(f"{'end of rollback' if args.end else 'rollback'} not made: {err.description}", file=sys.stderr)
        return 3
    keep = settings.published_versions_kept
    try:
        final = (
            end_rollback(con, paths, args.reason, keep)
            if args.end
            else rollback(con, paths, args.to, args.reason, keep)
        )
    except RollbackError as err:
        print(f"{'end of rollback' if args.end else 'rollback'} refused: {err}", file=sys.stderr)
        return 2
    finally:
        con.close()
    if args.end:
        print(
            f"the rollback has ended: {final.name} shows the same figures, no longer marked rolled back; "
            "marts.publication_log records when and why. The next run publishes the latest figures that pass."
        )
        return 0
    print(
        f"{paths.published_db} now shows the figures of {args.to}, as the new version {final.name}; "
        "marts.publication_log records the rollback. The withdrawn figures are not published again until they change, "
        "or until the rollback is ended (make end-rollback)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
