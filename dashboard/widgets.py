"""What every page shows the same way: the publication banner, percentages, CSV downloads."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics import labels, published
from dashboard import data


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def number(value: float) -> str:
    """A figure as the report prints it: whole numbers without a decimal point."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def points(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} ポイント"


def yoy_points(this_year: str, last_year: str):
    """Year-on-year change in points, as the report gives it: the difference of the two rates it prints (0.1% precision)."""
    return 100 * (pl.col(this_year).round(3) - pl.col(last_year).round(3))


def table(
    frame: pl.DataFrame, name: str, kinds: dict[str, labels.Column] | None = None, widths: dict[str, int] | None = None
) -> None:
    """A table across the page, every row in view (no inner scrolling), each column labelled and
    formatted as ``dashboard.columns`` declares; the demo scale beside counts and amounts; its CSV
    download (``name``.csv, the numbers unformatted). ``widths``: pixels for columns whose text
    would be cut (a printed table's item names)."""
    if frame.is_empty():
        st.info("この条件で表示するデータはありません。 Nothing to show for this choice.", icon=":material/info:")
        return
    described = labels.described(frame, kinds)
    config = {c.label: st.column_config.TextColumn(c.label, alignment="right") for c in described if c.numeric}
    for column_name, pixels in (widths or {}).items():
        label = (kinds or {}).get(column_name) or labels.column(column_name)
        config[label.label] = st.column_config.TextColumn(label.label, width=pixels)
    st.dataframe(labels.shown(frame, kinds), hide_index=True, width="stretch", height="content", column_config=config)
    if any(c.scaled for c in described):
        scale_caption()
    download(frame, name)


def scale_caption() -> None:
    """Beside a count or an amount: the demo scale, when the extracts were a demo's."""
    if note := published.scale_note(data.extract_scale()):
        st.caption(f":material/straighten: {note}")


def with_scale(text: str) -> str:
    """A count or amount's label, with the demo scale when there is one."""
    note = published.scale_note(data.extract_scale())
    return f"{text}（{note.split(' · ')[0]}）" if note else text


def download(table: pl.DataFrame, name: str) -> None:
    """A CSV download of a table as shown (UTF-8 with a BOM, so Excel reads the Japanese)."""
    st.download_button(
        f"CSV ⬇ {name}",
        ("\ufeff" + table.write_csv()).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{name}",
    )


def publication_log() -> pl.DataFrame:
    return data.frame("""select kpi, mart, version_run_id, data_as_of, data_changed_at, is_stale, stale_reason,
                                latest_attempt_passed, latest_attempt_failures, rolled_back_to, rollback_reason
                         from marts.publication_log order by kpi, mart""")


def banner() -> None:
    """The published version, and a warning naming every KPI held back, stale or rolled back."""
    log = publication_log()
    version = data.current_version().name
    changed = log["data_changed_at"].max()
    st.caption(
        f"公表版 Published version: `{version}` ・ データ更新 Data last changed: "
        f"{changed.astimezone(labels.JAPAN):%Y-%m-%d %H:%M} JST"
    )
    problems = []
    for kpi in data.KPIS:
        rows = log.filter(pl.col("kpi") == kpi.name)
        if rows.is_empty():
            problems.append(f"{kpi.title}: 未公表 not published yet")
            continue
        if not rows["latest_attempt_passed"].fill_null(True).all():
            failures = "; ".join(sorted(set(rows["latest_attempt_failures"].drop_nulls().to_list())))
            problems.append(f"{kpi.title}: 公表保留 held back, last good version shown ({failures})")
        if rows["is_stale"].fill_null(False).any():
            reasons = "; ".join(sorted(set(rows["stale_reason"].drop_nulls().to_list())))
            problems.append(f"{kpi.title}: データ遅延 stale ({reasons})")
        if rows["rolled_back_to"].drop_nulls().len():
            reason = rows["rollback_reason"].drop_nulls()[0]
            problems.append(f"{kpi.title}: 以前の版に戻されています rolled back ({reason})")
    if problems:
        st.warning("\n\n".join(problems), icon=":material/warning:")
    else:
        st.success(
            "すべての KPI が最新のデータで公表されています。 Every KPI is published and current.",
            icon=":material/check_circle:",
        )
