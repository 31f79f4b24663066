"""Strict decoding of landing files, into copies that cannot outlive the process.

DuckDB reads UTF-8 only, and its ``encodings`` extension cannot be installed here, so every
file is decoded with the source's codec in strict mode. A byte sequence that is invalid in the
codec never becomes a silently mangled row: the line holding it is blanked in the UTF-8 copy
handed to DuckDB (line numbers stay aligned) and reported as a reject.

A decoded copy holds the extract's raw text, basic pension numbers included, so it never has
a name: it is an anonymous file (``O_TMPFILE``) in the scratch folder, read by DuckDB through
``/proc/self/fd``. When the process ends, however it ends (kill -9 included), the kernel frees
it; nothing is left in ``data/scratch`` to clean up.

A clean file is transcoded by ``iconv`` where its mapping is identical to Python's codec
(``tests/test_readers.py`` checks every CP932 code): about three times faster than Python's
decode-and-re-encode, and in its own process, so files decode in parallel with hashing and
with each other. Any file iconv refuses is decoded by Python, which explains every bad line.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DecodeReject:
    line_number: int
    reason: str
    raw_line: str  # the undecodable line, with bad bytes shown as \xNN escapes
    kind: str = "undecodable bytes"  # the reason, quoting none of the line's bytes


@dataclass(frozen=True)
class LineEndings:
    """How a file's lines end: the bulk reader needs one convention throughout."""

    lf: int = 0  # line feeds
    crlf: int = 0  # line feeds preceded by a carriage return
    cr: int = 0  # carriage returns, wherever they are
    terminated: bool = True  # the file is empty or ends with a line feed

    @property
    def cr_only(self) -> bool:
        """Classic Mac line ends: carriage returns and no line feed at all."""
        return self.cr > 0 and self.lf == 0

    @property
    def uniform(self) -> bool:
        """Every line ends alike (LF, or CRLF) and no carriage return stands anywhere else."""
        return self.cr == self.crlf and self.crlf in (0, self.lf)


class ScratchCopy:
    """An anonymous, unnamed file in the scratch folder (``O_TMPFILE``), read through /proc/self/fd.

    It has no directory entry, so no crash can leave it behind. Where the filesystem does not
    support ``O_TMPFILE`` the file is created under a random name and unlinked at once.
    """

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self.fd = os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
        except (AttributeError, OSError):
            fd, name = tempfile.mkstemp(dir=directory, prefix=".decoded.")
            os.unlink(name)
            self.fd = fd

    @property
    def path(self) -> Path:
        return Path(f"/proc/self/fd/{self.fd}")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass(frozen=True)
class DecodedFile:
    sha256: str
    size_bytes: int
    utf8_path: Path  # the original file when it already is valid UTF-8, else an anonymous copy
    rejects: tuple[DecodeReject, ...]
    data_lines: int = 0  # physical lines after the header (a last line without a terminator counts)
    header: str = ""  # the first line, decoded, without BOM or line terminator
    # No blank and no double quote anywhere in the text: no field has anything to trim, so
    # the bulk loader can take the reader's field texts as they are (see ingest.loading.rows.field_text).
    plain_fields: bool = False
    endings: LineEndings = LineEndings()
    delimiters: dict[str, int] = field(default_factory=dict, compare=False)  # ',' and '\t' in the whole file
    head: bytes = b""  # the first line's bytes as delivered (to name a wrong encoding); never logged
    copy: ScratchCopy | None = field(default=None, compare=False)

    def close(self) -> None:
        """Free the decoded copy (raw text, personal data included); never touches the landing file."""
        if self.copy is not None:
            self.copy.close()


# Delimiters counted in every file: as in blanks and quotes, an ASCII byte is never part of
# another character in UTF-8 or CP932, so the counts are exact.
DELIMITERS = (",", "\t")


def _plain(data: bytes) -> bool:
    """Whether ``data`` has no blank and no double quote.

    Exact for UTF-8 and CP932 text, where an ASCII byte is never part of another character.
    """
    return b" " not in data and b'"' not in data


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r").lstrip("\ufeff")


@dataclass(frozen=True)
class _Scan:
    sha256: str
    size: int
    data_lines: int
    head: bytes
    plain: bool
    endings: LineEndings
    delimiters: dict[str, int]


def _fingerprint(chunks: Iterable[bytes]) -> _Scan:
    """sha256, size, data lines (a last line without a terminator counts), first line (bytes),
    plainness and line endings of the bytes ``chunks`` yield, in order."""
    sha256, size, lf, crlf, cr, head, last, plain = hashlib.sha256(), 0, 0, 0, 0, b"", b"", True
    delimiters = dict.fromkeys(DELIMITERS, 0)
    for chunk in chunks:
        if not size:
            head = chunk[:65536].split(b"\n", 1)[0]
        sha256.update(chunk)
        lf += chunk.count(b"\n")
        cr += chunk.count(b"\r")
        crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")  # a CRLF split across chunks
        plain = plain and _plain(chunk)
        for delimiter in delimiters:
            delimiters[delimiter] += chunk.count(delimiter.encode())
        size += len(chunk)
        last = chunk[-1:]
    data_lines = max(lf + (0 if last in (b"\n", b"") else 1) - 1, 0)
    endings = LineEndings(lf, crlf, cr, last in (b"\n", b""))
    return _Scan(sha256.hexdigest(), size, data_lines, head, plain, endings, delimiters)


def _scan(path: Path) -> _Scan:
    """``_fingerprint`` of a file, read in chunks: memory stays flat."""
    with path.open("rb") as f:
        return _fingerprint(iter(lambda: f.read(1 << 23), b""))


def _decoded(scan: _Scan, utf8_path: Path, header: str, rejects=(), copy: ScratchCopy | None = None) -> DecodedFile:
    return DecodedFile(
        scan.sha256,
        scan.size,
        utf8_path,
        tuple(rejects),
        scan.data_lines,
        header,
        scan.plain,
        scan.endings,
        scan.delimiters,
        scan.head,
        copy,
    )


def fingerprint(path: Path) -> DecodedFile:
    """Hash, size, line count, line endings and header of a UTF-8 file, without decoding it.

    The bulk loader lets DuckDB validate the UTF-8 itself: a file it cannot read line for line
    falls back to the exact path, which decodes strictly with ``decode_file``.
    """
    scan = _scan(path)
    return _decoded(scan, path, _first_line(scan.head.decode("utf-8", errors="replace")))


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def decode_lines(data: bytes, encoding: str) -> tuple[str, list[DecodeReject]]:
    """Decode ``data`` strictly; undecodable lines become empty lines plus a reject each.

    A byte's position is counted from the start of its line in the file, as delivered: line 1's
    from the first byte of the file, a byte-order mark included. (``utf-8-sig`` reports error
    offsets after the mark it stripped, so the mark is taken off here and the rest decoded as UTF-8.)
    """
    codec, pos = encoding, 0
    if codecs.lookup(encoding).name == "utf-8-sig":
        codec, pos = "utf-8", len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    rejects: list[DecodeReject] = []
    parts: list[str] = []
    line_number = 1
    while True:
        try:
            parts.append(data[pos:].decode(codec))
            return "".join(parts), rejects
        except UnicodeDecodeError as err:
            bad = pos + err.start
            line_start = data.rfind(b"\n", 0, bad) + 1  # pos is always at a line's start or within line 1's mark
            line_end = data.find(b"\n", bad)
            line_end = len(data) if line_end == -1 else line_end
            parts.append(data[pos:line_start].decode(codec))
            line_number += data.count(b"\n", pos, line_start)
            bad_bytes = data[bad : pos + err.end]
            line = data[line_start:line_end].removeprefix(codecs.BOM_UTF8 if pos and line_start == 0 else b"")
            rejects.append(
                DecodeReject(
                    line_number=line_number,
                    reason=f"invalid {encoding} byte sequence {bad_bytes.hex(' ')} at byte {bad - line_start + 1} of the line",
                    kind=f"invalid {encoding} byte sequence",
                    raw_line=line.decode(codec, errors="backslashreplace").rstrip("\r"),
                )
            )
            # The bad line's terminator (LF or CRLF) stays, keeping numbering and line endings intact.
            pos = line_end - 1 if line_end > line_start and data[line_end - 1 : line_end] == b"\r" else line_end


# Python codec -> the iconv name that maps every code exactly as Python does (tested). Each
# is ASCII-compatible with no ASCII byte inside a double-byte character (CP932's second bytes
# are 0x40-0xFC), so its files are checked for blanks and quotes before transcoding.
ICONV_NAMES = {"cp932": "CP932"}


def _iconv(path: Path, encoding: str, scratch_dir: Path) -> tuple[subprocess.Popen, ScratchCopy] | None:
    """Start transcoding ``path`` into an anonymous copy; None when iconv cannot stand in for the codec."""
    name, iconv = ICONV_NAMES.get(codecs.lookup(encoding).name), shutil.which("iconv")
    if name is None or iconv is None:
        return None
    copy = ScratchCopy(scratch_dir)
    try:
        process = subprocess.Popen(
            [iconv, "-f", name, "-t", "UTF-8", str(path)], stdout=copy.fd, stderr=subprocess.DEVNULL
        )
    except BaseException:
        copy.close()
        raise
    return process, copy


def decode_file(path: Path, encoding: str, scratch_dir: Path) -> DecodedFile:
    """Decode strictly; the UTF-8 text DuckDB reads is the file itself or an anonymous copy in ``scratch_dir``.

    The caller closes the result (``DecodedFile.close``) once DuckDB has read it.
    """
    if not is_utf8(encoding) and (transcoding := _iconv(path, encoding, scratch_dir)):
        process, copy = transcoding
        try:
            scan = _scan(path)  # while iconv runs
            if process.wait() == 0:
                with copy.path.open("rb") as f:
                    header = _first_line(f.read(65536).decode("utf-8", errors="replace"))
                return _decoded(scan, copy.path, header, copy=copy)
        except BaseException:
            process.kill()
            copy.close()
            raise
        copy.close()  # iconv refused a byte: Python decodes the file and explains every bad line
    data = path.read_bytes()
    scan = _fingerprint([data])
    if is_utf8(encoding):
        try:
            text = data.decode("utf-8")
            return _decoded(scan, path, _first_line(text[:65536]))
        except UnicodeDecodeError:
            pass
    text, rejects = decode_lines(data, encoding)
    copy = ScratchCopy(scratch_dir)
    try:
        with os.fdopen(os.dup(copy.fd), "wb") as out:
            out.write(text.encode("utf-8"))  # far faster than an incremental encoder
    except BaseException:
        copy.close()
        raise
    return _decoded(scan, copy.path, _first_line(text[:65536]), rejects, copy)
