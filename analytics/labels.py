"""How every column analysts are shown is labelled and formatted (the dashboard, the notebooks): declared once, here.

Each column has a Japanese label with an English subtitle and a kind, and the kind fixes its
format everywhere: rates at the report's precision (0.1 point; the current-year curve 0.01),
counts with thousands separators, amounts in 億円 to 0.1, points signed, times in Japan time, and
a missing value as "—". The shown table is text formatted here, so what a test reads is what a
person sees; the CSV download keeps the numbers.

A column the registry does not know raises, so a new column cannot appear with a raw English name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from config.settings import JAPAN

MISSING = "—"


@dataclass(frozen=True)
class Column:
    ja: str
    en: str
    # rate, curve_rate, points, count, oku, value, tally (a count of figures: no demo scale), year, date,
    # time, flag, text, figures (a column of a printed table, counts among them, already formatted)
    kind: str = "text"

    @property
    def label(self) -> str:
        return f"{self.ja} {self.en}".strip()

    @property
    def numeric(self) -> bool:
        """Right-aligned, as figures are printed."""
        return self.kind in {"rate", "curve_rate", "points", "count", "oku", "value", "tally", "figures"}

    @property
    def scaled(self) -> bool:
        """Whether a demo's scale shrinks it (counts and amounts do; rates and points do not)."""
        return self.kind in {"count", "oku", "figures"}


COLUMNS: dict[str, Column] = {
    # call center
    "月": Column("月", "month"),
    "dial_code": Column("ダイヤル", "dial code"),
    "dial_name_ja": Column("ダイヤル名", "dial"),
    "calls_offered": Column("受電数", "calls offered", "count"),
    "calls_answered": Column("応答数", "calls answered", "count"),
    "answer_rate": Column("応答率", "answer rate", "rate"),
    "period": Column("期間", "period"),
    # national pension
    "月末": Column("月末", "month end"),
    "premium_fiscal_year": Column("保険料年度", "premium year", "year"),
    "現年度納付率": Column("現年度納付率", "current-year rate", "rate"),
    "過年度１年目納付率": Column("過年度１年目納付率", "past-year rate, first year", "rate"),
    "最終納付率": Column("最終納付率", "final rate", "rate"),
    "rank": Column("順位", "rank", "year"),
    "prefecture_name_ja": Column("都道府県", "prefecture"),
    "fy2019_current_year": Column("2019年度 現年度納付率", "FY2019 current-year rate", "rate"),
    "fy2020_at_september": Column("2020年9月末", "FY2020 at September", "rate"),
    "change_points": Column("対前年同期", "change on a year before, points", "points"),
    "fiscal_half": Column("半期", "half"),
    "action_code": Column("処分区分", "action code"),
    "action_name_ja": Column("処分", "action"),
    "actions": Column("実績件数", "actions", "count"),
    "actions_previous_year": Column("前年同期", "a year before", "count"),
    "ratio_to_previous_year": Column("対前年同期比", "ratio", "rate"),
    "activity_code": Column("活動区分", "activity code"),
    "activity_name_ja": Column("活動", "activity"),
    "planned": Column("計画件数", "plan", "count"),
    "performed": Column("実績", "actual", "count"),
    "performance_rate": Column("実施率", "rate", "rate"),
    "annual_plan": Column("年間計画", "annual", "count"),
    # employer
    "fiscal_year": Column("年度", "fiscal year", "year"),
    "as_of": Column("時点", "as of", "date"),
    "insurance_name_ja": Column("保険の種類", "insurance type"),
    "collection_rate": Column("収納率", "collection rate", "rate"),
    "collection_rate_excl_deferral": Column("特例分を除く収納率", "excl. special deferral", "rate"),
    "arrears_oku": Column("収納未済額（億円）", "arrears, ¥100m", "oku"),
    "deferred_oku": Column("納付猶予（億円）", "deferred, ¥100m", "oku"),
    "covered_establishments": Column("適用事業所数", "covered establishments", "count"),
    "delinquent_establishments": Column("滞納事業所数", "delinquent establishments", "count"),
    "delinquent_share": Column("滞納割合", "delinquent share", "rate"),
    "yoy_points": Column("増減", "change, points", "points"),
    # reconciliation
    "figure_id": Column("数値ID", "figure"),
    "period_label": Column("期間", "period"),
    "measure": Column("項目", "measure"),
    "unit": Column("単位", "unit"),
    "published_value": Column("公表値", "published", "value"),
    "expected_value": Column("この規模での期待値", "expected at this scale", "value"),
    "recomputed_value": Column("再計算値", "recomputed", "value"),
    "difference": Column("差", "difference", "value"),
    "status": Column("状態", "status"),
    "known_discrepancy": Column("既知の相違", "known discrepancy"),
    # publication
    "kpi": Column("KPI", "KPI"),
    "mart": Column("テーブル", "mart"),
    "version_run_id": Column("公表した実行", "published by run"),
    "data_as_of": Column("データ時点", "data as of", "date"),
    "data_changed_at": Column("データ更新（日本時間）", "data changed, JST", "time"),
    "is_stale": Column("遅延", "stale", "flag"),
    "stale_reason": Column("遅延の理由", "why stale"),
    "latest_attempt_passed": Column("直近の検査", "latest checks passed", "flag"),
    "latest_attempt_failures": Column("不合格の検査", "failed checks"),
    "rolled_back_to": Column("戻した版", "rolled back to"),
    "rollback_reason": Column("戻した理由", "rollback reason"),
    "match": Column("一致", "match", "tally"),
    "mismatch": Column("不一致", "mismatch", "tally"),
    # (known_discrepancy, above, is a count in the overview's table: text either way)
}
_FISCAL_YEAR_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<year>\d{4})$")


def column(name: str) -> Column:
    """The column ``name`` as shown; ``<name>_<year>`` (a pivot by fiscal year) is the column in that year."""
    if name in COLUMNS:
        return COLUMNS[name]
    if (m := _FISCAL_YEAR_SUFFIX.match(name)) and m["base"] in COLUMNS:
        base = COLUMNS[m["base"]]
        return Column(f"{base.ja} {m['year']}年度", f"{base.en}, FY{m['year']}", base.kind)
    raise KeyError(f"the dashboard has no label for column {name!r}: add it to dashboard.columns.COLUMNS")


def _text(value: Any, kind: str) -> str:  # a cell of any type: its kind says which
    if value is None:
        return MISSING
    match kind:
        case "rate":
            return f"{value:.1%}"
        case "curve_rate":
            return f"{value:.2%}"
        case "points":
            return f"{value:+.1f}"
        case "count":
            return f"{value:,.0f}"
        case "oku":
            return f"{value:,.1f}"
        case "value":  # a report's figure: whole numbers as such, others to two places
            return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        case "year" | "tally":
            return f"{value}"
        case "date":
            return f"{value:%Y-%m-%d}"
        case "time":
            return f"{value.astimezone(JAPAN):%Y-%m-%d %H:%M}"
        case "flag":
            return "はい yes" if value else "いいえ no"
    return str(value)


def shown(frame: pl.DataFrame, kinds: dict[str, Column] | None = None) -> pl.DataFrame:
    """The frame as text, each column formatted by its kind and titled by its label; ``kinds`` for
    columns named by their data (a pivot's ``2019``), declared where the pivot is made."""
    kinds = kinds or {}
    return pl.DataFrame(
        {
            (kinds.get(name) or column(name)).label: [
                _text(v, (kinds.get(name) or column(name)).kind) for v in frame[name].to_list()
            ]
            for name in frame.columns
        },
        schema={(kinds.get(name) or column(name)).label: pl.Utf8 for name in frame.columns},
    )


def described(frame: pl.DataFrame, kinds: dict[str, Column] | None = None) -> list[Column]:
    """Each column of the frame as shown (``kinds`` first, then the registry)."""
    kinds = kinds or {}
    return [kinds.get(name) or column(name) for name in frame.columns]
