"""What a source's landing folder holds: deliveries ready to read, entries refused, files still arriving.

Every entry is accounted for, so nothing is ignored without a word:

* a regular file (or a link to one inside the landing folder) named as the spec says, whose
  size and modification time have not changed for the settle period, is a **delivery**;
* a file modified within the settle period, or modified "in the future" by this machine's
  clock (the sender's clock is ahead, or it was copied with its times: it is not known to have
  settled), or named as transfer tools name partial files (``.name``, ``*.partial``, ``*.tmp``),
  is **waiting**: it is looked at again next run;
* anything else is **refused** with a reason, and quarantined: a directory, a dangling link,
  a link that leaves the landing folder (never followed), a name that differs only in case,
  a compressed extract, a name that follows no spec of the source, a date that does not exist,
  a period that begins after the business date (the night being processed).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.specs import SPECS, ExtractSpec

COMPRESSED_SUFFIXES = (".gz", ".zip", ".bz2", ".xz", ".zst", ".7z", ".lzh")
TRANSFER_SUFFIXES = (".partial", ".part", ".tmp", ".filepart", ".crdownload", ".utf8")


@dataclass(frozen=True)
class Refusal:
    """A landing entry refused as a whole, with why (never quoting its content)."""

    file_name: str
    reason: str
    line_number: int | None = None
    size_bytes: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Delivery:
    path: Path
    size: int
    mtime_ns: int


@dataclass
class LandingScan:
    deliveries: list[Delivery] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # "<name>: <why>"
    settling: list[str] = field(default_factory=list)  # names of the waiting files modified within the settle period

    def answers_for(self, spec: ExtractSpec, name: str) -> bool:
        """Whether ``spec``'s loader keeps the record of entry ``name``: its own deliveries, and
        entries no spec of its source claims (each such spec records them alike)."""
        return spec.name_regex.fullmatch(name) is not None or _claimant(spec.source, name) is None


def _siblings(source: str) -> list[ExtractSpec]:
    return [s for s in SPECS.values() if s.source == source]


def _claimant(source: str, name: str) -> ExtractSpec | None:
    return next((s for s in _siblings(source) if s.name_regex.fullmatch(name)), None)


def _unexpected(source: str, entry: os.DirEntry) -> str:
    """Why an entry that follows no spec's name is not read."""
    names = " or ".join(s.file_name for s in _siblings(source))
    if entry.is_dir(follow_symlinks=False):
        return "a directory: a landing folder holds extract files only"
    if entry.is_symlink() and not os.path.exists(entry.path):
        return "a symbolic link to nothing"
    lower = entry.name.lower()
    for spec in _siblings(source):
        loose = re.compile(spec.name_regex.pattern, re.IGNORECASE)
        for suffix in COMPRESSED_SUFFIXES:
            if lower.endswith(suffix) and loose.fullmatch(entry.name[: -len(suffix)]):
                return f"a compressed extract: deliver {entry.name[: -len(suffix)]} uncompressed"
        if loose.fullmatch(entry.name):
            return f"the name differs in case from {spec.file_name}"
        if fnmatch.fnmatchcase(lower, spec.pattern.lower()):
            return f"the name does not follow {spec.file_name}"
    return f"not an extract of {source}: expected {names}"


def _within(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def scan(
    spec: ExtractSpec,
    landing_dir: Path,
    landing_root: Path,
    settle_seconds: float,
    now: float | None = None,
    business_date: dt.date | None = None,
) -> LandingScan:
    """Classify every entry of ``landing_dir`` for ``spec`` (entries another spec of the source names are its own).

    ``business_date``: a delivery of a later period is refused (None: not judged)."""
    now = time.time() if now is None else now
    result = LandingScan()
    if not landing_dir.is_dir():
        return result
    root = os.path.realpath(landing_root)
    for entry in sorted(os.scandir(landing_dir), key=lambda e: e.name):
        name = entry.name
        claimant = _claimant(spec.source, name)
        if claimant is not None and claimant is not spec:
            continue
        if claimant is None:
            if name.startswith(".") or name.lower().endswith(TRANSFER_SUFFIXES):
                result.waiting.append(f"{name}: a file in transfer")
            else:
                result.refused.append(Refusal(name, _unexpected(spec.source, entry)))
            continue
        period = spec.period(name)
        if period is None:
            result.refused.append(Refusal(name, f"the name follows {spec.file_name} but names no real date"))
            continue
        if business_date is not None and period > business_date:
            result.refused.append(
                Refusal(
                    name,
                    f"its period begins {period}, after the business date {business_date}: a file from the "
                    "future, or a wrong WAREHOUSE_BUSINESS_DATE",
                )
            )
            continue
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            if not os.path.exists(target):
                result.refused.append(Refusal(name, "a symbolic link to nothing"))
                continue
            if not _within(target, root):
                result.refused.append(
                    Refusal(name, "a symbolic link out of the landing folder: links are followed only within it")
                )
                continue
        if not entry.is_file():  # follows a link within landing
            kind = "a directory: a landing folder holds extract files only" if entry.is_dir() else "not a regular file"
            result.refused.append(Refusal(name, kind))
            continue
        stat = entry.stat()
        age = now - stat.st_mtime
        if age < 0:  # not settling by this clock: a batch is not held back for it (see LandingScan.settling)
            result.waiting.append(
                f"{name}: modified {-age:.0f}s in the future by this machine's clock; taken once that time has "
                f"passed and the file is unchanged for {settle_seconds:g}s (touch it to take it now)"
            )
            continue
        if age < settle_seconds:
            result.waiting.append(f"{name}: modified {age:.0f}s ago, taken once unchanged for {settle_seconds:g}s")
            result.settling.append(name)
            continue
        result.deliveries.append(Delivery(Path(entry.path), stat.st_size, stat.st_mtime_ns))
    return result


def unchanged_since(delivery: Delivery) -> bool:
    """Whether the file still has the size and modification time it was scanned with (it was not rewritten while read)."""
    try:
        stat = delivery.path.stat()
    except FileNotFoundError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (delivery.size, delivery.mtime_ns)
