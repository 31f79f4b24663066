"""Keyed pseudonymisation of basic pension numbers: SQL HMAC equals the standard, keys are kept safe."""

import hashlib
import hmac
import stat

import duckdb
import pytest

from ingest.loading import japanese, pseudonyms


def sql_pseudonymise(key: bytes, texts: list[str | None]) -> list[str | None]:
    con = duckdb.connect()
    japanese.register(con)
    pseudonyms.register(con, key)
    return [con.execute("select pseudonymise(?)", [t]).fetchone()[0] for t in texts]


@pytest.mark.parametrize("key", [b"k", b"a-longer-key-from-a-vault", b"x" * 64, b"y" * 200])
def test_sql_hmac_equals_python_hmac(key):
    expected = hmac.new(key, b"1234567890", hashlib.sha256).hexdigest()[: pseudonyms.KEY_HEX_DIGITS]
    assert sql_pseudonymise(key, ["1234-567890", "１２３４－５６７８９０", "1234567890"]) == [expected] * 3


def test_invalid_numbers_do_not_pseudonymise():
    assert sql_pseudonymise(b"k", ["123-4567890", "12345678901", "1234-56789X", "", None]) == [None] * 5


def test_key_from_environment_wins(tmp_path):
    assert pseudonyms.load_key(tmp_path, {pseudonyms.KEY_ENV_VAR: "from-vault"}) == b"from-vault"
    assert not pseudonyms.key_file(tmp_path).exists()


def test_key_file_created_once_with_mode_0600(tmp_path):
    key = pseudonyms.load_key(tmp_path, {})
    path = pseudonyms.key_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64
    assert pseudonyms.load_key(tmp_path, {}) == key  # reused, not regenerated


def test_key_file_readable_by_others_is_refused(tmp_path):
    pseudonyms.load_key(tmp_path, {})
    pseudonyms.key_file(tmp_path).chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        pseudonyms.load_key(tmp_path, {})
