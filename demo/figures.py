"""The report's published figures, which the generators calibrate to: the dbt seeds the reconciliation reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl

from config.layout import SEEDS_DIR, seed_csv

# Each seed's breakdown column: a code read as text, empty for the national total.
BREAKDOWN = {
    "published_call_center_figures": "dial_code",
    "published_np_payment_figures": "prefecture_code",
    "published_np_collection_figures": "code",
    "published_employer_figures": "insurance_name_ja",
}


def published_figures(seed: str, seeds_dir: Path = SEEDS_DIR) -> pl.DataFrame:
    """A published-figures seed: dates parsed, values as floats, the breakdown as text ('' for the total)."""
    breakdown = BREAKDOWN[seed]
    return pl.read_csv(
        seed_csv(seed, seeds_dir),
        schema_overrides={breakdown: pl.Utf8, "published_value": pl.Float64},
        try_parse_dates=True,
    ).with_columns(pl.col(breakdown).fill_null(""))


@dataclass(frozen=True)
class PublishedFigures:
    """One source's published figures; each generator's ``Figures`` names its seed and adds its lookups."""

    frame: pl.DataFrame
    SEED: ClassVar[str]

    @classmethod
    def load(cls, seeds_dir: Path = SEEDS_DIR):
        return cls(published_figures(cls.SEED, seeds_dir))
