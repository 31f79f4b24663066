"""Requests to read a landing file again, whatever its size and modification time say.

A night costs what is new because the loader does not read a file whose name, size and
modification time match its current load. A correction written over a file with the same size
and time (``cp -p``, ``rsync -t`` from a restored copy) is therefore never read on its own; the
loader logs every file it skips, and an operator who knows better asks for a re-read:

    make reload FILE=data/landing/employer/contributions_202009.tsv

That leaves a marker, ``<data dir>/reload/<source>/<file name>``, which the next run's loader
honours: it hashes the file and loads it as a new version if its bytes changed (or says they did
not). The marker goes once the file has been judged, so a run killed before that re-reads it
again. Markers hold nothing but a name: no content of the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.specs import SPECS, ExtractSpec


def folder(reload_root: Path, source: str) -> Path:
    return reload_root / source


def requested(reload_root: Path, spec: ExtractSpec) -> dict[str, int]:
    """``{file name: the request's mtime_ns}`` of the spec's files asked to be read again."""
    directory = folder(reload_root, spec.source)
    if not directory.is_dir():
        return {}
    return {
        p.name: p.stat().st_mtime_ns for p in directory.iterdir() if p.is_file() and spec.name_regex.fullmatch(p.name)
    }


def done(reload_root: Path, source: str, name: str) -> None:
    """The file was judged: its request is fulfilled."""
    (folder(reload_root, source) / name).unlink(missing_ok=True)


def spec_of(path: Path, landing_root: Path) -> ExtractSpec:
    """The spec of a landing file, from where it lies and its name; ValueError saying why not."""
    try:  # where it lies, not where a link in landing points
        source, name = path.absolute().relative_to(landing_root.absolute()).parts
    except ValueError:
        raise ValueError(f"{path}: not a file of a landing folder ({landing_root}/<source>/<file>)") from None
    for spec in SPECS.values():
        if spec.source == source and spec.name_regex.fullmatch(name):
            return spec
    names = ", ".join(s.file_name for s in SPECS.values() if s.source == source) or "no extract"
    raise ValueError(f"{path}: {source} delivers {names}; {name} is none of them")


def request(path: Path, landing_root: Path, reload_root: Path) -> Path:
    """Ask the next run to read ``path`` again; returns the marker."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    spec = spec_of(path, landing_root)
    marker = folder(reload_root, spec.source) / path.name
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"requested {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n", encoding="utf-8")
    return marker
