"""Demo extract generators, calibrated to the agency report (one module per source)."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from pathlib import Path

from config.layout import WarehousePaths


def print_progress(label: str):
    """A progress callback printing every tenth file: scale 1.0 takes a while."""
    started = time.monotonic()

    def report(n: int, total: int, path: Path) -> None:
        if n == total or n % max(1, total // 10) == 0:
            print(f"  {label}: {n}/{total} files ({time.monotonic() - started:.1f}s) {path.name}", flush=True)

    return report


def generate_all(paths: WarehousePaths, scale: float, seed: int, quiet: bool = False) -> None:
    """Write every source's demo extracts into the landing zone (``quiet``: one line per source)."""
    from demo import call_center, employer, national_pension

    print(f"Generating demo extracts at scale {scale} (seed {seed}) into {paths.landing}", flush=True)
    for source, module in (
        ("call_center", call_center),
        ("national_pension", national_pension),
        ("employer", employer),
    ):
        started = time.monotonic()
        module.generate(paths.landing_dir(source), scale, seed, None if quiet else print_progress(source))
        if quiet:
            files = sum(1 for p in paths.landing_dir(source).iterdir() if p.is_file())
            print(f"  {source}: {files} files ({time.monotonic() - started:.1f} s)", flush=True)


def night_after_last_extract(paths: WarehousePaths) -> dt.date:
    """The business date of a night that has every landed extract and expects nothing more yet:
    the day after the last day any landed file covers (the demo's: 2020-11-01)."""
    from ingest.specs import SPECS

    ends = [
        spec.cadence.period_end(period)
        for spec in SPECS.values()
        for path in paths.landing_dir(spec.source).glob(spec.pattern)
        if (period := spec.period(path.name)) is not None
    ]
    if not ends:
        raise FileNotFoundError(f"no extract has landed in {paths.landing}")
    return max(ends) + dt.timedelta(days=1)


def deliver_next_day(paths: WarehousePaths) -> Path:
    """A new day of calls: the next open day (the center is closed on Sundays), with the calls of
    the last delivered day of the same weekday moved to it, so its volume is that of its weekday."""
    days = sorted(paths.landing_dir("call_center").glob("cdr_*.csv"))
    date = lambda path: dt.datetime.strptime(path.stem[4:], "%Y%m%d").date()  # noqa: E731
    new = date(days[-1]) + dt.timedelta(days=1)
    if new.weekday() == 6:
        new += dt.timedelta(days=1)
    template = next(p for p in reversed(days) if date(p).weekday() == new.weekday())
    last = date(template)
    text = template.read_text(encoding="utf-8")
    target = template.with_name(f"cdr_{new:%Y%m%d}.csv")
    target.write_text(
        text.replace(f"{last:%Y%m%d}", f"{new:%Y%m%d}").replace(last.isoformat(), new.isoformat()), encoding="utf-8"
    )
    return target


def deliver_next_ledger_month(paths: WarehousePaths) -> Path:
    """A new monthly ledger of typical size: records of the last processing month reprinted in the next.

    Each reprint supersedes its earlier print with the same content, so every figure still
    reconciles. The last month of the demo is its largest (about a fifth of the ledger); a
    typical month prints far fewer records, so every k-th record is reprinted, k chosen to make
    the new file as large as the median month.
    """
    ledgers = sorted(paths.landing_dir("national_pension").glob("premium_ledger_*.csv"))
    last = dt.datetime.strptime(ledgers[-1].stem[-6:], "%Y%m").date()
    new = (last + dt.timedelta(days=32)).replace(day=1)
    every = max(1, round(ledgers[-1].stat().st_size / statistics.median(p.stat().st_size for p in ledgers)))
    header, records = ledgers[-1].read_bytes().decode("cp932").split("\r\n", 1)
    sample = "\r\n".join(records.rstrip("\r\n").split("\r\n")[::every]) + "\r\n"
    month = f"R{new.year - 2018:02d}.{new.month:02d}"  # 令和 (the demo period is all 令和)
    # the fourth field (処理年月) of every record, in one pass at C speed
    reprinted = re.sub(r"^((?:[^,\r\n]*,){3})[^,\r\n]*", rf"\g<1>{month}", sample, flags=re.MULTILINE)
    target = ledgers[-1].with_name(f"premium_ledger_{new:%Y%m}.csv")
    target.write_bytes(f"{header}\r\n{reprinted}".encode("cp932"))
    return target


def deliver_next_night(paths: WarehousePaths) -> None:
    """What the night after the demo period brings: one new day of calls and one new monthly ledger.

    Used by the benchmark's incremental night and by the test that an incremental night
    equals a full rebuild.
    """
    deliver_next_day(paths)
    deliver_next_ledger_month(paths)
