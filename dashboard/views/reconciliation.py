"""Every figure of the report beside the one recomputed from the extracts, with its status."""

import polars as pl
import streamlit as st

from dashboard import data, widgets

st.title("公表値との照合")
st.caption("Reconciliation: every published figure of the report beside the figure recomputed from the extracts")
widgets.banner()
widgets.scale_caption()  # the published counts are compared after scaling: "expected at this scale"

kpi = data.KPI_BY_NAME[
    st.selectbox("KPI", list(data.KPI_BY_NAME), format_func=lambda name: data.KPI_BY_NAME[name].title)
]
statuses = st.multiselect(
    "状態 Status", ["match", "known_discrepancy", "mismatch"], default=["match", "known_discrepancy", "mismatch"]
)
if not statuses:
    st.info("状態を選んでください。 Choose at least one status.", icon=":material/info:")
    st.stop()
figures = data.figures(kpi).filter(pl.col("status").is_in(statuses))
for row in figures.filter(pl.col("status") == "known_discrepancy").iter_rows(named=True):
    st.info(
        f"既知の相違 known discrepancy: {row['figure_id']} ({row['period_label']}): published {widgets.number(row['published_value'])} "
        f"(expected at this scale {row['expected_value']:,.2f}), recomputed {row['recomputed_value']:,.2f}. "
        f"{row['known_discrepancy']}",
        icon=":material/info:",
    )
for row in figures.filter(pl.col("status") == "mismatch").iter_rows(named=True):
    st.error(
        f"不一致 mismatch: {row['figure_id']} ({row['period_label']}): published {widgets.number(row['published_value'])} "
        f"(expected at this scale {row['expected_value']:,.2f}), recomputed {row['recomputed_value']:,.2f}",
        icon=":material/error:",
    )
widgets.table(
    figures.select(
        "figure_id",
        "period_label",
        "status",
        "published_value",
        "expected_value",
        "recomputed_value",
        "difference",
        "unit",
        "measure",
        "known_discrepancy",
    ),
    kpi.reconciliation,
)
