"""The published folder: immutable version files, and the link analysts open.

    published/warehouse.duckdb -> versions/warehouse_<UTC time>_<kpi or "rollback">.duckdb
    published/docs.html        -> versions/warehouse_<UTC time>_<kpi or "rollback">.docs.html


A version is built under ``<name>.building``, closed, made read-only (mode 0444, so an analyst's
default read-write connection fails at once instead of locking every reader out), renamed into
place, made immutable where the filesystem and the process allow it (Linux's immutable
attribute, ``chattr +i``: not even root can open it for writing, so a root analyst's read-write
connection cannot lock the readers out either), and only then is the link repointed,
atomically: a reader sees the old version or the new, never neither. A version's docs site
(``publication.docs_site``) is shown just before it, and goes with it when it is pruned.
Only the publication step and a rollback write here.

Setting the attribute needs CAP_LINUX_IMMUTABLE (root, as the pipeline runs here); a service
user's pipeline relies on the file mode, which binds everyone but root. Where the pipeline runs
as root and cannot set it, ``protection_problem`` says so, and the run warns.
"""

from __future__ import annotations

import array
import contextlib
import datetime as dt
import fcntl
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from config.layout import WarehousePaths

PUBLISHED_MODE = 0o444
# <linux/fs.h>: the inode flags ioctls and the immutable flag (what chattr +i sets)
_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x00000010
# The storage format of a published file: the oldest that holds what the marts use, so that the
# DuckDB CLI installable from PyPI (duckdb-cli 1.5, `.venv/bin/duckdb`) opens a file written by
# the duckdb 2.0 library ("version number 69 ... between 64 and 68" otherwise; measured here).
PUBLISHED_STORAGE_VERSION = "v1.4.0"
SITE_SUFFIX = ".docs.html"


def site_of(version: Path) -> Path:
    """A version's dbt docs site: ``versions/warehouse_X.duckdb`` -> ``versions/warehouse_X.docs.html``."""
    return version.with_name(version.name.removesuffix(".duckdb") + SITE_SUFFIX)


def docs_link(paths: WarehousePaths) -> Path:
    return paths.published_dir / "docs.html"


def attach_building(con: duckdb.DuckDBPyConnection, building: Path) -> None:
    """Attach a new version's file as ``building``, in the published storage format."""
    con.execute(f"attach '{building}' as building (storage_version '{PUBLISHED_STORAGE_VERSION}')")


def folder(paths: WarehousePaths) -> Path:
    versions = paths.published_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    return versions


def version_name(kind: str, now: dt.datetime) -> str:
    """Names sort by time: ``kind`` is the KPI that published it, or ``rollback``."""
    return f"warehouse_{now:%Y%m%dT%H%M%S%f}_{kind}.duckdb"


def point_symlink(link: Path, target: Path) -> None:
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    os.symlink(os.path.relpath(target, link.parent), temporary)
    os.replace(temporary, link)  # atomic: readers see the old or the new version, never neither


def _set_immutable(path: Path, immutable: bool) -> None:
    """Set or clear ``path``'s immutable attribute; OSError when the filesystem or the process cannot."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        wanted = flags[0] | _FS_IMMUTABLE_FL if immutable else flags[0] & ~_FS_IMMUTABLE_FL
        if wanted != flags[0]:
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, array.array("i", [wanted]))
    finally:
        os.close(fd)


def is_immutable(path: Path) -> bool:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        return bool(flags[0] & _FS_IMMUTABLE_FL)
    finally:
        os.close(fd)


def add_former_names(building: Path, former_names: Mapping[str, str]) -> list[str]:
    """In a version still being built (closed, not yet read-only): each former name of a mart it
    holds as a view of the mart (``config.kpis.FORMER_MART_NAMES``); the views made. The view's SQL
    names the mart without a catalog, so it reads the file it lies in, wherever that file is."""
    made = []
    with duckdb.connect(str(building)) as con:
        tables = {
            name
            for (name,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        for former, current in former_names.items():
            if current in tables and former not in tables:
                con.execute(f"create view marts.{former} as select * from marts.{current}")
                made.append(former)
        con.execute("checkpoint")
    return made


def protect(path: Path) -> bool:
    """Make a finished version immutable, where the filesystem and the process allow it."""
    try:
        _set_immutable(path, True)
    except OSError:
        return False
    return True


def release(path: Path) -> None:
    """Clear the immutable attribute, so the file can be removed (pruning; cleaning up a data directory)."""
    with contextlib.suppress(OSError):  # never set here (another filesystem, or no privilege to set it either)
        _set_immutable(path, False)


def release_tree(root: Path) -> None:
    """Every published version under ``root`` made removable again (``make clean``, test clean-up)."""
    for path in root.rglob("warehouse_*.duckdb"):
        if path.is_file() and not path.is_symlink():
            release(path)


def protection_problem(paths: WarehousePaths) -> str | None:
    """Why a published version could be written into by this process, when it runs as root: the
    immutable attribute cannot be set in the published folder (None: root is held off too, or the
    process is not root and the file mode binds it)."""
    if os.geteuid() != 0:
        return None
    probe = folder(paths) / f".protection-probe-{uuid.uuid4().hex}"
    probe.touch()
    try:
        if protect(probe):
            release(probe)
            return None
    finally:
        probe.unlink(missing_ok=True)
    return (
        f"running as root, and {paths.published_dir} does not take the immutable attribute (chattr +i: no "
        "CAP_LINUX_IMMUTABLE, or a filesystem without it): root ignores the read-only mode, so a root process "
        "could write into a published version and lock its readers out. Run the pipeline as a service user "
        "(README, Operations)."
    )


def promote(building: Path, final: Path, paths: WarehousePaths) -> None:
    """A finished, closed ``building`` file becomes the read-only version ``final``, which the link then shows.

    Its docs site, if it has one, is shown first: the docs never describe a version not yet shown
    for longer than the two renames take. Without one the previous site stays.
    """
    os.chmod(building, PUBLISHED_MODE)
    os.replace(building, final)  # before the attribute: an immutable file cannot be renamed
    protect(final)
    if site_of(final).exists():
        point_symlink(docs_link(paths), site_of(final))
    point_symlink(paths.published_db, final)


def sweep(paths: WarehousePaths) -> None:
    """Remove what an interrupted publication left: the version it was building, the link it was making."""
    versions = folder(paths)
    leftovers = [
        *versions.glob("*.building"),
        *versions.glob("*.building.wal"),
        *paths.published_dir.glob(".*.duckdb.*"),
        *paths.published_dir.glob(".docs.html.*"),
    ]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)


def prune(versions: Path, keep: int, current: Path, also_keep: frozenset[Path] = frozenset()) -> None:
    """The ``keep`` latest versions stay, and ``current``, and ``also_keep`` (the version a rollback shows):
    a file every row of the log names is never pruned under it."""
    files = sorted(versions.glob("warehouse_*.duckdb"))
    for old in files[:-keep] if keep > 0 else []:
        if old != current and old not in also_keep:
            release(old)
            old.unlink(missing_ok=True)
            site_of(old).unlink(missing_ok=True)
    for kept in versions.glob("warehouse_*.duckdb"):
        protect(kept)  # a version a killed publication renamed but did not protect yet


@dataclass(frozen=True)
class KpiInVersion:
    """What a version's ``marts.publication_log`` says of one KPI."""

    kpi: str
    run_id: str | None  # the run that published the figures it shows
    state: str  # published | held back | stale | rolled back
    reason: str | None  # why, for every state but published


@dataclass(frozen=True)
class Version:
    path: Path
    is_current: bool
    written_at: dt.datetime  # UTC, from the file's name
    kpis: tuple[KpiInVersion, ...]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def written_by(self) -> str:
        """The KPI whose publication wrote it, or ``rollback``, ``rollback_end``, ``held_back``."""
        return self.path.stem.split("_", 2)[2]


_STATE_SQL = """
select kpi, any_value(version_run_id),
       case when bool_or(rolled_back_to is not null) then 'rolled back'
            when not bool_and(coalesce(latest_attempt_passed, true)) then 'held back'
            when bool_or(coalesce(is_stale, false)) then 'stale'
            else 'published' end,
       case when bool_or(rolled_back_to is not null)
                 then 'to ' || any_value(rolled_back_to) || ': ' || any_value(rollback_reason)
            when not bool_and(coalesce(latest_attempt_passed, true))
                 then string_agg(distinct latest_attempt_failures, '; ')
            when bool_or(coalesce(is_stale, false)) then string_agg(distinct stale_reason, '; ') end
from marts.publication_log group by kpi order by kpi
"""


def written_at(path: Path) -> dt.datetime:
    """When a version was written: its name's UTC time (``version_name``)."""
    return dt.datetime.strptime(path.name.split("_")[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)


def listing(paths: WarehousePaths) -> list[Version]:
    """Every version kept, oldest first, with what its ``marts.publication_log`` says of each KPI."""
    current = paths.published_db.resolve() if paths.published_db.exists() else None
    found = []
    for path in sorted(folder(paths).glob("warehouse_*.duckdb")):
        with duckdb.connect(str(path), read_only=True) as con:
            columns = {c for (c,) in con.execute("select column_name from (describe marts.publication_log)").fetchall()}
            sql = (
                _STATE_SQL if "rolled_back_to" in columns else _STATE_SQL.replace("rolled_back_to is not null", "false")
            )
            rows = con.execute(sql).fetchall()
        found.append(Version(path, path == current, written_at(path), tuple(KpiInVersion(*r) for r in rows)))
    return found
