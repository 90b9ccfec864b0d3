"""The arithmetic of DOMAIN.md's measures: periods, rates, change, the floor. Pure Python.

The counts come from the database (hotline/reports/measures.py); what is computed from them,
and over which days, is decided here, once, for every report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

#: A rate and the two counts it divides: the one definition of each rate.
RATES: dict[str, tuple[str, str]] = {
    "direct_rate": ("direct", "intake"),                           # 直办率: answered on the spot / intake
    "on_time_sign_rate": ("signed_on_time", "dispatched"),         # 签收及时率
    "on_time_completion_rate": ("replied_on_time", "due"),         # 按时办结率
    "response_rate": ("contacted", "dispatched"),                  # 响应率
    "return_rate": ("returns", "dispatched"),                      # 退单率
    "resolution_rate": ("resolved", "rated"),                      # 解决率 (unreachable visits say nothing)
    "satisfaction_rate": ("satisfied", "rated"),                   # 满意率
    "reopen_rate": ("reopened", "visits"),                         # 重办率
}
#: The rates a department is assessed on; those under the floor are named.
ASSESSED = ("on_time_sign_rate", "on_time_completion_rate", "satisfaction_rate")

KINDS = ("week", "month", "quarter", "custom")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator rounded to 4 places; None where nothing was counted."""
    return round((numerator or 0) / denominator, 4) if denominator else None


def with_rates(counts: dict) -> dict:
    """The counts with every rate of RATES whose counts are present."""
    out = dict(counts)
    for name, (num, den) in RATES.items():
        if num in counts and den in counts:
            out[name] = rate(counts[num], counts[den])
    return out


def change(current: float | int | None, previous: float | int | None) -> dict | None:
    """current against previous: the difference and, for counts, the relative change.

    The difference of two rates is in points (0.9 -> 0.85 is -0.05); `relative` is None when the
    previous value is 0 or missing (no growth rate from nothing)."""
    if current is None or previous is None:
        return None
    diff = current - previous
    relative = round(diff / previous, 4) if previous else None
    return {"previous": previous, "diff": round(diff, 4) if isinstance(diff, float) else diff,
            "relative": relative}


def below_floor(value: float | None, floor: float) -> bool:
    """A rate under the floor; no rate (nothing to measure) is never below it."""
    return value is not None and value < floor


def shortfalls(row: dict, floor: float) -> list[str]:
    """The assessed rates of a row that are under the floor."""
    return [name for name in ASSESSED if below_floor(row.get(name), floor)]


@dataclass(frozen=True)
class Period:
    """Local days start..end (both included); `kind` says what calendar unit it is."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        """A stable name of the unit (2026-W24, 2026-06, 2026-Q2) or the range."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def previous(self) -> "Period":
        """The period compared against: the unit before (week, month, quarter), as many days into it
        as this one runs when this one stops short of its end (month to date against the same days
        of the month before); for a custom range, the same number of days just before it."""
        if self.kind == "custom":
            return Period("custom", self.start - timedelta(days=self.days), self.start - timedelta(days=1))
        start = unit_start(self.kind, self.start - timedelta(days=1))
        full_end = unit_end(self.kind, start)
        return Period(self.kind, start, min(full_end, start + (self.end - self.start)))

    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def unit_start(kind: str, day: date) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise ValueError(kind)


def unit_end(kind: str, start: date) -> date:
    if kind == "week":
        return start + timedelta(days=6)
    months = 1 if kind == "month" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1) - timedelta(days=1)


def unit(kind: str, value: str, *, today: date) -> Period:
    """The week (2026-W24), month (2026-06) or quarter (2026-Q2) named by `value`, cut at `today`
    when it is still running. Raises ValueError for a value that names none, or one in the future."""
    if kind == "week":
        m = _WEEK.match(value)
        if not m:
            raise ValueError(value)
        start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
    elif kind == "month":
        m = _MONTH.match(value)
        if not m:
            raise ValueError(value)
        start = date(int(m[1]), int(m[2]), 1)
    elif kind == "quarter":
        m = _QUARTER.match(value)
        if not m:
            raise ValueError(value)
        start = date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
    else:
        raise ValueError(kind)
    if start > today:
        raise ValueError(value)
    return Period(kind, start, min(unit_end(kind, start), today))


def current(kind: str, today: date) -> Period:
    """The week, month or quarter that `today` is in, up to today."""
    return Period(kind, unit_start(kind, today), today)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def fold_weeks(days: list[tuple[date, dict]]) -> list[tuple[str, dict]]:
    """Daily counts summed into ISO weeks, in order (the weekly trend from the daily one)."""
    out: dict[str, dict] = {}
    for day, counts in days:
        week = out.setdefault(iso_week(day), {})
        for name, value in counts.items():
            week[name] = week.get(name, 0) + (value or 0)
    return list(out.items())
