"""Generate demo extracts: python -m ingest.generate [--scale S] [--seed N] [--data-dir DIR]."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ingest.config import WarehousePaths
from ingest.generate import call_center


def print_progress(label: str):
    started = time.monotonic()

    def report(n: int, total: int, path: Path) -> None:
        if n == total or n % max(1, total // 10) == 0:
            print(f"  {label}: {n}/{total} files ({time.monotonic() - started:.1f}s) {path.name}", flush=True)

    return report


def generate_all(paths: WarehousePaths, scale: float, seed: int) -> None:
    print(f"Generating demo extracts at scale {scale} (seed {seed}) into {paths.landing}", flush=True)
    call_center.generate(paths.landing_dir("call_center"), scale, seed, print_progress("call_center"))


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
