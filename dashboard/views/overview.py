"""Each KPI's headline figure, recomputed from the extracts, next to the published one; the publication status."""

import polars as pl
import streamlit as st

from analytics import labels
from dashboard import data, widgets

# (KPI, the report's figure it leads with, label, English subtitle)
HEADLINES = (
    (
        "call_center",
        "cc_fy2020_apr_oct_rate_monthly_table",
        "応答率 2020年度 4～10月",
        "Call-center answer rate, April–October FY2020",
    ),
    (
        "national_pension",
        "np_fy2019_current",
        "現年度納付率 2019年度",
        "National Pension current-year payment rate, FY2019",
    ),
    (
        "employer",
        "ec_pension_202009_rate",
        "厚生年金保険 収納率 2020年9月末",
        "Employees' pension collection rate, end of September 2020",
    ),
)
STATUS_JA = {"match": "一致 match", "known_discrepancy": "既知の相違 known discrepancy", "mismatch": "不一致 MISMATCH"}

st.title("年金業務 KPI ダッシュボード")
st.caption("Pension operations KPIs: each figure recomputed from the operational extracts, beside the published one")
widgets.banner()

for column, (kpi_name, figure_id, label, english) in zip(st.columns(len(HEADLINES)), HEADLINES, strict=True):
    row = data.figure(data.KPI_BY_NAME[kpi_name], figure_id)
    with column:
        st.metric(label, f"{row['recomputed_value']:.1f}%", help=english)
        st.caption(f"公表値 published {row['published_value']:.1f}% ・ {STATUS_JA[row['status']]}")
        st.caption(english)

st.subheader("公表状況 Publication status")
log = widgets.publication_log().with_columns(pl.col("version_run_id").str.slice(0, 8))  # as the UI shortens it
widgets.table(log, "publication_log")

counts = pl.concat([data.figures(kpi).group_by("status").len().with_columns(kpi=pl.lit(kpi.name)) for kpi in data.KPIS])
st.subheader("報告書の数値の再現 Figures of the report reproduced")
by_status = (
    counts.pivot(on="status", index="kpi", values="len")
    .with_columns(*(pl.lit(0, pl.UInt32).alias(s) for s in STATUS_JA if s not in counts["status"].unique()))
    .fill_null(0)
    .select("kpi", *STATUS_JA)  # a fixed order, whichever status the rows show first
)
widgets.table(
    by_status,
    "figures_by_status",
    kinds={"known_discrepancy": labels.Column("既知の相違", "known discrepancy", "tally")},
)
