"""National Pension: the table 国民年金適用・収納対策業務の状況 with its three rates over the years, the current-year
curve FY2019 against FY2020, the prefecture ranking, past-year and final rates, and the collection actions against
the year before and the contractor's against plan."""

import altair as alt
import polars as pl
import streamlit as st

from analytics import coverage, labels, queries
from dashboard import data, widgets

MONTH_ENDS = [
    "5月末",
    "6月末",
    "7月末",
    "8月末",
    "9月末",
    "10月末",
    "11月末",
    "12月末",
    "1月末",
    "2月末",
    "3月末",
    "4月末",
]

st.title("国民年金保険料 納付率")
st.caption("National Pension premium payment rate (納付率 = months paid / months due)")
widgets.banner()

prefectures = data.frame(
    "select distinct prefecture_code, prefecture_name_ja from marts.national_pension_payment_rate order by 1"
)
names = dict(prefectures.iter_rows())
prefecture = st.selectbox(
    "都道府県 Prefecture", [None, *names], format_func=lambda code: "全国 Nationwide" if code is None else names[code]
)

st.subheader("国民年金適用・収納対策業務の状況 Coverage and collection, as the report prints it")
st.caption(
    "年度末 (31 March) と9月末. 全額免除率 = 全額免除者数 ÷ (第１号被保険者数 − 任意加入者); 最終納付率は2年前、"
    "過年度１年目は前年の保険料年度分. Changes on a year before; gains over the premium year's own current-year rate"
)
summary = data.frame(queries.NP_COVERAGE_AND_COLLECTION, prefecture, prefecture)
printed = coverage.report_table(summary)
widgets.table(
    printed,
    "np_coverage_and_collection",
    kinds={name: coverage.labelled(name) for name in printed.columns},
    widths={coverage.ITEM_COLUMN: 190},
)
st.altair_chart(
    alt.Chart(coverage.three_rates(summary))
    .mark_line(point=True)
    .encode(
        x=alt.X("fiscal_year:O", title="年度末 fiscal year end", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("percent:Q", title="納付率 payment rate (%)", scale=alt.Scale(zero=False)),
        color=alt.Color("rate:N", title="納付率", sort=["最終納付率", "過年度１年目", "現年度納付率"]),
    ),
    width="stretch",
)

st.subheader("納付率（現年度）の推移 Current-year payment rate, month end by month end")
curve = data.frame(queries.NP_CURVE, prefecture).with_columns(
    月末=pl.col("months_after_may").replace_strict(dict(enumerate(MONTH_ENDS)), return_dtype=pl.Utf8),
    年度=pl.col("premium_fiscal_year").cast(pl.Utf8) + "年度分",
)
st.altair_chart(
    alt.Chart(curve.with_columns(納付率=pl.col("payment_rate") * 100))
    .mark_line(point=True)
    .encode(
        x=alt.X("月末:N", sort=MONTH_ENDS, title="月末 month end"),
        y=alt.Y("納付率:Q", title="納付率 payment rate (%)", scale=alt.Scale(zero=False)),
        color=alt.Color("年度:N", title="年度 premium year"),
    ),
    width="stretch",
)
table = curve.pivot(on="premium_fiscal_year", index="月末", values="payment_rate")
widgets.table(
    table,
    "np_current_year_curve",
    kinds={c: labels.Column(f"{c}年度分", f"premium year {c}", "curve_rate") for c in table.columns[1:]},
)

st.subheader("現年度・過年度１年目・最終納付率 Current-year, past-year and final rates (全国 nationwide)")
st.caption("途中 interim: その時点までの納付率 (the rate so far, at the data's last month end)")
kinds = data.frame(queries.NP_RATES_BY_KIND).select(
    "premium_fiscal_year", "kind", "as_of", "is_interim", "payment_rate"
)
widgets.table(
    kinds,
    "np_rates_by_kind",
    kinds={
        "kind": labels.Column("区分", "kind"),
        "is_interim": labels.Column("途中", "interim", "flag"),
        "payment_rate": labels.Column("納付率", "payment rate", "rate"),
    },
)

st.subheader("都道府県別 納付率 Prefecture ranking (2019年度 現年度納付率)")
chosen = st.multiselect("都道府県を絞る Show only", list(names.values()))
ranking = data.frame(queries.NP_PREFECTURE_RANKING).select(
    "rank", "prefecture_name_ja", "fy2019_current_year", "fy2020_at_september", "change_points"
)
if chosen:
    ranking = ranking.filter(pl.col("prefecture_name_ja").is_in(chosen))
widgets.table(ranking, "np_prefecture_ranking")

st.subheader("収納対策の行動計画 Collection actions, by half-year, against the same half a year before")
st.caption(
    "上半期 H1 = 4～9月, 下半期 H2 = 10～3月. 特別催告状・最終催告状・督促状の送付件数と差押執行件数 "
    "(special and final reminders and demand notices sent, seizures executed); the prefecture chosen above"
)
actions = data.frame(queries.NP_COLLECTION_ACTIONS, prefecture).drop("action_code")
widgets.table(actions, "np_collection_actions")

st.subheader("市場化テスト受託事業者 Collection contractor: performed against plan")
contractor = data.frame(queries.NP_CONTRACTOR_ACTIVITY).drop("activity_code")
widgets.table(contractor, "np_contractor_activity")
