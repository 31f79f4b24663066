"""Demo extract generators, calibrated to the agency report (one module per source)."""

from __future__ import annotations

import time
from pathlib import Path

from ingest.config import WarehousePaths


def print_progress(label: str):
    """A progress callback printing every tenth file: scale 1.0 takes a while."""
    started = time.monotonic()

    def report(n: int, total: int, path: Path) -> None:
        if n == total or n % max(1, total // 10) == 0:
            print(f"  {label}: {n}/{total} files ({time.monotonic() - started:.1f}s) {path.name}", flush=True)

    return report


def generate_all(paths: WarehousePaths, scale: float, seed: int) -> None:
    """Write every source's demo extracts into the landing zone."""
    from ingest.generate import call_center, employer, national_pension

    print(f"Generating demo extracts at scale {scale} (seed {seed}) into {paths.landing}", flush=True)
    call_center.generate(paths.landing_dir("call_center"), scale, seed, print_progress("call_center"))
    national_pension.generate(paths.landing_dir("national_pension"), scale, seed, print_progress("national_pension"))
    employer.generate(paths.landing_dir("employer"), scale, seed, print_progress("employer"))
