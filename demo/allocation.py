"""Integer allocation helpers shared by the demo generators.

Calibrated generators must hit published totals exactly, so every split of a total into
parts uses cumulative rounding: part_k = round(n * W_k / W) - round(n * W_{k-1} / W),
which always sums to n and never deviates from the exact share by a whole unit.
"""

from __future__ import annotations

import math

import polars as pl


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (cumulative rounding)."""
    weight_sum = float(sum(weights))
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    parts, cumulative, previous = [], 0.0, 0
    for w in weights:
        cumulative += w
        current = round_half_up(total * cumulative / weight_sum)
        parts.append(current - previous)
        previous = current
    parts[-1] += total - previous  # float drift guard; zero in practice
    return parts


def allocate_expr(total: pl.Expr, weight: pl.Expr, over: list[str], order: str) -> pl.Expr:
    """Vectorised ``allocate`` for polars: split ``total`` (constant per group) over the rows of each group."""
    share = weight.cum_sum().over(over, order_by=order) / weight.sum().over(over)
    cumulative = (total * share + 0.5).floor().fill_nan(0)
    return (cumulative - cumulative.shift(1, fill_value=0).over(over, order_by=order)).cast(pl.Int64)


def rate_rounds_to(numerator: int, denominator: int, published_percent: float, decimals: int) -> bool:
    """True when numerator/denominator, in percent, rounds to the published value."""
    if denominator == 0:
        return False
    return abs(100.0 * numerator / denominator - published_percent) <= 0.5 * 10 ** (-decimals) + 1e-9
