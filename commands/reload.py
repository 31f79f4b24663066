"""Have the next run read landing files again, whatever their size and modification time (`make reload`).

    python -m commands.reload data/landing/employer/contributions_202009.tsv

Why a file may need it, and what the loader does with the request: ``ingest.landing.reload``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.settings import Settings
from ingest.landing.reload import request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m commands.reload",
        description="Have the next run read landing files again, whatever their size and modification time.",
    )
    parser.add_argument("files", nargs="+", type=Path, help="landing files, e.g. data/landing/employer/x.tsv")
    args = parser.parse_args(argv)
    paths = Settings.from_env().paths
    failed = 0
    for path in args.files:
        try:
            request(path, paths.landing, paths.reload_requests)
        except ValueError as err:
            print(f"not requested: {err}", file=sys.stderr)
            failed += 1
        else:
            print(f"{path.name}: the next run reads it again (and loads it as a new version if its bytes changed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
