"""Hostile input: polluted variants of every extract, delivered beside good files.

For every variant the suite asserts that rows read = loaded + rejected, that every reject has
a reason and no personal data, that no personal number reaches a database, a log or a file
left on disk, that no value is loaded with a changed meaning, and that the good file beside
the bad one loads. ``test_nightly_with_hostile_deliveries`` runs the real job on them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ingest.specs import (
    CALL_CENTER,
    COLLECTION_ACTIONS,
    CONTRACTOR_ACTIVITY,
    EMPLOYER_CONTRIBUTIONS,
    EMPLOYER_ESTABLISHMENTS,
    NATIONAL_PENSION_LEDGER,
)
from tests import file_pollutions, hostile


@pytest.fixture(scope="module")
def extracts(generated_call_center, generated_national_pension, generated_employer) -> dict[str, hostile.Extract]:
    """Clean lines of each extract, taken from the demo's files (the ledger from three months: all three date styles)."""
    ledger = sorted(generated_national_pension.glob("premium_ledger_2020*.csv"))[3:6]
    return {
        "call_center": hostile.extract_from(CALL_CENTER, [generated_call_center / "cdr_20200401.csv"]),
        "ledger": hostile.extract_from(NATIONAL_PENSION_LEDGER, ledger),
        # three months of actions, one per date style; the contractor's report of a month
        "actions": hostile.extract_from(
            COLLECTION_ACTIONS, sorted(generated_national_pension.glob("collection_actions_2020*.csv"))[3:6]
        ),
        # six months of reports as one month's rows: enough lines that a cut falls past the header
        "contractor": hostile.extract_from(
            CONTRACTOR_ACTIVITY, sorted(generated_national_pension.glob("contractor_activity_2020*.csv"))
        ),
        "establishments": hostile.extract_from(
            EMPLOYER_ESTABLISHMENTS, [generated_employer / "establishments_202009.csv"]
        ),
        "contributions": hostile.extract_from(
            EMPLOYER_CONTRIBUTIONS, [generated_employer / "contributions_202009.tsv"]
        ),
    }


def _beside(extract: hostile.Extract) -> hostile.Extract:
    """The same clean lines as the next period's file: a good file beside the polluted one."""
    return extract.moved_to(extract.spec.cadence.next_period(extract.period))


def _assert_no_personal_data(loaded: hostile.Loaded, extract: hostile.Extract, data_dir: Path, log_text: str) -> None:
    numbers, shape = extract.numbers, extract.spec.has_personal_data  # 10-digit codes elsewhere are not personal

    def found(text: str) -> list[str]:
        return hostile.numbers_in_text(text, numbers, by_shape=shape)

    for _, line, reason, raw_line in loaded.rejects:
        assert reason, f"line {line} rejected without a reason"
        assert not found(reason), reason
        assert not found(raw_line or ""), f"line {line}: raw_line keeps a number"
    for refusal in loaded.summary.refused:
        assert refusal.reason and not found(refusal.reason), refusal
    assert not found(log_text)
    assert hostile.numbers_in_database(loaded.database, numbers, by_shape=shape) == []
    assert hostile.numbers_outside_raw(data_dir, numbers) == []
    assert not any((data_dir / "scratch").iterdir()) if (data_dir / "scratch").exists() else True


def _assert_balanced(loaded: hostile.Loaded) -> None:
    for name, read, rows_loaded, rejected in loaded.manifest:
        assert read == rows_loaded + rejected, name
        assert len(loaded.rows.get(name, {})) == rows_loaded, name
        assert sum(1 for f, *_ in loaded.rejects if f == name) == rejected, name


# ---- domain pollutions: one field of one line at a time -------------------------------------------


@pytest.mark.parametrize("which", ["call_center", "ledger", "actions", "contractor", "establishments", "contributions"])
def test_no_field_is_loaded_with_a_changed_meaning(extracts, which, tmp_path, caplog):
    extract = extracts[which]
    spec = extract.spec
    clean = hostile.load(tmp_path / "clean", spec, {extract.name: extract.encode(extract.lines)})
    [clean_rows] = clean.rows.values()
    assert len(clean_rows) == len(extract.lines) and not clean.rejects  # the clean lines are all valid
    lines, origins = hostile.mutated_lines(extract)
    assert len(lines) > 8 * len(spec.columns)

    caplog.set_level(logging.INFO)
    data_dir = tmp_path / "polluted"
    good = _beside(extract)
    beside = good.name
    loaded = hostile.load(data_dir, spec, {extract.name: extract.encode(lines), beside: good.encode(good.lines)})
    _assert_balanced(loaded)
    _assert_no_personal_data(loaded, extract, data_dir, caplog.text)
    assert len(loaded.rows[beside]) == len(extract.lines)  # the good file beside loads whole
    polluted = loaded.rows.get(extract.name, {})
    rejected = {line for _, line, *_ in loaded.rejects}
    for number, (origin, column, text) in enumerate(origins, start=2):
        assert (number in polluted) != (number in rejected), f"line {number} neither loaded nor rejected, or both"
        if number in polluted:  # loaded only when it means what its text says
            assert hostile.faithful(polluted[number], clean_rows[origin + 2], column, text), (
                f"line {number}: {lines[number - 2][:120]!r}"
            )
    # a decimal, a sign, an exponent, hex, NUL, a doubled or cut value never passes in any field
    assert len(rejected) >= len(origins) // 2
    assert all(len(reason) < 2000 for _, _, reason, _ in loaded.rejects)  # a 100 kB field is not quoted whole


@pytest.mark.parametrize(
    ("which", "column", "text"),
    [
        ("contributions", "collected_yen", "▲212,873"),  # received amounts are never negative
        ("contributions", "collected_yen", "-212,873"),
        ("contributions", "deferred_yen", "▲1,000"),
        ("contributions", "determined_yen", "△5"),
        ("ledger", "prefecture_code", "1.5"),  # once loaded as '02'
        ("ledger", "prefecture_code", "0x0D"),  # once loaded as '13'
        ("ledger", "prefecture_code", "1"),  # codes are fixed-width
        ("ledger", "paid_on_apr", "R01.10.1"),  # a cut R01.10.1x, once read as 1 October
        ("ledger", "paid_on_apr", "令和２年９月１"),  # a cut 令和２年９月１０日
        ("ledger", "status_apr", "1.0"),
        ("ledger", "channel_apr", "02"),  # a code is one character: never read as direct debit
        ("actions", "action_code", "1.0"),
        ("actions", "action_date", "R02.09.1"),  # a cut R02.09.1x
        ("actions", "prefecture_code", "0x0D"),
        ("contractor", "report_month", "2020-9"),
        ("contractor", "report_month", "202009"),
        ("contractor", "performed", "+1024"),
        ("contractor", "performed", "1.2e3"),
        ("contractor", "activity_code", "4"),
        ("call_center", "wait_seconds", "41.6"),  # once 42
        ("call_center", "wait_seconds", "4.2e1"),
        ("call_center", "wait_seconds", "0x2A"),
        ("call_center", "wait_seconds", "2_49"),
        ("call_center", "answered", "yes"),
        ("call_center", "answered", "1"),
        ("call_center", "call_id", "CC20200401-00\x0000001"),
        ("call_center", "received_at", "2020-04-01T9:00:00+09:00"),
    ],
)
def test_values_once_read_with_a_changed_meaning_are_rejected(extracts, which, column, text, tmp_path):
    extract = extracts[which]
    spec = extract.spec
    index = [c.name for c in spec.columns].index(column)
    fields = next(line for line in extract.lines if line.split(spec.delimiter)[index].strip()).split(spec.delimiter)
    fields[index] = text
    loaded = hostile.load(tmp_path, spec, {extract.name: extract.encode([spec.delimiter.join(fields)])})
    [(_, line, reason, _)] = loaded.rejects
    assert line == 2 and reason.startswith(f"{column}: cannot parse") or column in reason, reason
    assert loaded.rows == {}


# ---- file and row structure, encodings ------------------------------------------------------------


@pytest.mark.parametrize(("which", "variant"), file_pollutions.cases())
def test_polluted_file_beside_a_good_one(extracts, which, variant, tmp_path, caplog):
    extract = extracts[which]
    data, expected = file_pollutions.variants(extract)[variant]
    spec = extract.spec
    beside = _beside(extract)
    bad, good = extract.name, beside.name
    caplog.set_level(logging.INFO)
    data_dir = tmp_path / "data"
    loaded = hostile.load(data_dir, spec, {bad: data, good: beside.encode(beside.lines)})

    assert len(loaded.rows[good]) == len(extract.lines), "the good file beside must load whole"
    _assert_balanced(loaded)
    _assert_no_personal_data(loaded, extract, data_dir, caplog.text)
    clean = hostile.load(tmp_path / "clean", spec, {bad: extract.encode(extract.lines)}).rows[bad]
    refused = {r.file_name: r for r in loaded.summary.refused}
    if expected.startswith("quarantine:"):
        assert bad in refused, f"{variant}: expected a quarantine"
        assert expected.split(":", 1)[1] in refused[bad].reason, refused[bad].reason
        assert refused[bad].line_number is not None
        assert bad not in loaded.rows
    else:
        assert bad not in refused, refused.get(bad)
        rows = list(loaded.rows.get(bad, {}).values())
        assert hostile.contained(rows, list(clean.values())), f"{variant}: a row was loaded with a changed meaning"
        rejected = [r for r in loaded.rejects if r[0] == bad]
        if expected == "load:none":
            assert not rejected and rows == []
        elif expected == "load":
            assert not rejected and len(rows) >= len(extract.lines) - 1, (variant, rejected[:3])
        else:
            assert rejected and len(rows) >= len(extract.lines) - 2, variant


# ---- landing entries that are not deliveries --------------------------------------------------------


def test_every_landing_entry_is_accounted_for(extracts, tmp_path, caplog):
    extract = extracts["call_center"]
    good = extract.encode(extract.lines)
    outside = tmp_path / "outside.csv"
    outside.write_bytes(good)  # a link out of landing is refused even when it points at a valid extract
    entries = {
        "cdr_20200401.csv": good,
        "cdr_20200402.CSV": good,
        "CDR_20200403.csv": good,
        "cdr_20200404.csv.gz": good,
        "cdr_2020045.csv": good,
        "cdr_20200231.csv": good,
        "notes.txt": b"hello",
        "cdr_20200406.csv": lambda p: p.symlink_to("/etc/passwd"),
        "cdr_20200407.csv": lambda p: p.symlink_to(outside),
        "cdr_20200408.csv": lambda p: p.symlink_to(p.parent / "missing.csv"),
        "cdr_20200409.csv": lambda p: p.mkdir(),
        "cdr_20200410.csv": lambda p: p.symlink_to(p.parent / "cdr_20200401.csv"),  # inside landing: followed
        ".cdr_20200411.csv.part": good,
    }
    caplog.set_level(logging.INFO)
    loaded = hostile.load(tmp_path / "data", CALL_CENTER, entries)
    reasons = {r.file_name: r.reason for r in loaded.summary.refused}
    assert reasons == {
        "cdr_20200402.CSV": "the name differs in case from cdr_YYYYMMDD.csv",
        "CDR_20200403.csv": "the name differs in case from cdr_YYYYMMDD.csv",
        "cdr_20200404.csv.gz": "a compressed extract: deliver cdr_20200404.csv uncompressed",
        "cdr_2020045.csv": "the name does not follow cdr_YYYYMMDD.csv",
        "cdr_20200231.csv": "the name follows cdr_YYYYMMDD.csv but names no real date",
        "notes.txt": "not an extract of call_center: expected cdr_YYYYMMDD.csv",
        "cdr_20200406.csv": "a symbolic link out of the landing folder: links are followed only within it",
        "cdr_20200407.csv": "a symbolic link out of the landing folder: links are followed only within it",
        "cdr_20200408.csv": "a symbolic link to nothing",
        "cdr_20200409.csv": "a directory: a landing folder holds extract files only",
    }
    assert any(w.startswith(".cdr_20200411.csv.part") for w in loaded.summary.waiting)
    # The link inside landing is followed: 10 April's delivery holds 1 April's calls, each a row of
    # another period, rejected as such (identical bytes are not called a duplicate of another period).
    copied = [reason for name, _, reason, _ in loaded.rejects if name == "cdr_20200410.csv"]
    assert len(copied) == len(extract.lines)
    assert all(r == "received_at 2020-04-01 is outside the file's period 2020-04-10" for r in copied), copied[:2]
    assert set(loaded.rows) == {"cdr_20200401.csv"}
    assert "root:" not in caplog.text and all("root:" not in r for r in reasons.values())  # /etc/passwd never read
    for name in reasons:
        assert name in caplog.text  # every refusal is logged
    # the quarantine holds them until they are fixed or removed
    import duckdb

    with duckdb.connect(str(loaded.database), read_only=True) as con:
        assert con.execute("select count(*) from raw.quarantine where resolved_at is null").fetchone()[0] == len(
            reasons
        )
    for name in ("notes.txt", "cdr_20200402.CSV"):
        os.unlink(tmp_path / "data" / "landing" / "call_center" / name)
    again = hostile.load(tmp_path / "data", CALL_CENTER, {})
    assert {r.file_name for r in again.summary.refused} == set(reasons) - {"notes.txt", "cdr_20200402.CSV"}
    with duckdb.connect(str(again.database), read_only=True) as con:
        open_entries = {
            n for (n,) in con.execute("select file_name from raw.quarantine where resolved_at is null").fetchall()
        }
    assert open_entries == set(reasons) - {"notes.txt", "cdr_20200402.CSV"}


# ---- a basic pension number in every print form, in every field of every extract ---------------------

PLANTED = "7394-058216"  # no demo person has it: found anywhere, it came from the planted lines


@pytest.mark.parametrize("which", ["call_center", "ledger", "actions", "contractor", "establishments", "contributions"])
def test_a_number_in_any_print_form_in_any_field_is_never_quoted(extracts, which, tmp_path, caplog):
    """A person's number typed into any field, with any separator a person or a spreadsheet types
    (U+2010, a blank, ー, a dot, a slash, an underscore...), reaches no reason, log line, table
    or file: reasons name the field, raw_line masks every form."""
    extract = extracts[which]
    spec, delimiter = extract.spec, extract.spec.delimiter
    forms = {name: form for name, form in hostile.every_form(PLANTED).items() if hostile.encodable(spec, form)}
    assert len(forms) >= 18, sorted(forms)  # CP932 has no en dash or minus sign: the rest, in each encoding
    lines = []
    for column in range(len(spec.columns)):
        for form in forms.values():
            fields = extract.lines[0].split(delimiter)
            fields[column] = form
            lines.append(delimiter.join(fields))
    caplog.set_level(logging.DEBUG)
    data_dir = tmp_path / "data"
    loaded = hostile.load(data_dir, spec, {extract.name: extract.encode([*extract.lines, *lines])})
    _assert_balanced(loaded)
    assert loaded.rejects, "a number where a code, date or amount belongs is a reject"
    planted = [PLANTED]
    for _, line, reason, raw_line in loaded.rejects:
        assert not hostile.planted_in(reason, planted), (line, reason)
        assert not hostile.planted_in(raw_line or "", planted), (line, raw_line)
    assert not hostile.planted_in(caplog.text, planted)
    assert hostile.numbers_in_database(loaded.database, list(forms.values()), by_shape=False) == []
    assert hostile.numbers_outside_raw(data_dir, list(forms.values())) == []


def test_the_finder_finds_every_planted_form():
    # The check above must be able to fail: every form, alone or inside other text, is found.
    for name, form in hostile.every_form(PLANTED).items():
        assert hostile.planted_in(f"x,{form},y", [PLANTED]) == [PLANTED], name
    assert hostile.planted_in("7394-05821 6", [PLANTED]) == []  # cut differently: not this number
