"""Employer contributions: collection rate and arrears by insurance type, one line per fiscal year."""

import altair as alt
import polars as pl
import streamlit as st

from analytics import queries
from dashboard import data, widgets

MONTH_ENDS = [f"{m}月末" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]

st.title("厚生年金保険料等の収納状況")
st.caption("Employer contributions: collection rate (収納率) and arrears (収納未済額), fiscal year to date")
widgets.banner()

collection = data.frame(queries.EMPLOYER_COLLECTION).with_columns(
    月末=pl.col("fiscal_month_index").replace_strict(dict(enumerate(MONTH_ENDS)), return_dtype=pl.Utf8),
    年度=pl.col("fiscal_year").cast(pl.Utf8) + "年度",
)
left, right = st.columns(2)
# the largest first (厚生年金保険, which the report leads with)
by_size = collection.group_by("insurance_name_ja").agg(pl.col("arrears_oku").max()).sort("arrears_oku", descending=True)
insurance = left.selectbox("保険の種類 Insurance type", by_size["insurance_name_ja"].to_list())
all_years = sorted(collection["fiscal_year"].unique().to_list())
years = right.multiselect("年度 Fiscal year", all_years, default=all_years)
if not years:
    st.info("年度を選んでください。 Choose at least one fiscal year.", icon=":material/info:")
    st.stop()
shown = collection.filter((pl.col("insurance_name_ja") == insurance) & pl.col("fiscal_year").is_in(years))

september = shown.filter(pl.col("as_of") == pl.date(2020, 9, 30)).to_dicts()
if september:
    row = september[0]
    first, second, third = st.columns(3)
    first.metric(f"{insurance} 収納率 2020年9月末", widgets.percent(row["collection_rate"]))
    second.metric(
        "納付猶予の特例分を除く Without the special deferral", widgets.percent(row["collection_rate_excl_deferral"])
    )
    third.metric(widgets.with_scale("納付猶予（特例）許可中 Deferred"), f"{row['deferred_oku']:,.1f} 億円")
    widgets.scale_caption()


def by_year(measure: str, title: str, scale: float = 1.0):
    points = shown.with_columns(value=pl.col(measure) * scale)
    return (
        alt.Chart(points)
        .mark_line(point=True)
        .encode(
            x=alt.X("月末:N", sort=MONTH_ENDS, title="月末 month end"),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color("年度:N", title="年度 fiscal year"),
        )
    )


left, right = st.columns(2)
with left:
    st.subheader("収納率 Collection rate (%)")
    st.altair_chart(by_year("collection_rate", "収納率 (%)", 100), width="stretch")
with right:
    st.subheader(widgets.with_scale("収納未済額 Arrears (億円)"))
    st.altair_chart(by_year("arrears_oku", "収納未済額 (億円)"), width="stretch")
table = shown.select(  # the insurance type is the filter's, above
    "fiscal_year",
    "as_of",
    "collection_rate",
    "collection_rate_excl_deferral",
    "arrears_oku",
    "deferred_oku",
)
widgets.table(table, "employer_collection")

st.subheader("滞納事業所数 Delinquent establishments")
widgets.table(data.frame(queries.DELINQUENT_ESTABLISHMENTS), "delinquent_establishments")
