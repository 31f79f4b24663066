import hashlib
import shutil
import subprocess

import pytest

from ingest.decoding.strict import (
    ICONV_NAMES,
    decode_file,
    decode_lines,
    fingerprint,
)


def test_invalid_cp932_byte_rejects_only_its_line():
    good = "番号,氏名\n1,年金\n".encode("cp932")
    bad_line = b"2,\x82\xff\x82\n"  # 0x82 0xFF is not a valid CP932 sequence
    data = good + bad_line + "3,令和\n".encode("cp932")
    text, rejects = decode_lines(data, "cp932")
    assert text.split("\n") == ["番号,氏名", "1,年金", "", "3,令和", ""]
    assert len(rejects) == 1
    assert rejects[0].line_number == 3
    assert rejects[0].reason == "invalid cp932 byte sequence 82 at byte 3 of the line"
    assert rejects[0].raw_line.startswith("2,")


def test_several_bad_lines_keep_line_numbers_aligned():
    data = b"h\nok\n\xff\nok\nok\n\xfe\xfe\nlast"
    text, rejects = decode_lines(data, "utf-8")
    assert [r.line_number for r in rejects] == [3, 6]
    assert text.split("\n") == ["h", "ok", "", "ok", "ok", "", "last"]


def test_valid_utf8_file_is_read_in_place(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    decoded = decode_file(path, "utf-8", tmp_path / "scratch")
    assert decoded.utf8_path == path and decoded.rejects == ()
    assert not (tmp_path / "scratch").exists()


def _cp932_codes() -> list[bytes]:
    """Every single-byte code and every lead/trail pair the CP932 byte grammar allows."""
    singles = [bytes([b]) for b in range(0x100)]
    leads = [*range(0x81, 0xA0), *range(0xE0, 0xFD)]
    return singles + [bytes([lead, trail]) for lead in leads for trail in range(0x40, 0xFD)]


def _python_cp932(code: bytes) -> str | None:
    try:
        return code.decode("cp932")
    except UnicodeDecodeError:
        return None


@pytest.mark.skipif(shutil.which("iconv") is None, reason="no iconv: decode_file uses Python's codec alone")
def test_iconv_maps_every_cp932_code_exactly_as_python(tmp_path):
    """decode_file hands clean CP932 files to iconv: it must agree with Python's strict codec on every code."""
    codes = [c for c in _cp932_codes() if c not in (b"\n", b"\r")]
    valid = [c for c in codes if _python_cp932(c) is not None]
    invalid = [c for c in codes if _python_cp932(c) is None]
    # Python decodes five single bytes iconv refuses; decode_file then falls back to Python (below)
    refused_by_iconv = [b"\x80", b"\xa0", b"\xfd", b"\xfe", b"\xff"]
    mapped = [c for c in valid if c not in refused_by_iconv]
    table = b"\n".join(mapped)
    out = subprocess.run(
        ["iconv", "-f", ICONV_NAMES["cp932"], "-t", "UTF-8"], input=table, capture_output=True, check=True
    ).stdout
    assert out.decode("utf-8") == table.decode("cp932")
    assert len(mapped) > 9000
    for code in refused_by_iconv + invalid[:: max(1, len(invalid) // 200)]:
        line = b"\n" + code + b"\n"  # a line feed is never a trail byte
        refused = subprocess.run(
            ["iconv", "-f", ICONV_NAMES["cp932"], "-t", "UTF-8"], input=line, capture_output=True, check=False
        )
        assert refused.returncode != 0, code.hex()
        if code not in refused_by_iconv:
            with pytest.raises(UnicodeDecodeError):
                line.decode("cp932")


def test_cp932_file_iconv_refuses_is_decoded_by_python(tmp_path):
    """0xA0 is valid CP932 to Python but not to iconv: the copy must still be Python's decoding."""
    path = tmp_path / "ledger.csv"
    data = "番号,区分\n１,令和\n".encode("cp932") + b"2,\xa0\n"
    path.write_bytes(data)
    decoded = decode_file(path, "cp932", tmp_path / "scratch")
    assert decoded.rejects == () and decoded.data_lines == 2 and decoded.header == "番号,区分"
    assert decoded.utf8_path.read_text(encoding="utf-8") == data.decode("cp932")
    assert list((tmp_path / "scratch").iterdir()) == []  # iconv's partial copy is gone, and the copy has no name
    decoded.close()
    assert not decoded.utf8_path.exists()


def test_cp932_file_is_transcoded_with_its_hash_and_line_count(tmp_path):
    path = tmp_path / "ledger.csv"
    data = "基礎年金番号,処理年月\n１２００－８９３８２５,令和２年３月\n0100-044768,H31.04".encode("cp932")
    path.write_bytes(data)
    decoded = decode_file(path, "cp932", tmp_path / "scratch")
    assert decoded.utf8_path.read_bytes() == data.decode("cp932").encode("utf-8")
    assert (decoded.sha256, decoded.size_bytes, decoded.data_lines) == (hashlib.sha256(data).hexdigest(), len(data), 2)
    assert decoded.header == "基礎年金番号,処理年月"


@pytest.mark.parametrize(
    "data", [b"", b"h", b"h\n", b"h\r\n1\r\n2", b"h\n1\n2\n", b"\xef\xbb\xbfh,i\n" + b"1,2\n" * 3_000_000]
)
def test_fingerprint_reads_in_chunks_what_a_whole_read_sees(tmp_path, data):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    print_ = fingerprint(path)
    assert (print_.sha256, print_.size_bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    assert print_.data_lines == max(data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1) - 1, 0)
    assert print_.header == (data.split(b"\n", 1)[0].decode().rstrip("\r").lstrip("\ufeff") if data else "")


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("番号,氏名\n1,年金\n", True),
        ("番号,氏名\n1, 年金\n", False),  # a blank to trim
        ('番号,氏名\n1,"年金"\n', False),  # quotes to strip
        ("番号,氏名\n1,年金\u3000\n", True),  # the ideographic space is text, not a blank to trim
    ],
)
def test_files_without_blanks_or_quotes_are_marked_plain_on_every_path(tmp_path, text, plain):
    """Plain files skip the bulk loader's trimming, so plainness must be exact on every decode path."""
    utf8 = tmp_path / "u.csv"
    utf8.write_bytes(text.encode("utf-8"))
    cp932 = tmp_path / "c.csv"
    cp932.write_bytes(text.encode("cp932"))
    refused = tmp_path / "r.csv"  # an invalid sequence: iconv refuses it, Python decodes and rejects its line
    refused.write_bytes(text.encode("cp932") + b"2,\x82\xff\n")
    decoded = [
        fingerprint(utf8),
        decode_file(utf8, "utf-8", tmp_path / "s"),
        decode_file(cp932, "cp932", tmp_path / "s"),
        decode_file(refused, "cp932", tmp_path / "s"),
    ]
    assert decoded[3].rejects  # it did take the Python path
    assert [d.plain_fields for d in decoded] == [plain] * 4
