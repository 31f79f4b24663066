"""Every figure of the report beside the one recomputed from the extracts, with its status."""

import polars as pl
import streamlit as st

from dashboard import data, widgets

st.title("公表値との照合")
st.caption("Reconciliation: every published figure of the report beside the figure recomputed from the extracts")
widgets.banner()

kpi = st.selectbox("KPI", data.KPIS, format_func=lambda k: k.title)
statuses = st.multiselect(
    "状態 Status", ["match", "known_discrepancy", "mismatch"], default=["match", "known_discrepancy", "mismatch"]
)
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
        f"(expected at this scale {row['expected_value']:,.2f}), recomputed {row['recomputed_value']}",
        icon=":material/error:",
    )
widgets.table(
    figures,
    kpi.reconciliation,
    column_config={
        "published_value": "公表値 published",
        "expected_value": "この規模での期待値 expected at this scale",
        "recomputed_value": "再計算値 recomputed",
        "difference": "差 difference",
        "status": "状態 status",
    },
)
