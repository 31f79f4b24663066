from ingest.readers import decode_file, decode_lines


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
