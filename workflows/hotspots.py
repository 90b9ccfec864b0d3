"""Hotspots (热点): a category or an area whose intake in a period jumps against its own history.

The test, one for every report: **a one-sided Poisson test**. Over its history (by default the
8 weeks before the period; the bulletin of a month looks at the 6 months before) each
candidate received orders at a steady daily rate; the period's expected count is

    expected = max(history count / history days × period days, MIN_EXPECTED)

and the period's count `k` is a hotspot when

    k >= MIN_COUNT   and   p = P(X >= k | X ~ Poisson(expected)) < ALPHA.

- The floor on `expected` (MIN_EXPECTED) keeps something never seen before from being a
  hotspot at its first order: with no history at all it takes MIN_COUNT orders in a week
  (P(X >= 5 | 0.5) = 0.00017).
- MIN_COUNT keeps tiny counts (2 against 0.1) out: they may be unlikely, but nobody acts on them.
- The period may be cut short (the week so far): `expected` is scaled to its days, so Tuesday's
  two days are compared with two days' worth of history.
- Poisson assumes the days are alike and independent; real intake is over-dispersed (weekday
  swings, one event calling many people), so ALPHA is strict (0.01) and the p-value and the
  ratio are shown beside each hotspot for a person to judge. Many candidates are tested at once:
  at ALPHA = 0.01 about one in a hundred steady candidates is flagged by chance; MIN_COUNT
  removes most of those.

Pure Python: the counts come from hotline/reports/hotspots.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: Weeks of history a week is compared with; months of history a month is compared with.
HISTORY_WEEKS = 8
HISTORY_MONTHS = 6
#: A hotspot has at least this many orders in the period ...
MIN_COUNT = 5
#: ... and a one-sided Poisson p-value under this.
ALPHA = 0.01
#: The expected count is never taken as less than this (nothing seen before is not "infinitely" new).
MIN_EXPECTED = 0.5


def poisson_upper_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean): 1 when k <= 0.

    Summed from the terms themselves: the upper terms when k is past the mean (no cancellation in
    1 - small), else one minus the lower ones. Only the first term is computed in log space (a mean
    in the thousands does not underflow); each next one is its neighbour times mean / i or i / mean,
    the terms shrinking away from the mean, until they no longer change the sum."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k > mean:  # P(X >= k): k, k + 1, ... each mean / (i + 1) times the one before
        i = k
        term = math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1))
        total = 0.0
        while term > 0.0:
            total += term
            if term < total * 1e-16:
                break
            i += 1
            term *= mean / i
        return min(1.0, total)
    # 1 - P(X < k): k - 1, k - 2, ..., 0 each i / mean times the one after
    i = k - 1
    term = math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1))
    total = 0.0
    while term > 0.0:
        total += term
        if i == 0 or term < total * 1e-16:
            break
        term *= i / mean
        i -= 1
    return max(0.0, 1.0 - total)


@dataclass(frozen=True)
class Result:
    count: int
    expected: float
    p_value: float
    is_hotspot: bool

    @property
    def ratio(self) -> float:
        """How many times the expected count the period received."""
        return round(self.count / self.expected, 2)


def expected_count(history_count: int, history_days: int, days: int) -> float:
    """The count a period of `days` days expects from its history's daily rate (MIN_EXPECTED at least)."""
    rate = history_count / history_days if history_days > 0 else 0.0
    return max(rate * days, MIN_EXPECTED)


def judge(count: int, history_count: int, history_days: int, days: int, *,
         min_count: int = MIN_COUNT, alpha: float = ALPHA) -> Result | None:
    """The test above for one candidate; None when there is no history to compare with."""
    if history_days <= 0 or days <= 0:
        return None
    expected = expected_count(history_count, history_days, days)
    p = poisson_upper_tail(count, expected)
    return Result(count, round(expected, 2), p, count >= min_count and p < alpha)


def hotspots(current: dict, history: dict, history_days: int, days: int, **limits) -> list[tuple[object, Result]]:
    """(key, result) of every key of `current` that is a hotspot, most significant first.

    `current` and `history` map a candidate's key to its count in the period and in its history."""
    found = []
    for key, count in current.items():
        result = judge(count, history.get(key, 0), history_days, days, **limits)
        if result is not None and result.is_hotspot:
            found.append((key, result))
    return sorted(found, key=lambda kr: (kr[1].p_value, -kr[1].count))
