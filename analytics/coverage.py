"""The table 国民年金適用・収納対策業務の状況 laid out as the report prints it: one column per date,
one row per item, each change beneath its value. Shared by the dashboard and the notebook."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics.labels import MISSING, Column


@dataclass(frozen=True)
class Item:
    ja: str
    value: str  # the mart's column
    unit: str  # 人, 月 or % (a rate)
    change: str  # the column of its change (percent of a count, points of a rate)
    change_ja: str


ITEMS = (
    Item("第１号被保険者数", "insured_persons", "人", "insured_persons_change_percent", "対前年度比"),
    Item("納付月数", "months_paid", "月", "months_paid_change_percent", "対前年度比"),
    Item("全額免除者数", "full_exemption_persons", "人", "full_exemption_persons_change_percent", "対前年度比"),
    Item("全額免除率", "full_exemption_rate_percent", "%", "full_exemption_rate_change_points", "対前年度比"),
    Item("最終納付率", "final_rate_percent", "%", "final_rate_gain_points", "現年度からの伸び幅"),
    Item("過年度１年目", "past_year_rate_percent", "%", "past_year_rate_gain_points", "現年度からの伸び幅"),
    Item("現年度納付率", "current_year_rate_percent", "%", "current_year_rate_change_points", "対前年度比"),
    Item("口座振替実施率", "direct_debit_rate_percent", "%", "direct_debit_rate_change_points", "対前年度比"),
    Item("クレジット実施率", "credit_card_rate_percent", "%", "credit_card_rate_change_points", "対前年度比"),
    Item("マルチペイメント利用状況", "multi_payments", "件", "multi_payments_change_percent", "対前年度比"),
)
ITEM_COLUMN = "事項"


def column_label(as_of, period: str, fiscal_year: int) -> str:
    return f"{fiscal_year}年度" if period == "fiscal_year_end" else f"{as_of.year}年{as_of.month}月末"


def labelled(name: str) -> Column:
    """A column of the printed table as the dashboard shows it: the item, or a date's figures."""
    if name == ITEM_COLUMN:
        return Column("事項", "item")
    return Column(name, "", "figures")  # a date in Japanese is plain enough, and eleven columns must fit


def _value(value, unit: str) -> str:
    if value is None:
        return MISSING
    return f"{value:.1f}%" if unit == "%" else f"{value:,.0f} {unit}"


def _change(value) -> str:
    # the report prints a rate's change in points with a % too ("( +1.1% )"); so does this
    return MISSING if value is None else f"({value:+.1f}%)"


def report_table(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows of national_pension_coverage_and_collection (or one prefecture's) as the printed table:
    text, a value row and a change row per item, one column per date in the frame's order."""
    columns = [column_label(r["as_of"], r["period"], r["fiscal_year"]) for r in rows.iter_rows(named=True)]
    lines = []
    for item in ITEMS:
        lines.append([item.ja, *(_value(v, item.unit) for v in rows[item.value].to_list())])
        lines.append([f"（{item.change_ja}）", *(_change(v) for v in rows[item.change].to_list())])
    return pl.DataFrame(lines, schema=[ITEM_COLUMN, *columns], orient="row")


def three_rates(rows: pl.DataFrame) -> pl.DataFrame:
    """The final, past-year and current-year rates of each fiscal year end, long, for a chart."""
    return (
        rows.filter(pl.col("period") == "fiscal_year_end")
        .unpivot(
            index="fiscal_year",
            on=["final_rate_percent", "past_year_rate_percent", "current_year_rate_percent"],
            variable_name="rate",
            value_name="percent",
        )
        .with_columns(
            pl.col("rate").replace_strict(
                {
                    "final_rate_percent": "最終納付率",
                    "past_year_rate_percent": "過年度１年目",
                    "current_year_rate_percent": "現年度納付率",
                }
            )
        )
    )
