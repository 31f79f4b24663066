"""Whole-file pollutions of each extract (after the Pollock CSV benchmark): file and row
structure, line ends, truncation, encodings; each with what the loader must do with it.
``tests/test_hostile_input.py`` delivers every one beside a good file."""

from __future__ import annotations

import codecs

from ingest.specs import (
    CALL_CENTER,
    COLLECTION_ACTIONS,
    CONTRACTOR_ACTIVITY,
    EMPLOYER_CONTRIBUTIONS,
    EMPLOYER_ESTABLISHMENTS,
    NATIONAL_PENSION_LEDGER,
)
from tests import hostile


def cut(data: bytes, share: float) -> bytes:
    """The first ``share`` of the bytes, cut inside a line (a file still being written)."""
    cut = int(len(data) * share)
    while data[cut - 1 : cut] in (b"\n", b"\r"):
        cut -= 1
    return data[:cut]


def variants(extract: hostile.Extract) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, what must happen: 'load', 'load+rejects' or 'quarantine:<reason fragment>')."""
    spec, lines, header, nl = extract.spec, list(extract.lines), extract.header, extract.newline
    d = spec.delimiter
    other = "\n" if nl == "\r\n" else "\r\n"
    enc = spec.encoding.replace("-sig", "")
    encoded = extract.encode(lines)
    variants = {
        "no_header": (extract.encode(lines[1:], header=lines[0]), "quarantine:header does not match"),
        "preamble": (
            extract.encode(lines, header="収納台帳 出力日 令和2年10月1日" + nl + header),
            "quarantine:header does not match",
        ),
        "wrong_delimiter": (
            extract.encode([ln.replace(d, ";") for ln in lines], header=header.replace(d, ";")),
            "quarantine:header does not match",
        ),
        "missing_column": (
            extract.encode([ln.rsplit(d, 1)[0] for ln in lines], header=header.rsplit(d, 1)[0]),
            "quarantine:header does not match",
        ),
        "extra_column": (
            extract.encode([ln + d + "x" for ln in lines], header=header + d + "備考"),
            "quarantine:header does not match",
        ),
        "empty": (b"", "quarantine:empty file"),
        "blank_first_line": (nl.encode() + encoded, "quarantine:line 1 is blank"),
        "header_only": (extract.encode([]), "load:none"),
        "cr_only": (extract.encode(lines, newline="\r"), "quarantine:carriage return only"),
        "cut_mid_line": (cut(encoded, 0.38), "quarantine:no line terminator"),
        "no_final_newline": (encoded.rstrip(b"\r\n"), "quarantine:no line terminator"),
        # mixed line ends: each line still reads, on the exact path; the last line ending twice
        # leaves a blank line, read and rejected as one (a file's final line terminator is not a line)
        "ends_with_crlf_crlf": (
            extract.encode(lines, newline="\n").rstrip(b"\n") + b"\r\n\r\n",
            "load+rejects",
        ),
        "one_line_ends_otherwise": (
            encoded.replace(nl.encode(), other.encode(), 2).replace(other.encode(), nl.encode(), 1),
            "load",
        ),
        "blank_lines": (extract.encode(lines[:2] + ["", ""] + lines[2:]), "load+rejects"),
        "duplicate_rows": (extract.encode(lines + lines[:3]), "load"),
        "extra_separator": (extract.encode([lines[0] + d] + lines[1:]), "load+rejects"),
        "missing_separator": (extract.encode([lines[0].replace(d, "", 1)] + lines[1:]), "load+rejects"),
        "unbalanced_quote": (extract.encode(['"' + lines[0]] + lines[1:]), "load+rejects"),
        "nul_byte": (extract.encode([lines[0][:5] + "\x00" + lines[0][5:]] + lines[1:]), "load+rejects"),
        "long_line": (extract.encode([lines[0] + "9" * 2_000_000] + lines[1:]), "load+rejects"),
        "line_over_16_mib": (
            extract.encode([lines[0] + "9" * (17 << 20)] + lines[1:]),
            "quarantine:longer than 16 MiB",
        ),
        "utf16": (("\ufeff" + nl.join([header, *lines]) + nl).encode("utf-16-le"), "quarantine:UTF-16"),
    }
    if enc == "cp932":
        variants |= {
            "invalid_cp932": (
                encoded.replace(nl.encode(), b"\x82\xff" + nl.encode(), 2).replace(b"\x82\xff", b"", 1),
                "load+rejects",
            ),
            "lone_lead_byte": (
                encoded.replace(nl.encode(), b"\x82" + nl.encode(), 2).replace(b"\x82" + nl.encode(), nl.encode(), 1),
                "load+rejects",
            ),
            "utf8_bom": (
                codecs.BOM_UTF8 + (nl.join([header, *lines]) + nl).encode("utf-8"),
                "quarantine:UTF-8 with a byte-order mark",
            ),
            "utf8": ((nl.join([header, *lines]) + nl).encode("utf-8"), "quarantine:the file is UTF-8"),
        }
    else:
        variants |= {
            "invalid_utf8": (
                encoded.replace(nl.encode(), b"\xff" + nl.encode(), 2).replace(b"\xff", b"", 1),
                "load+rejects",
            ),
        }
        if any(ord(ch) > 127 for ch in header):
            variants["cp932"] = ((nl.join([header, *lines]) + nl).encode("cp932"), "quarantine:the file is CP932")
    return variants


SPECS = {
    "call_center": CALL_CENTER,
    "ledger": NATIONAL_PENSION_LEDGER,
    "actions": COLLECTION_ACTIONS,
    "contractor": CONTRACTOR_ACTIVITY,
    "establishments": EMPLOYER_ESTABLISHMENTS,
    "contributions": EMPLOYER_CONTRIBUTIONS,
}
EVERY_EXTRACT = (
    "no_header",
    "preamble",
    "wrong_delimiter",
    "missing_column",
    "extra_column",
    "empty",
    "blank_first_line",
    "header_only",
    "cr_only",
    "cut_mid_line",
    "no_final_newline",
    "ends_with_crlf_crlf",
    "one_line_ends_otherwise",
    "blank_lines",
    "duplicate_rows",
    "extra_separator",
    "missing_separator",
    "unbalanced_quote",
    "nul_byte",
    "long_line",
    "line_over_16_mib",
    "utf16",
)


def cases() -> list[tuple[str, str]]:
    """(extract, variant) for every variant that applies: CP932 pollutions to the CP932 ledger, UTF-8 ones to the others."""
    cases = []
    for which, spec in SPECS.items():
        if spec.encoding == "cp932":
            extra = ("invalid_cp932", "lone_lead_byte", "utf8_bom", "utf8")
        else:
            extra = ("invalid_utf8",) + (("cp932",) if any(ord(c) > 127 for c in "".join(spec.header)) else ())
        cases += [(which, variant) for variant in (*EVERY_EXTRACT, *extra)]
    return cases
