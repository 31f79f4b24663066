"""The collection actions and the contractor's reports: the generator hits the action plan table at
every scale, and the extracts' codes are the seeds' (declared in the spec, named in the seed)."""

from __future__ import annotations

import csv

import pytest

from config.layout import seed_csv
from demo.allocation import round_half_up
from demo.national_pension.collection import MONTH_WEIGHTS, Figures, _month, monthly_actions
from ingest.specs import (
    COLLECTION_ACTION_CODES,
    CONTRACTOR_ACTIVITY_CODES,
    DUE_STATUS_CODES,
    PAYMENT_CHANNEL_CODES,
    PREMIUM_STATUS_CODES,
)


def _seed_codes(seed: str, column: str) -> tuple[str, ...]:
    with seed_csv(seed).open(encoding="utf-8") as f:
        return tuple(row[column] for row in csv.DictReader(f))


@pytest.mark.parametrize(
    ("codes", "seed", "column"),
    [
        (COLLECTION_ACTION_CODES, "np_collection_action_types", "action_code"),
        (CONTRACTOR_ACTIVITY_CODES, "np_contractor_activities", "activity_code"),
        (PREMIUM_STATUS_CODES, "np_premium_statuses", "status_code"),
        (PAYMENT_CHANNEL_CODES, "np_payment_channels", "channel_code"),
    ],
)
def test_the_extracts_codes_are_the_seeds(codes, seed, column):
    assert codes == _seed_codes(seed, column)


def test_the_due_statuses_are_the_seeds():
    with seed_csv("np_premium_statuses").open(encoding="utf-8") as f:
        due = tuple(row["status_code"] for row in csv.DictReader(f) if row["is_due"] == "true")
    assert due == DUE_STATUS_CODES


def test_the_generator_spreads_every_action_of_the_spec():
    assert tuple(MONTH_WEIGHTS) == COLLECTION_ACTION_CODES


def _half(actions: dict, fiscal_year: int, first: int, code: str) -> int:
    return sum(actions[(_month(fiscal_year, first + k), code)] for k in range(6))


@pytest.mark.parametrize("scale", [0.002, 0.01, 0.1, 1.0])
def test_the_generated_actions_are_the_published_counts_at_every_scale(scale):
    figures = Figures.load()
    actions = monthly_actions(figures, scale)
    assert len(actions) == 18 * len(COLLECTION_ACTION_CODES)  # April 2019 to September 2020, every action
    for code in COLLECTION_ACTION_CODES:

        def published(fiscal_year: int, months: str, code: str = code) -> int:
            return round_half_up(figures.value("office_action", code, fiscal_year, months, "actions") * scale)

        assert _half(actions, 2019, 0, code) == published(2019, "H1")
        assert _half(actions, 2019, 0, code) + _half(actions, 2019, 6, code) == published(2019, "FY")
        assert _half(actions, 2020, 0, code) == published(2020, "H1")
        if scale == 1.0:  # at national scale the ratio is the report's, to its printed precision
            [printed] = figures.frame.filter(figures.frame["figure_id"] == f"np_actions_fy2020_h1_{code}_ratio")[
                "published_value"
            ].to_list()
            ratio = 100 * _half(actions, 2020, 0, code) / _half(actions, 2019, 0, code)
            assert abs(ratio - printed) <= 0.05, (code, ratio, printed)
