"""Generate demo extracts: python -m demo [--scale S] [--seed N] [--data-dir DIR]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.layout import WarehousePaths
from config.settings import Settings
from demo import generate_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    settings = Settings.from_env()
    parser.add_argument("--scale", type=float, default=settings.scale, help="default: WAREHOUSE_SCALE")
    parser.add_argument("--seed", type=int, default=settings.seed, help="default: WAREHOUSE_SEED")
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir, help="default: WAREHOUSE_DATA_DIR")
    args = parser.parse_args(argv)
    generate_all(WarehousePaths(args.data_dir.resolve()), args.scale, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
