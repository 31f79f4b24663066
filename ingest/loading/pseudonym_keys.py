"""Which pseudonymisation key a source's loads may use: the one they used before, never a new one.

A source that carries basic pension numbers is loaded under one key for its whole history
(``ingest.loading.pseudonyms``): a second key would give every person a second ``person_key``. The
key ids earlier loads used are read from ``raw.load_manifest`` (``ingest.raw_schema``).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingest import raw_schema
from ingest.loading import pseudonyms
from ingest.specs import ExtractSpec


class PseudonymKeyError(RuntimeError):
    """The pseudonymisation key is missing or is not the one earlier loads used."""


def register(
    con: duckdb.DuckDBPyConnection, spec: ExtractSpec, key: bytes | Callable[[bool], bytes] | None
) -> str | None:
    """Register ``pseudonymise`` with the key and return the key's id; refuse a key that is not the one used before.

    ``key`` may be a callable taking ``create``: whether a missing key file may be created
    (only while the source has no loads; afterwards a missing key is an error, not a new key).
    """
    if not spec.needs_pseudonym_key:
        return None
    has_loads = raw_schema.has_loads(con, spec)
    if callable(key):
        key = key(not has_loads)
    if not key:
        raise ValueError(f"{spec.source}: its extracts carry basic pension numbers; a pseudonymisation key is required")
    key_id = pseudonyms.key_id(key)
    used = raw_schema.pseudonym_key_ids(con, spec)
    if used and key_id not in used:
        raise PseudonymKeyError(
            f"{spec.source}: the pseudonymisation key (id {key_id}) is not the key its loads used (id {', '.join(used)}). "
            "Loading under another key would give every person a second person_key. Restore the key file or "
            f"{pseudonyms.KEY_ENV_VAR} from your backup; to re-key on purpose, reload every extract into a new data directory."
        )
    pseudonyms.register(con, key)
    return key_id
