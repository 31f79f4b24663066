"""Employer extracts: calibrated flows, printed formats, and how the loader reads them."""

import duckdb
import pytest

from demo.employer import flows, records
from ingest.loading.source import load_source
from ingest.specs import EMPLOYER_CONTRIBUTIONS, EMPLOYER_ESTABLISHMENTS
from tests.conftest import query

OKU = 1e8


@pytest.mark.parametrize("scale", [1.0, 0.01, 0.002])
def test_flows_reproduce_the_collection_table_in_yen(scale):
    figures = flows.Figures.load()
    for insurance, name in flows.INSURANCE.items():
        f = flows.solve_flows(figures, insurance, scale)
        carry_left = (
            f.carry - f.carry_collected[0] - f.carry_collected[1] - f.carry_written_off[0] - f.carry_written_off[1]
        )
        september = {
            "2019-09-30": (
                f.carry + sum(f.notified[:6]),
                f.carry_collected[0] + sum(f.notified[:6]) - sum(f.unpaid[:6]),
                f.carry_written_off[0],
                0,
            ),
            "2020-09-30": (
                carry_left + sum(f.unpaid[:12]) + sum(f.notified[12:]),
                f.carry_collected[2] + sum(f.notified[12:]) - sum(f.unpaid[12:]) - sum(f.deferred[12:]),
                f.carry_written_off[2],
                sum(f.deferred[12:]),
            ),
        }
        for as_of, (determined, collected, written_off, deferred) in september.items():

            def published(measure, as_of=as_of, insurance=insurance):
                return figures.value(measure, as_of, insurance)

            # 億円 amounts at national scale within the report's rounding; rates from the yen amounts.
            assert abs(determined / OKU / scale - published("determined_oku")) <= 0.5, (name, as_of)
            assert abs(collected / OKU / scale - published("collected_oku")) <= 0.5, (name, as_of)
            assert abs(written_off / OKU / scale - published("written_off_oku")) <= 0.5, (name, as_of)
            assert abs((determined - collected - written_off) / OKU / scale - published("arrears_oku")) <= 0.5, (
                name,
                as_of,
            )
            assert round(100 * collected / determined, 1) == published("collection_rate"), (name, as_of)
            if deferred:
                assert round(100 * collected / (determined - deferred), 1) == published("collection_rate_excl_deferral")
                assert abs(deferred / OKU / scale - published("deferred_oku")) <= 0.5


def test_roles_reproduce_the_establishment_counts():
    figures = flows.Figures.load()
    roles, timeline = records.roles(figures, 1.0)
    covered = flows.covered_targets(figures, 1.0)
    assert covered[13 + 5] == 2_391_783 and covered[13 + 11] == 2_435_755 and covered[13 + 17] == 2_473_761
    assert roles.pool_fy2019 == 142_139 and roles.pool_fy2019 + roles.pool_fy2020 == 158_215
    assert roles.establishments == roles.initial + timeline["openings"].sum()


def test_printed_formats(generated_employer):
    register = (generated_employer / "establishments_202009.csv").read_bytes()
    assert register.startswith(b"\xef\xbb\xbf" + "事業所番号,".encode())  # UTF-8 with a BOM, as a spreadsheet saves it
    contributions = (generated_employer / "contributions_202009.tsv").read_text(encoding="utf-8")
    header, first, *_ = contributions.splitlines()
    assert header.split("\t") == list(EMPLOYER_CONTRIBUTIONS.header)
    assert "," in first.split("\t")[4]  # thousands separators
    everything = "".join(p.read_text(encoding="utf-8") for p in generated_employer.glob("contributions_*.tsv"))
    assert "\t▲" in everything  # negative adjustments


REGISTER_HEADER = ",".join(EMPLOYER_ESTABLISHMENTS.header)
CONTRIBUTIONS_HEADER = "\t".join(EMPLOYER_CONTRIBUTIONS.header)


def _contribution(determined="1,234,567", adjustment="▲4,567", collected="1,230,000", collected_on="R02.09.25"):
    return f"12345678\t厚生年金保険\tR02.08\tR02.09\t{determined}\t{adjustment}\t{collected}\t{collected_on}\t\t\t\t\t"


def _load(paths, register_lines, contribution_lines):
    landing = paths.landing_dir("employer")
    landing.mkdir(parents=True)
    (landing / "establishments_202009.csv").write_bytes(
        "\ufeff".encode() + "\r\n".join([REGISTER_HEADER, *register_lines]).encode() + b"\r\n"
    )
    (landing / "contributions_202009.tsv").write_text(
        "\n".join([CONTRIBUTIONS_HEADER, *contribution_lines]) + "\n", encoding="utf-8"
    )
    paths.working_db.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.working_db)) as con:
        return [
            load_source(con, spec, landing, paths.scratch) for spec in (EMPLOYER_ESTABLISHMENTS, EMPLOYER_CONTRIBUTIONS)
        ]


def test_loader_reads_bom_separators_and_negative_adjustments(paths):
    register, contributions = _load(
        paths,
        ["12345678,13,1301,一般,令和２年４月１日,", "87654321,47,4702,船舶,平成5年4月1日,令和2年3月31日"],
        [_contribution(), _contribution(adjustment="", collected="", collected_on="").replace("R02.08", "R02.07")],
    )
    assert (register.rows_loaded, contributions.rows_loaded, contributions.rows_rejected) == (2, 2, 0)
    assert query(
        paths.working_db,
        "select establishment_number, covered_from::varchar, covered_until::varchar from raw.employer__establishments order by 1",
    ) == [
        ("12345678", "2020-04-01", None),
        ("87654321", "1993-04-01", "2020-03-31"),
    ]
    assert query(
        paths.working_db,
        "select determined_yen, adjustment_yen, collected_yen from raw.employer__contributions order by premium_month desc",
    ) == [
        (1_234_567, -4_567, 1_230_000),
        (1_234_567, None, None),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (_contribution(determined="12,34"), "determined_yen: cannot parse field 5, 5 characters as BIGINT"),
        (_contribution(collected_on=""), "amount received without a date, or a date without an amount"),
        (_contribution(collected="1,240,000"), "received and written off exceed the determined amount"),
    ],
)
def test_bad_contribution_records_are_rejected_with_their_reason(paths, line, reason):
    _, contributions = _load(paths, ["12345678,13,1301,一般,令和２年４月１日,"], [_contribution(), line])
    assert (contributions.rows_loaded, contributions.rows_rejected) == (1, 1)
    assert query(paths.working_db, "select line_number, reason from raw.rejects") == [(3, reason)]
