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


def deliver_next_night(paths: WarehousePaths) -> None:
    """What the night after the demo period brings: one new day of calls and one new monthly ledger.

    The day is the last delivered day's calls moved to 2 November 2020; the ledger reprints the
    last processing month's records as processing month 令和2年10月 (each supersedes its
    earlier print). Used by the benchmark's incremental night and the test that an
    incremental night equals a full rebuild.
    """
    days = sorted(paths.landing_dir("call_center").glob("cdr_*.csv"))
    day = days[-1].stem[4:]  # e.g. 20201031
    last = days[-1].read_text(encoding="utf-8")
    shifted = last.replace(day, "20201102").replace(f"{day[:4]}-{day[4:6]}-{day[6:]}", "2020-11-02")
    days[-1].with_name("cdr_20201102.csv").write_text(shifted, encoding="utf-8")
    ledgers = sorted(paths.landing_dir("national_pension").glob("premium_ledger_*.csv"))
    lines = ledgers[-1].read_bytes().decode("cp932").split("\r\n")
    reprinted = [lines[0]] + [",".join([*line.split(",")[:3], "R02.10", *line.split(",")[4:]]) for line in lines[1:] if line]
    ledgers[-1].with_name("premium_ledger_202010.csv").write_bytes(("\r\n".join(reprinted) + "\r\n").encode("cp932"))
