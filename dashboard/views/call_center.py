"""Call center: the monthly answer rate FY2019 against FY2020, the report's periods, and by dial."""

import altair as alt
import polars as pl
import streamlit as st

from analytics import labels, queries
from dashboard import data, widgets

FISCAL_MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]

st.title("コールセンター 応答率")
st.caption("Call-center answer rate (応答率 = calls answered / calls offered)")
widgets.banner()

dials = data.frame("select distinct dial_code, dial_name_ja from marts.call_center_monthly order by dial_code")
names = dict(dials.iter_rows())
all_years = data.frame("select distinct fiscal_year from marts.call_center_monthly order by 1")["fiscal_year"].to_list()
left, right = st.columns(2)
dial = left.selectbox(
    "ダイヤル Dial", [None, *names], format_func=lambda code: "全体 All dials" if code is None else names[code]
)
years = right.multiselect("年度 Fiscal year", all_years, default=all_years)
if not years:
    st.info("年度を選んでください。 Choose at least one fiscal year.", icon=":material/info:")
    st.stop()

monthly = data.frame(queries.CALL_CENTER_MONTHLY, dial).filter(pl.col("fiscal_year").is_in(years))
periods = data.frame(queries.CALL_CENTER_PERIODS, dial).filter(pl.col("fiscal_year").is_in(years))
if monthly.is_empty():
    st.info(
        "このダイヤルには選んだ年度のデータがありません（開設前）。 "
        "This dial has no calls in the chosen fiscal years (it opened later).",
        icon=":material/info:",
    )
    st.stop()

st.subheader("期間別 応答率 Answer rate by period")
# A dial opened in FY2020 has no FY2019 rate: its metric says "—" and no change is given.
by_period = periods.pivot(on="fiscal_year", index="period", values="answer_rate")
shown_years = [y for y in years if str(y) in by_period.columns]
for column, row in zip(st.columns(len(by_period)), by_period.iter_rows(named=True), strict=True):
    for year in shown_years:
        before = row.get(str(year - 1))
        delta = (
            widgets.points(100 * (round(row[str(year)], 3) - round(before, 3)))
            if before is not None and row[str(year)] is not None
            else None
        )
        column.metric(f"{row['period']} {year}年度", widgets.percent(row[str(year)]), delta=delta)
widgets.download(by_period, "call_center_periods")

st.subheader("月別 応答率 Answer rate by month")
table = monthly.with_columns(月=pl.col("calendar_month").cast(pl.Utf8) + "月").pivot(
    on="fiscal_year", index="月", values=["calls_offered", "calls_answered", "answer_rate"]
)
chart = (
    alt.Chart(
        monthly.with_columns(
            年度=pl.col("fiscal_year").cast(pl.Utf8) + "年度",
            月=pl.col("calendar_month").cast(pl.Utf8) + "月",
            応答率=pl.col("answer_rate") * 100,
        )
    )
    .mark_line(point=True)
    .encode(
        x=alt.X("月:N", sort=[f"{m}月" for m in FISCAL_MONTHS], title="月 month"),
        y=alt.Y("応答率:Q", title="応答率 answer rate (%)", scale=alt.Scale(zero=False)),
        color=alt.Color("年度:N", title="年度 fiscal year"),
    )
)
st.altair_chart(chart, width="stretch")
widgets.table(table, "call_center_monthly")

st.subheader("ダイヤル別 応答率（4～10月） Answer rate by dial, April–October")
by_dial = data.frame(queries.CALL_CENTER_BY_DIAL).filter(pl.col("fiscal_year").is_in(years))
by_dial = by_dial.pivot(on="fiscal_year", index=["dial_code", "dial_name_ja"], values="answer_rate")
year_columns = {str(y): labels.Column(f"{y}年度", f"FY{y}", "rate") for y in years}
if {"2019", "2020"} <= set(by_dial.columns):
    by_dial = by_dial.with_columns(yoy_points=widgets.yoy_points("2020", "2019"))
widgets.table(by_dial, "call_center_by_dial", kinds=year_columns)
