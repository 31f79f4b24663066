"""What the dashboard reads: the published version current at each interaction, read-only.

Every rerun (each click, each filter) resolves ``data/published/warehouse.duckdb`` anew and
reads the version file it points to, so a refresh never breaks an open page: the next
interaction shows the new version. Results are cached per version file and query, and a
connection is held only while one query runs (the working database is never opened).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from analytics import published
from config.kpis import KPIS, Kpi

KPI_BY_NAME = {kpi.name: kpi for kpi in KPIS}


def current_version() -> Path:
    """The version file the published link shows now; stops the page with what to run when there is none."""
    path = published.published_path()
    if not path.exists():
        st.error(str(published.NoPublishedDatabase(path)))
        st.stop()
    return path.resolve()


@st.cache_data(show_spinner=False, max_entries=256)
def _query(version: str, sql: str, parameters: tuple) -> pl.DataFrame:
    with duckdb.connect(version, read_only=True) as con:
        return con.sql(sql, params=list(parameters)).pl()


def frame(sql: str, *parameters) -> pl.DataFrame:
    """Rows of ``sql`` (``?`` placeholders) on the current published version."""
    return _query(str(current_version()), sql, parameters)


def figures(kpi: Kpi) -> pl.DataFrame:
    """Every figure of the report for the KPI, beside the one recomputed from the extracts."""
    # expected_value: the published figure at the extracts' scale (counts scale with a demo's size)
    return frame(f"""select figure_id, period_label, measure, unit, published_value, expected_value, recomputed_value,
                            difference, status, known_discrepancy
                     from marts.{kpi.reconciliation} order by figure_id""")


def figure(kpi: Kpi, figure_id: str) -> dict:
    [row] = figures(kpi).filter(pl.col("figure_id") == figure_id).to_dicts()
    return row


def extract_scale() -> float:
    """The scale of the current version's extracts (1.0: real extracts)."""
    return _extract_scale(str(current_version()))


@st.cache_data(show_spinner=False, max_entries=16)
def _extract_scale(version: str) -> float:
    with duckdb.connect(version, read_only=True) as con:
        return published.extract_scale(con)
