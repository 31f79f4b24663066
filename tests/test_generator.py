import datetime as dt
import hashlib

import polars as pl
import pytest

from demo import call_center
from demo.allocation import rate_rounds_to
from ingest.specs import CALL_CENTER

FIGURES = call_center.Figures.load()


def _period_sums(frame: pl.DataFrame, start, end, dial=""):
    rows = frame.filter(pl.col("month").is_between(start, end))
    if dial:
        rows = rows.filter(pl.col("dial_code") == dial)
    return rows["calls_answered"].sum(), rows["calls_offered"].sum()


def test_scale_one_reproduces_the_monthly_table_exactly():
    dial_months = call_center.calibrate_dial_months(FIGURES, 1.0)
    totals = dial_months.group_by("month").agg(pl.col("calls_offered", "calls_answered").sum()).sort("month")
    expected = FIGURES.monthly_counts()
    assert totals["calls_offered"].to_list() == expected["calls_offered"].to_list()
    assert totals["calls_answered"].to_list() == expected["calls_answered"].to_list()
    assert totals["calls_offered"].sum() == 7_029_030 + 6_342_399  # about 13.4 million calls


@pytest.mark.parametrize("scale", [1.0, 0.1, 0.01, 0.003])
def test_every_published_rate_is_reproduced_at_scale(scale):
    daily = call_center.calibrate_days(FIGURES, scale).with_columns(month=pl.col("day").dt.truncate("1mo"))
    rates = FIGURES.frame.filter(pl.col("measure") == "answer_rate")
    assert rates.height == 24  # 14 monthly, 4 April-October, 4 half-period, 2 appointment line
    for r in rates.iter_rows(named=True):
        answered, offered = _period_sums(daily, r["period_start"], r["period_end"], r["dial_code"])
        assert rate_rounds_to(answered, offered, r["published_value"], r["decimals"]), (
            scale,
            r["figure_id"],
            answered / offered,
        )


def test_appointment_line_rates_at_scale_one():
    dial_months = call_center.calibrate_dial_months(FIGURES, 1.0)
    for start, end, published in [
        (dt.date(2019, 4, 1), dt.date(2019, 10, 31), 0.517),
        (dt.date(2020, 4, 1), dt.date(2020, 10, 31), 0.641),
    ]:
        answered, offered = _period_sums(dial_months, start, end, "appointment")
        assert round(answered / offered, 3) == published


def test_dials_appear_only_from_their_opening_date():
    daily = call_center.calibrate_days(FIGURES, 1.0)
    first_day = dict(daily.group_by("dial_code").agg(pl.col("day").min()).iter_rows())
    assert first_day["benefit_dial"] == dt.date(2020, 10, 19)
    assert first_day["deferral_consult"] >= dt.date(2020, 4, 1)
    assert first_day["disaster_victims"] >= dt.date(2020, 7, 10)
    assert first_day["nenkin_dial"] < dt.date(2019, 4, 10)
    assert (daily["calls_answered"] <= daily["calls_offered"]).all()


def _digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.glob("*.csv"))}


def test_generation_is_deterministic_and_seed_dependent(tmp_path):
    a = call_center.generate(tmp_path / "a", 0.002, seed=1)
    call_center.generate(tmp_path / "b", 0.002, seed=1)
    call_center.generate(tmp_path / "c", 0.002, seed=2)
    assert len(a) > 300
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert not list((tmp_path / "a").glob("*.partial"))


def test_generated_file_format(generated_call_center):
    path = generated_call_center / "cdr_20201019.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(CALL_CENTER.header)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame["received_at"].str.contains(r"^2020-10-19T\d\d:\d\d:\d\d\+09:00$").all()
    assert frame["call_id"].n_unique() == frame.height
    assert "benefit_dial" in frame["dial"].to_list()  # the benefit line opened on 19 October 2020
    answered = frame.filter(pl.col("answered") == "true")
    assert answered["answered_at"].null_count() == 0
    assert (frame.filter(pl.col("answered") == "false")["talk_seconds"] == "0").all()


def test_too_small_a_scale_is_refused_clearly():
    with pytest.raises(ValueError, match="too small to reproduce every published answer rate"):
        call_center.calibrate_totals(FIGURES, 0.0005)
