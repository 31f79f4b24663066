"""The demo premium ledger: calibrated to every published figure at any scale, printed as the mainframe does."""

import datetime as dt
import hashlib

import polars as pl
import pytest

from demo import national_pension as npg
from demo.national_pension.calibration import calibrate
from demo.national_pension.targets import (
    CREDIT_CARD,
    DIRECT_DEBIT,
    FISCAL_YEARS,
    NOT_DUE_SHARES,
    VOLUNTARY_STATUS,
    Figures,
    as_of_index,
)
from ingest.decoding.strict import decode_lines
from tests.conftest import SEED

NOT_DUE = list(NOT_DUE_SHARES)  # full exemption and deferral: the report's 全額免除者
CHANNEL = {"direct_debit_rate": DIRECT_DEBIT, "credit_card_rate": CREDIT_CARD}


def _figures_from_cells(cells: pl.DataFrame, scale: float) -> dict[str, tuple[float, float]]:
    """Every seed figure recomputed straight from the calibrated counts (independent of dbt), with
    how far rounding the scaled counts may move it (a change of two counts, below scale 1)."""
    cells = cells.with_columns(n=pl.col("hi") - pl.col("lo"))
    due = cells.filter(pl.col("status_class").is_in(["1", VOLUNTARY_STATUS]))

    def paid_and_due(fy, k, prefecture):
        rows = due.filter((pl.col("premium_fiscal_year") == fy) & (pl.col("month_index") < min(k, 12)))
        if prefecture:
            rows = rows.filter(pl.col("prefecture_code") == prefecture)
        return rows.filter(pl.col("paid_k") <= k)["n"].sum(), rows["n"].sum()

    def rate(fy, k, prefecture):
        paid, months = paid_and_due(fy, k, prefecture)
        return 100.0 * paid / months

    def persons(as_of, statuses=None):
        fy = as_of.year - (as_of.month < 4)
        month = cells.filter((pl.col("premium_fiscal_year") == fy) & (pl.col("month_index") == (as_of.month - 4) % 12))
        if statuses:
            month = month.filter(pl.col("status_class").is_in(statuses))
        return month["n"].sum()

    def exempt_rate(as_of):
        return 100.0 * persons(as_of, NOT_DUE) / (persons(as_of) - persons(as_of, [VOLUNTARY_STATUS]))

    def channel_rate(as_of, channel):
        # of the premiums falling due at the date (the month before's), those paid through the channel
        before = as_of.replace(day=1) - dt.timedelta(days=1)
        fy = before.year - (before.month < 4)
        month = due.filter((pl.col("premium_fiscal_year") == fy) & (pl.col("month_index") == (before.month - 4) % 12))
        return 100.0 * month.filter(pl.col("channel") == channel)["n"].sum() / month["n"].sum()

    def multi_payments(as_of):
        # payments through the network (channels 3-6) from 1 April of the date's fiscal year to the date
        fy = as_of.year - (as_of.month < 4)
        paid_in = pl.col("premium_fiscal_year") * 12 + 3 + pl.col("paid_k")
        network = cells.filter(pl.col("channel").is_in(["3", "4", "5", "6"]))
        return network.filter(paid_in.is_between(fy * 12 + 3, as_of.year * 12 + as_of.month - 1))["n"].sum()

    def change(now, before):
        return 100.0 * (now / before - 1), 50 * (1 + now / before) / before if scale < 1 else 0.0

    def recomputed(r) -> tuple[float, float]:
        fy, pref, as_of = r["premium_fiscal_year"], r["prefecture_code"], r["as_of"]
        k = as_of_index(fy, as_of)
        ref, ref_as_of = r["reference_fiscal_year"], r["reference_as_of"]
        match r["measure"]:
            case "payment_rate":
                return rate(fy, k, pref), 0.0
            case "payment_rate_points":
                return rate(fy, k, pref) - rate(ref, as_of_index(ref, ref_as_of), pref), 0.0
            case "months_paid":
                return paid_and_due(fy, k, pref)[0], 0.0
            case "months_paid_change":
                return change(paid_and_due(fy, k, pref)[0], paid_and_due(ref, as_of_index(ref, ref_as_of), pref)[0])
            case "insured_persons":
                return persons(as_of), 0.0
            case "insured_persons_change":
                return change(persons(as_of), persons(ref_as_of))
            case "fully_exempt_persons":
                return persons(as_of, NOT_DUE), 0.0
            case "fully_exempt_persons_change":
                return change(persons(as_of, NOT_DUE), persons(ref_as_of, NOT_DUE))
            case "fully_exempt_rate":
                return exempt_rate(as_of), 0.0
            case "fully_exempt_rate_points":
                return exempt_rate(as_of) - exempt_rate(ref_as_of), 0.0
            case "direct_debit_rate" | "credit_card_rate":
                return channel_rate(as_of, CHANNEL[r["measure"]]), 0.0
            case "direct_debit_rate_points" | "credit_card_rate_points":
                channel = CHANNEL[r["measure"].removesuffix("_points")]
                return channel_rate(as_of, channel) - channel_rate(ref_as_of, channel), 0.0
            case "multi_payments":
                return multi_payments(as_of), 0.0
            case "multi_payments_change":
                return change(multi_payments(as_of), multi_payments(ref_as_of))
        raise AssertionError(f"no recomputation for {r['measure']}")

    out = {r["figure_id"]: recomputed(r) for r in Figures.load().frame.iter_rows(named=True)}
    return out


@pytest.mark.parametrize("scale", [1.0, 0.01, 0.002])
def test_calibration_reproduces_every_published_figure(scale):
    recomputed = _figures_from_cells(calibrate(scale, SEED), scale)
    for r in Figures.load().frame.iter_rows(named=True):
        value, rounding = recomputed[r["figure_id"]]
        if r["unit"] in ("percent", "points"):
            assert round(value, r["decimals"] + 6) == pytest.approx(
                r["published_value"], abs=0.5 * 10 ** -r["decimals"] + 1e-9 + rounding
            ), r["figure_id"]
        elif scale == 1.0:
            assert value == r["published_value"], r["figure_id"]  # counts exactly at national scale
        else:
            assert abs(value - r["published_value"] * scale) <= 0.5, r["figure_id"]


def test_the_table_reaches_back_to_premium_fy2010():
    """Every column of 国民年金適用・収納対策業務の状況 is computed from records: FY2012's final
    rate is premium FY2010's, and its changes read FY2011's year end."""
    figures = Figures.load().frame
    assert figures["premium_fiscal_year"].min() == FISCAL_YEARS[0] == 2010
    table = figures.filter(pl.col("source_table") == "国民年金適用・収納対策業務の状況")
    assert table.height == 10 * 20  # ten columns of its ten rows, each with its change
    assert table.filter(pl.col("figure_id").is_in(["np_fy2010_final", "np_insured_2013_03_change"])).height == 2


def test_curve_points_at_their_printed_hundredths():
    # The FY2019 and FY2020 curves are printed to 0.01 point: spot-check two by hand.
    recomputed = _figures_from_cells(calibrate(1.0, SEED), 1.0)
    assert f"{recomputed['np_fy2019_curve_202004'][0]:.2f}" == "69.25"
    assert f"{recomputed['np_fy2020_curve_202009'][0]:.2f}" == "64.32"


def test_months_are_never_paid_beyond_the_two_year_limit():
    cells = calibrate(0.01, SEED)
    late = cells.filter(pl.col("paid_k").is_not_null() & (pl.col("paid_k") > pl.col("month_index") + 1 + 24))
    assert late.height == 0


def test_ledger_files_are_strict_cp932_with_wareki_and_full_width(generated_national_pension):
    files = sorted(generated_national_pension.glob("premium_ledger_*.csv"))
    assert files[0].name == "premium_ledger_201004.csv" and files[-1].name == "premium_ledger_202009.csv"
    text = {}
    for path in files:
        decoded, rejects = decode_lines(path.read_bytes(), "cp932")
        assert rejects == [], path
        text[path.name] = decoded
    header = text[files[0].name].split("\r\n", 1)[0]
    assert header.startswith("基礎年金番号,保険料年度,都道府県コード,処理年月,4月納付区分,4月納付日,4月納付経路")
    everything = "".join(text.values())
    assert "令和２年" in everything and "R02." in everything  # kanji with full-width digits, dotted
    assert "令和元年" in everything and "平成３０年" in everything and "平成２２年" in everything
    assert any(
        line.startswith("０") for line in text["premium_ledger_202006.csv"].splitlines()[1:]
    )  # full-width number


def test_generation_is_deterministic(tmp_path):
    first = npg.generate(tmp_path / "a", 0.002, SEED)
    second = npg.generate(tmp_path / "b", 0.002, SEED)

    def digest(files):
        return [(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files]

    assert digest(first) == digest(second)
    assert not list((tmp_path / "a").glob("*.partial"))
