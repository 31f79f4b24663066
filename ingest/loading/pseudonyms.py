"""Pseudonymisation of basic pension numbers (基礎年金番号) at ingest.

A basic pension number identifies a person, so it never reaches a table: the loader replaces
it with ``person_key``, the first 128 bits (32 hex digits) of HMAC-SHA256(key, number) over
the normalised number (ten ASCII digits, no hyphen). The same person gets the same key in
every file and every run with the same key; without the key the number cannot be recovered
or confirmed by hashing candidate numbers.

The key comes from, in order:
1. ``WAREHOUSE_PSEUDONYM_KEY`` (any string; its UTF-8 bytes are the key), e.g. from a vault;
2. the key file ``<data dir>/secrets/pseudonym.key``, created on first use with 32 random
   bytes (hex) and mode 0600. Keep it: a new key gives everyone a new ``person_key``.

Every load records the id of the key it used (``key_id``: a keyed hash that reveals nothing
of the key), and a load under any other key is refused. Once a source has loads, a missing
key file is an error to restore from backup, never a reason to create a new key.

HMAC is computed in DuckDB SQL (two sha256 over byte strings), so it runs vectorised:
HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m)), K' = K zero-padded to 64 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import duckdb

KEY_ENV_VAR = "WAREHOUSE_PSEUDONYM_KEY"
KEY_HEX_DIGITS = 32

# What a person or a spreadsheet may type between the 4 and the 6 digits of a basic pension
# number, where it is not in its own field: blanks, every hyphen, dash and long-vowel mark, and
# every ASCII punctuation mark with its full-width form (U+FF01-U+FF65). The grammar of the
# field itself stays strict (``register``: 4 digits, an optional hyphen, 6 digits); this is what
# masking looks for in text that may hold a number anywhere (rejected lines, error messages).
_SEPARATORS = "".join(
    [
        " \t\u00a0\u3000",  # blanks, the ideographic space among them
        *map(chr, range(0x2000, 0x200C)),  # typographic spaces
        "\u202f\u205f",
        "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\u02d7\ufe58\ufe63",  # hyphens, dashes, minus
        "\u30fc\uff70\u301c\u30fb\u00b7\u3001\u3002",  # ー ｰ 〜 ・ · 、 。
        *(c for c in map(chr, range(0x21, 0x7F)) if not c.isalnum()),  # ASCII punctuation
        *(c for c in map(chr, range(0xFF01, 0xFF66)) if not c.isalnum()),  # its full-width forms
    ]
)


def _character_class(characters: str) -> str:
    """A regex class of ``characters`` that Python's re and DuckDB's RE2 read alike."""
    return "[" + "".join("\\" + c if c in "\\[]^-" else c for c in dict.fromkeys(characters)) + "]"


_DIGIT = "[0-9０-９]"
# A basic pension number as it may be printed anywhere: 4 + 6 digits, half- or full-width, with
# up to three separator characters between them (1234-567890, １２３４ー５６７８９０, 1234 / 567890).
NUMBER_PATTERN = f"{_DIGIT}{{4}}{_character_class(_SEPARATORS)}{{0,3}}{_DIGIT}{{6}}"
# The same, standing alone: not inside a longer run of digits (CC20200401-000000001 holds none).
STANDALONE_NUMBER_PATTERN = f"(^|[^0-9０-９]){NUMBER_PATTERN}($|[^0-9０-９])"
_BLOCK = 64  # SHA-256 block size in bytes


def key_file(data_dir: Path) -> Path:
    return data_dir / "secrets" / "pseudonym.key"


def key_id(key: bytes) -> str:
    """A stable id of ``key`` for the manifest: 64 bits of HMAC-SHA256(key, a fixed label), nothing of the key itself."""
    return hmac.new(key, b"pension-warehouse pseudonym key id", hashlib.sha256).hexdigest()[:16]


def load_key(data_dir: Path, environ: Mapping[str, str] | None = None, create: bool = True) -> bytes:
    """The pseudonymisation key: from the environment, else the key file (created 0600 on first use).

    ``create=False`` (the source already has loads): a missing key file is an error, since a
    new key would give every person a second ``person_key``.
    """
    environ = os.environ if environ is None else environ
    if environ.get(KEY_ENV_VAR):
        return environ[KEY_ENV_VAR].encode("utf-8")
    path = key_file(data_dir)
    if not path.exists() and not create:
        raise FileNotFoundError(
            f"{path}: the pseudonymisation key file is missing, and extracts were already loaded under a key. "
            f"Restore the key file (mode 0600) or set {KEY_ENV_VAR} from your backup; a new key would give every "
            "person a second person_key, so none is created."
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # O_EXCL: two processes racing to create the key cannot both win.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(
            f"{path}: pseudonymisation key must not be readable by others (mode {mode:o}); chmod 600 it"
        )
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path}: pseudonymisation key file is empty")
    return key.encode("utf-8")


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


def register(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Create ``pseudonymise(text)`` on ``con``: person_key, or NULL when text is not a valid number.

    Needs ``ingest.loading.japanese.register`` first (for ``halfwidth``).
    """
    inner, outer = _pads(key)
    con.execute(
        f"""
        create or replace temp macro _basic_pension_number(s) as
            case when regexp_full_match(trim(halfwidth(s)), '\\d{{4}}-?\\d{{6}}')
                 then replace(trim(halfwidth(s)), '-', '') end;
        create or replace temp macro pseudonymise(s) as
            left(sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(_basic_pension_number(s))))),
                 {KEY_HEX_DIGITS});
        """
    )
