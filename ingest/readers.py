"""Strict decoding of landing files.

DuckDB reads UTF-8 only, and its ``encodings`` extension cannot be installed here, so every
file is decoded with the source's codec in strict mode. A byte sequence that is invalid in the
codec never becomes a silently mangled row: the line holding it is blanked in the UTF-8 copy
handed to DuckDB (line numbers stay aligned) and reported as a reject.

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
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DecodeReject:
    line_number: int
    reason: str
    raw_line: str  # the undecodable line, with bad bytes shown as \xNN escapes


@dataclass(frozen=True)
class DecodedFile:
    sha256: str
    size_bytes: int
    utf8_path: Path  # the original file when it already is valid UTF-8, else a transcoded copy
    rejects: tuple[DecodeReject, ...]
    data_lines: int = 0  # physical lines after the header (a last line without a terminator counts)
    header: str = ""  # the first line, decoded, without BOM or line terminator
    # No blank and no double quote anywhere in the text: no field has anything to trim, so
    # the bulk loader can take the reader's field texts as they are (see ingest.parse.field_text).
    plain_fields: bool = False


def _plain(data: bytes) -> bool:
    """Whether ``data`` has no blank and no double quote.

    Exact for UTF-8 and CP932 text, where an ASCII byte is never part of another character.
    """
    return b" " not in data and b'"' not in data


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r").lstrip("\ufeff")


def _fingerprint(chunks: Iterable[bytes]) -> tuple[str, int, int, bytes, bool]:
    """sha256, size, data lines (a last line without a terminator counts), first line (bytes)
    and plainness of the bytes ``chunks`` yield, in order."""
    sha256, size, newlines, head, last, plain = hashlib.sha256(), 0, 0, b"", b"", True
    for chunk in chunks:
        if not size:
            head = chunk[:65536].split(b"\n", 1)[0]
        sha256.update(chunk)
        newlines += chunk.count(b"\n")
        plain = plain and _plain(chunk)
        size += len(chunk)
        last = chunk[-1:]
    data_lines = max(newlines + (0 if last in (b"\n", b"") else 1) - 1, 0)
    return sha256.hexdigest(), size, data_lines, head, plain


def _scan(path: Path) -> tuple[str, int, int, bytes, bool]:
    """``_fingerprint`` of a file, read in chunks: memory stays flat."""
    with path.open("rb") as f:
        return _fingerprint(iter(lambda: f.read(1 << 23), b""))


def fingerprint(path: Path) -> DecodedFile:
    """Hash, size, line count and header of a UTF-8 file, without decoding it.

    The bulk loader lets DuckDB validate the UTF-8 itself: a file it cannot read line for line
    falls back to the exact path, which decodes strictly with ``decode_file``.
    """
    sha256, size, data_lines, head, plain = _scan(path)
    return DecodedFile(sha256, size, path, (), data_lines, _first_line(head.decode("utf-8", errors="replace")), plain)


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def decode_lines(data: bytes, encoding: str) -> tuple[str, list[DecodeReject]]:
    """Decode ``data`` strictly; undecodable lines become empty lines plus a reject each."""
    rejects: list[DecodeReject] = []
    parts: list[str] = []
    pos, line_number = 0, 1
    while True:
        try:
            parts.append(data[pos:].decode(encoding))
            return "".join(parts), rejects
        except UnicodeDecodeError as err:
            bad = pos + err.start
            line_start = data.rfind(b"\n", pos, bad) + 1 or pos
            line_end = data.find(b"\n", bad)
            line_end = len(data) if line_end == -1 else line_end
            parts.append(data[pos:line_start].decode(encoding))
            line_number += data.count(b"\n", pos, line_start)
            bad_bytes = data[bad : pos + err.end]
            rejects.append(
                DecodeReject(
                    line_number=line_number,
                    reason=f"invalid {encoding} byte sequence {bad_bytes.hex(' ')} at byte {bad - line_start + 1} of the line",
                    raw_line=data[line_start:line_end].decode(encoding, errors="backslashreplace").rstrip("\r"),
                )
            )
            # The bad line's terminator (LF or CRLF) stays, keeping numbering and line endings intact.
            pos = line_end - 1 if line_end > line_start and data[line_end - 1 : line_end] == b"\r" else line_end


# Python codec -> the iconv name that maps every code exactly as Python does (tested). Each
# is ASCII-compatible with no ASCII byte inside a double-byte character (CP932's second bytes
# are 0x40-0xFC), so its files are checked for blanks and quotes before transcoding.
ICONV_NAMES = {"cp932": "CP932"}


def _iconv(path: Path, encoding: str, scratch_dir: Path) -> tuple[subprocess.Popen, Path] | None:
    """Start transcoding ``path`` to a UTF-8 copy; None when iconv cannot stand in for the codec."""
    name, iconv = ICONV_NAMES.get(codecs.lookup(encoding).name), shutil.which("iconv")
    if name is None or iconv is None:
        return None
    fd, copy = tempfile.mkstemp(dir=scratch_dir, prefix=f"{path.name}.", suffix=".utf8")
    with os.fdopen(fd, "wb") as out:
        return subprocess.Popen([iconv, "-f", name, "-t", "UTF-8", str(path)], stdout=out, stderr=subprocess.DEVNULL), Path(copy)


def decode_file(path: Path, encoding: str, scratch_dir: Path) -> DecodedFile:
    """Decode strictly; the UTF-8 text DuckDB reads is the file itself or a copy in ``scratch_dir``."""
    if not is_utf8(encoding):
        scratch_dir.mkdir(parents=True, exist_ok=True)
        if transcoding := _iconv(path, encoding, scratch_dir):
            sha256, size, data_lines, _, plain = _scan(path)  # while iconv runs
            process, copy = transcoding
            if process.wait() == 0:
                with copy.open("rb") as f:
                    header = _first_line(f.read(65536).decode("utf-8", errors="replace"))
                return DecodedFile(sha256, size, copy, (), data_lines, header, plain)
            copy.unlink()  # iconv refused a byte: Python decodes the file and explains every bad line
    data = path.read_bytes()
    sha256, size, data_lines, _, plain = _fingerprint([data])
    if is_utf8(encoding):
        try:
            text = data.decode("utf-8")
            return DecodedFile(sha256, size, path, (), data_lines, _first_line(text[:65536]), plain)
        except UnicodeDecodeError:
            pass
    text, rejects = decode_lines(data, encoding)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    copy = scratch_dir / f"{path.name}.{sha256[:12]}.utf8"
    copy.write_bytes(text.encode("utf-8"))  # far faster than write_text's incremental encoder
    return DecodedFile(sha256, size, copy, tuple(rejects), data_lines, _first_line(text[:65536]), plain)
