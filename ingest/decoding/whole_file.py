"""Whole-file checks: what makes a delivery unreadable as a whole, said without quoting it.

A file that fails one is quarantined (``raw.quarantine``), never partly loaded; the files
beside it load as usual. A reason names the line and what is wrong, never the file's
content: a ledger without its header has a basic pension number on line 1.
"""

from __future__ import annotations

import codecs

from ingest.decoding.strict import DecodedFile, is_utf8
from ingest.specs import ExtractSpec

# Encodings a delivery in the wrong encoding is likely to be in, by the name a reason gives them.
_LIKELY_ENCODINGS = {"UTF-8": "utf-8-sig", "CP932 (Shift_JIS)": "cp932"}


def _labels(spec: ExtractSpec, line: str) -> list[str]:
    return [label.strip().strip('"') for label in line.rstrip("\r").lstrip("\ufeff").split(spec.delimiter)]


def _encoding_label(encoding: str) -> str:
    return (
        "UTF-8"
        if is_utf8(encoding)
        else next(
            (
                label
                for label, codec in _LIKELY_ENCODINGS.items()
                if codecs.lookup(codec).name == codecs.lookup(encoding).name
            ),
            encoding,
        )
    )


def wrong_encoding(spec: ExtractSpec, head: bytes) -> str | None:
    """The encoding the first line is actually in, when it is not the spec's and the header reads right in it."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    expected = _encoding_label(spec.encoding)
    for label, codec in _LIKELY_ENCODINGS.items():
        if label == expected:
            continue
        try:
            line = head.decode(codec)
        except UnicodeDecodeError:
            continue
        if _labels(spec, line) == list(spec.header):
            return label + (" with a byte-order mark" if head.startswith(codecs.BOM_UTF8) else "")
    return None


def header_problem(spec: ExtractSpec, header: str, head: bytes, size: int) -> str | None:
    """Why a file's first line (``header`` decoded, ``head`` as delivered) is not the spec's header, or None."""
    if size == 0:
        return "empty file: expected a header line"
    if head.removeprefix(codecs.BOM_UTF8).rstrip(b"\r") == b"":
        return "line 1 is blank: expected a header line"
    found = _labels(spec, header)
    if found == list(spec.header):
        return None
    if (actual := wrong_encoding(spec, head)) is not None:
        return f"the file is {actual}, but {spec.source} extracts are {_encoding_label(spec.encoding)}"
    if header == "":
        return f"the header is not valid {_encoding_label(spec.encoding)}"
    expected = list(spec.header)
    differences = [i for i, (a, b) in enumerate(zip(found, expected, strict=False), start=1) if a != b]
    detail = (
        f"field {differences[0]} should be {expected[differences[0] - 1]}"
        if differences
        else f"{len(found)} fields for {len(expected)} labels"
    )
    hint = (
        "; the first line may be a data line (is the header missing?)"
        if len(found) == len(expected) and not set(found) & set(expected)
        else ""
    )
    # The labels found are not quoted: when the header is missing, line 1 is a record.
    return f"header does not match the {spec.source} spec ({spec.delimiter.join(expected)}): {detail}{hint}"


def file_problem(spec: ExtractSpec, decoded: DecodedFile) -> tuple[int, str] | None:
    """(line, reason) of what makes the whole file unreadable, or None."""
    if decoded.endings.cr_only:
        return 1, "lines end with a carriage return only: expected LF or CRLF line ends"
    problem = header_problem(spec, decoded.header, decoded.head, decoded.size_bytes)
    if problem is not None:
        return 1, problem
    if not decoded.endings.terminated:
        return (
            decoded.data_lines + 1,
            "the last line has no line terminator: the file is cut short or still being written",
        )
    return None
