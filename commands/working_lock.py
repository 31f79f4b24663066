"""Opening the working database when another process may hold it: wait with backoff, then say what to do.

DuckDB lets one process open a file read-write, or many open it read-only, never both. The
likeliest holder during a night is not the pipeline: it is an analyst's notebook, the duckdb
CLI or a dbt command run by hand against ``data/working/warehouse.duckdb``. Even a read-only
connection there locks the nightly run out, so DuckDB's own hint ("you would be able to open
this database in read-only mode") misleads an operator: the answer is to use the published
database and let the pipeline have its file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

_LOCK_ERROR = "Could not set lock on file"
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>[0-9]+)\)")
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0


class WorkingDatabaseLocked(RuntimeError):
    """Another process held the working database for longer than the pipeline waits; the message
    says what to do. A step that meets it fails, not retried: it has waited already."""

    allow_retries = False

    @property
    def description(self) -> str:
        return str(self)


def is_lock_error(err: BaseException) -> bool:
    return isinstance(err, duckdb.IOException) and _LOCK_ERROR in str(err)


def lock_holder(err: BaseException) -> str:
    """Who holds the lock, from DuckDB's error: PID, program and, while it runs, its command line."""
    match = _HOLDER.search(str(err))
    if not match:
        return "another process"
    pid = match["pid"]
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        command = " ".join(arg.decode(errors="replace") for arg in argv)[:200]
    except OSError:  # it has exited meanwhile, or /proc is not ours to read
        command = match["program"]
    return f"PID {pid} ({command})"


def advice(path: Path, holder: str, waited: float, published: Path) -> str:
    return (
        f"the working database {path} is held by {holder}, still after {waited:.0f} s of waiting. "
        "Only the pipeline may open this file, even read-only: a notebook, a duckdb shell or a dbt command "
        f"connected to it locks the nightly run out. Query the published database {published} instead; "
        f"end that process (or let it finish) and re-run the job. DuckDB's hint to open the file read-only "
        "does not apply here."
    )


def connect(
    path: Path,
    *,
    read_only: bool,
    config: dict,
    wait_seconds: float,
    published: Path,
    log: Callable[[str], None] = lambda _: None,
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried with exponential backoff for up to ``wait_seconds`` while another
    process holds the file; then :class:`WorkingDatabaseLocked` with what to do."""
    started = time.monotonic()
    delay = FIRST_DELAY_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as err:
            if not is_lock_error(err):
                raise
            holder = lock_holder(err)
            waited = time.monotonic() - started
            remaining = wait_seconds - waited
            if remaining <= 0:
                raise WorkingDatabaseLocked(advice(path, holder, waited, published)) from None
            pause = min(delay, remaining)
            log(
                f"working database locked by {holder}; retrying in {pause:.0f} s "
                f"(waited {waited:.0f} s of {wait_seconds:.0f} s)"
            )
            time.sleep(pause)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
