"""Generate demo extracts: python -m demo [--scale S] [--seed N] [--data-dir DIR]."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ingest.config import WarehousePaths
from demo import generate_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("WAREHOUSE_SCALE", "0.01")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("WAREHOUSE_SEED", "20201029")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("WAREHOUSE_DATA_DIR", "data")))
    args = parser.parse_args(argv)
    generate_all(WarehousePaths(args.data_dir.resolve()), args.scale, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
