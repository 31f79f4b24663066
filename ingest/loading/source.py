"""Load new landing files into the working database's ``raw`` schema.

Guarantees, per file:
* one transaction: its raw rows, its rejects and its manifest entry commit together or not at
  all (clean files of a bulk batch share theirs; a file with bad lines has its own);
* rows read = rows loaded + rows rejected, recorded in ``raw.load_manifest``;
* a delivery is current by its delivery: a file whose bytes differ from its name's current
  version loads as a new version and supersedes it (a re-delivery of bytes loaded once before,
  a revert, included); raw keeps every version, staging reads the current ones;
* a file is its period's delivery: a row whose own period (a call's day, a print's processing
  month) is not its file's, or whose event is dated after the business date, is rejected; a
  file whose period begins after the business date is refused whole;
* a file is taken only once complete: unchanged for the settle period (a modification time in
  the future is not settled), ending with a line terminator, and not rewritten while it was read;
* landing files are only read, never modified or moved.

Row-level problems (field count, unparseable value, failed row rule, undecodable bytes) send
the row to ``raw.rejects`` with its reason. A file refused as a whole (empty, cut short, wrong
header, encoding or line ends, a name or link that is not an extract's) is quarantined in
``raw.quarantine`` and read again next run; the files beside it load as usual.

Two paths, one result: the bulk path (``ingest.loading.bulk``) reads a batch of files in one DuckDB
CSV scan; the exact path (``ingest.loading.exact``) reads one file line by line and explains every bad
line. A file the bulk path cannot vouch for goes the exact way. Which pseudonymisation key a
source may use is ``ingest.loading.pseudonym_keys``'s to say; the quarantine's bookkeeping is
``ingest.landing.quarantine``'s; every ``raw`` table and query is ``ingest.raw_schema``'s.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingest import raw_schema
from ingest.decoding.strict import DecodedFile, decode_file, fingerprint, is_utf8
from ingest.decoding.whole_file import file_problem
from ingest.landing import quarantine, reload
from ingest.landing.scan import Delivery, Refusal, scan, unchanged_since
from ingest.loading import japanese, pseudonym_keys, pseudonyms
from ingest.loading.batch import FileLoad, LandingFile, transaction
from ingest.loading.bulk import eligible, load_bulk
from ingest.loading.exact import LineTooLong, load_exact
from ingest.loading.rows import REDACTED
from ingest.specs import ExtractSpec

log = logging.getLogger(__name__)

__all__ = ["REDACTED", "FileLoad", "LoadSummary", "load_source", "safe_message"]

# Errors DuckDB raises for what a file holds, not for the machine (memory, disk): they refuse
# the file. Anything else fails the load and is retried as a whole next run.
_CONTENT_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException)


@dataclass
class LoadSummary:
    source: str
    loaded: list[FileLoad] = field(default_factory=list)
    skipped_unchanged: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # "<name>: why it is not taken yet"
    refused: list[Refusal] = field(default_factory=list)  # quarantined this run

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.loaded)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.loaded)


def safe_message(spec: ExtractSpec, error: BaseException) -> str:
    """An error's message fit for logs: its first line, with anything shaped like a personal number masked.

    For a source with personal data only the error's kind is kept: DuckDB quotes the values it
    could not read, and a cut basic pension number no longer looks like one.
    """
    if spec.has_personal_data:
        return f"{type(error).__name__} (details withheld: {spec.source} extracts hold personal data)"
    first = str(error).strip().split("\n", 1)[0]
    return re.sub(pseudonyms.NUMBER_PATTERN, REDACTED, first)


def _sweep(scratch_dir: Path) -> None:
    """Remove what a crashed run of an older version could have left in scratch (decoded copies now have no name)."""
    if scratch_dir.is_dir():
        for leftover in scratch_dir.iterdir():
            if leftover.is_file() or leftover.is_symlink():
                leftover.unlink(missing_ok=True)


BULK_BATCH_BYTES = 1 << 30  # text per bulk scan: bounds the temp table under DuckDB's memory limit
READ_THREADS = 2  # files hashed and transcoded at once


def _batches(deliveries: list[Delivery], limit: int = BULK_BATCH_BYTES) -> list[list[Delivery]]:
    batches: list[list[Delivery]] = [[]]
    size = 0
    for delivery in deliveries:
        if batches[-1] and size + delivery.size > limit:
            batches.append([])
            size = 0
        batches[-1].append(delivery)
        size += delivery.size
    return [b for b in batches if b]


class _Loader:
    """One run of ``load_source``: what is known of the source's loads, and what this run decides."""

    def __init__(
        self,
        con,
        spec: ExtractSpec,
        scratch_dir: Path,
        run_id: str | None,
        key_id: str | None,
        summary: LoadSummary,
        business_date: dt.date | None,
    ):
        self.con, self.spec, self.scratch_dir, self.run_id, self.key_id, self.summary = (
            con,
            spec,
            scratch_dir,
            run_id,
            key_id,
            summary,
        )
        self.business_date = business_date
        self.current: dict[str, tuple[int, int, int | None, str]] = {}  # name -> (size, mtime_ns, load_id, sha256)
        self.latest_version: dict[str, int] = {}
        for name, sha, version, load_id, size, mtime, is_current in raw_schema.known_loads(con, spec):
            self.latest_version[name] = max(version, self.latest_version.get(name, 0))
            if is_current:
                self.current[name] = (size, mtime, load_id, sha)

    def unchanged(self, delivery: Delivery) -> bool:
        size, mtime, *_ = self.current.get(delivery.path.name, (None, None))
        return (size, mtime) == (delivery.size, delivery.mtime_ns)

    def read(self, delivery: Delivery) -> DecodedFile:
        if is_utf8(self.spec.encoding):
            return fingerprint(delivery.path)
        return decode_file(delivery.path, self.spec.encoding, self.scratch_dir)

    def landing_file(self, delivery: Delivery, decoded: DecodedFile) -> LandingFile | None:
        """The file to load, or None (after saying why) when it is unchanged, refused or still changing.

        Bytes equal to another file's are not a duplicate: a file is its period's delivery (two
        days without calls print the same header alone), and a row of another period in it is
        rejected as such (``ingest.loading.rows``)."""
        name = delivery.path.name
        if not unchanged_since(delivery):
            self.summary.waiting.append(f"{name}: changed while it was read")
        elif self.current.get(name, (None,) * 4)[3] == decoded.sha256:
            self.summary.skipped_unchanged.append(name)
        elif (problem := file_problem(self.spec, decoded)) is not None:
            self.refuse(delivery, decoded, *problem)
        else:
            previous = self.current.get(name, (None,) * 4)[2]
            bounds = self.spec.period_bounds(name)
            assert bounds is not None  # the landing scan refuses a name that gives no period
            return LandingFile(
                delivery.path, delivery.mtime_ns, decoded, self.latest_version.get(name, 0) + 1, previous, bounds
            )
        decoded.close()
        return None

    def refuse(self, delivery: Delivery, decoded: DecodedFile, line: int | None, reason: str) -> None:
        self.summary.refused.append(Refusal(delivery.path.name, reason, line, decoded.size_bytes, decoded.sha256))
        log.warning("%s: line %s: %s (quarantined)", delivery.path.name, line, reason)

    def load_batch(self, pending: list[LandingFile]) -> None:
        """The bulk-eligible files in one transaction, the others (and any the bulk path gave back) one by one."""
        bulk = [f for f in pending if eligible(self.spec, f)]
        loaded: set[str] = set()
        if bulk:
            try:
                with transaction(self.con):
                    loads = load_bulk(self.con, self.spec, bulk, self.run_id, self.key_id, self.business_date)
            except _CONTENT_ERRORS as err:  # rolled back: every file of the batch goes the exact way
                log.info(
                    "bulk read of %d %s files failed (%s); loading them one by one",
                    len(bulk),
                    self.spec.source,
                    safe_message(self.spec, err),
                )
            else:
                self.summary.loaded.extend(loads)
                loaded = {load.file_name for load in loads}
        for file in pending:
            if file.path.name not in loaded:
                self.load_exactly(file)

    def load_exactly(self, file: LandingFile) -> None:
        decoded = file.decoded
        if is_utf8(self.spec.encoding):  # decoded strictly, so a file DuckDB could not read is explained too
            decoded = decode_file(file.path, self.spec.encoding, self.scratch_dir)
            file = LandingFile(file.path, file.mtime_ns, decoded, file.version, file.previous_load_id, file.period)
        delivery = Delivery(file.path, decoded.size_bytes, file.mtime_ns)
        try:
            with transaction(self.con):
                self.summary.loaded.append(
                    load_exact(self.con, self.spec, file, self.run_id, self.key_id, self.business_date)
                )
        except LineTooLong as err:
            self.refuse(delivery, decoded, err.line_number, str(err).split(": ", 1)[-1])
        except _CONTENT_ERRORS as err:
            self.refuse(delivery, decoded, None, f"the file could not be read: {safe_message(self.spec, err)}")
        finally:
            decoded.close()


def load_source(
    con: duckdb.DuckDBPyConnection,
    spec: ExtractSpec,
    landing_dir: Path,
    scratch_dir: Path,
    run_id: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    pseudonym_key: bytes | Callable[[bool], bytes] | None = None,
    settle_seconds: float = 0.0,
    landing_root: Path | None = None,
    business_date: dt.date | None = None,
    reload_root: Path | None = None,
) -> LoadSummary:
    """Load every new or changed landing file of ``spec``, quarantine what cannot be read, and say what waits.

    A file whose name, size and modification time match its current load is not read again;
    any other delivery is hashed. New files go through the bulk path in batches, one
    transaction per batch; a file with any bad line goes through the exact path instead, one
    transaction per file. ``pseudonym_key`` (bytes, or a callable given whether a new key may
    be created) is required when the spec pseudonymises a column (see ingest.loading.pseudonyms).
    ``landing_root``: the folder links may point into (default: the parent of ``landing_dir``).
    ``business_date``: the night being processed: a file of a later period is refused, a row
    dated after it rejected (None: not judged). ``reload_root``: where requests to read a file
    again lie (``ingest.landing.reload``); such a file is hashed whatever its size and time.
    """
    japanese.register(con)
    raw_schema.ensure_tables(con, spec)
    key_id = pseudonym_keys.register(con, spec, pseudonym_key)
    _sweep(scratch_dir)
    summary = LoadSummary(spec.source)
    found = scan(spec, landing_dir, landing_root or landing_dir.parent, settle_seconds, business_date=business_date)
    summary.waiting.extend(found.waiting)
    summary.refused.extend(found.refused)
    for refusal in found.refused:
        log.warning("%s: %s (quarantined)", refusal.file_name, refusal.reason)
    loader = _Loader(con, spec, scratch_dir, run_id, key_id, summary, business_date)
    reread = reload.requested(reload_root, spec) if reload_root is not None else {}
    candidates = []
    for delivery in found.deliveries:
        if loader.unchanged(delivery) and delivery.path.name not in reread:
            summary.skipped_unchanged.append(delivery.path.name)
        else:
            candidates.append(delivery)
    if summary.skipped_unchanged:
        log.info(unchanged_note(summary))
    done, total = len(found.deliveries) - len(candidates), len(found.deliveries)

    # Files are hashed and transcoded in threads (hashlib, file I/O and iconv run outside the
    # GIL), one batch ahead, so the next batch decodes while DuckDB loads this one.
    batches = _batches(candidates)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:

        def read_ahead(number: int) -> list[tuple[Delivery, Future[DecodedFile]]]:
            return [(d, pool.submit(loader.read, d)) for d in batches[number]] if number < len(batches) else []

        ahead = read_ahead(0)
        for number, batch in enumerate(batches, start=1):
            reads, ahead = ahead, read_ahead(number)
            pending: list[LandingFile] = []
            try:
                for delivery, future in reads:
                    if (file := loader.landing_file(delivery, future.result())) is not None:
                        pending.append(file)
                loader.load_batch(pending)
            except BaseException:
                for _, future in reads + ahead:  # no decoded copy stays open
                    if not future.cancel() and future.exception() is None:
                        future.result().close()
                raise
            finally:
                for file in pending:
                    file.decoded.close()
            done += len(batch)
            if progress is not None:
                progress(done, total, batch[-1].path.name)

    quarantine.record(con, spec, landing_dir, found, summary.refused, summary.waiting, run_id)
    waiting = {entry.split(": ", 1)[0] for entry in summary.waiting}
    for name in reread:
        if name not in waiting and reload_root is not None:  # judged: loaded, found unchanged, or refused
            log.info("%s: read again on request (%s)", name, _outcome(summary, name))
            reload.done(reload_root, spec.source, name)
    for load in summary.loaded:
        log.info(
            "loaded %s v%d: %d read, %d loaded, %d rejected",
            load.file_name,
            load.file_version,
            load.rows_read,
            load.rows_loaded,
            load.rows_rejected,
        )
    for entry in summary.waiting:
        log.info("not loaded: %s", entry)
    return summary


def unchanged_note(summary: LoadSummary) -> str:
    """The files not read because their name, size and modification time match their current load, by
    name: a correction written with the same size and time (``cp -p``) is seen not to have been read."""
    return (
        f"{summary.source}: not read, unchanged since loaded (same name, size and modification time; "
        f"make reload FILE=<path> reads one again): {', '.join(summary.skipped_unchanged)}"
    )


def _outcome(summary: LoadSummary, name: str) -> str:
    if any(load.file_name == name for load in summary.loaded):
        return "its bytes changed: loaded as a new version"
    if any(refusal.file_name == name for refusal in summary.refused):
        return "refused: see the quarantine"
    return "its bytes are those of its current version: nothing to load"
