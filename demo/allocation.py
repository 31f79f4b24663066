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


def solve_windows(
    windows: dict,
    differences: list[tuple],
    slack: float,
    rounds: int = 500,
) -> dict:
    """Values inside every window and every difference's window, kept ``slack`` of each half-width clear of its edges.

    ``windows`` maps a key to (lo, hi); ``differences`` are (a, b, lo, hi): lo <= x[a] - x[b] <= hi.
    A key that only a difference names starts from the other side's value. Alternating
    projection onto the narrowed windows (a few dozen values: the report's printed rates and
    the points between them); raises when it leaves any of them unmet.
    """

    def narrowed(lo: float, hi: float) -> tuple[float, float]:
        middle, half = (lo + hi) / 2, (hi - lo) / 2 * (1 - slack)
        return middle - half, middle + half

    x = {key: (lo + hi) / 2 for key, (lo, hi) in windows.items()}
    while missing := [d for d in differences if (d[0] in x) != (d[1] in x)]:
        for a, b, lo, hi in missing:
            if a in x:
                x[b] = x[a] - (lo + hi) / 2
            else:
                x[a] = x[b] + (lo + hi) / 2
    for _ in range(rounds):
        moved = 0.0
        for a, b, lo, hi in differences:
            low, high = narrowed(lo, hi)
            gap = x[a] - x[b]
            shift = low - gap if gap < low else high - gap if gap > high else 0.0
            x[a] += shift / 2
            x[b] -= shift / 2
            moved = max(moved, abs(shift))
        for key, (lo, hi) in windows.items():
            low, high = narrowed(lo, hi)
            clamped = min(max(x[key], low), high)
            moved = max(moved, abs(clamped - x[key]))
            x[key] = clamped
        if moved < 1e-12:
            break
    unmet = [key for key, (lo, hi) in windows.items() if not lo < x[key] < hi] + [
        (a, b) for a, b, lo, hi in differences if not lo < x[a] - x[b] < hi
    ]
    if unmet:
        raise ValueError(f"no values meet every published window: {unmet}")
    return x
