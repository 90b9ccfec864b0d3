"""Deadline rules: Chinese working-day calendar, SLA due times and SLA states.

Pure Python on plain data (no Flask, no database), so the calendar can be fed
from the application's calendar table, from `chinesecalendar`, or from tests.

All datetimes passed in must be timezone-aware; all datetimes returned are in
UTC. Working-day arithmetic is done in the local time zone (`tz`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TZ",
    "CalendarMissing",
    "WorkCalendar",
    "official_calendar",
    "official_holiday_names",
    "weekday_calendar",
    "MAKEUP_WORKDAY",
    "Unit",
    "Rule",
    "add_working_days",
    "working_days_before",
    "due_at",
    "GREEN",
    "YELLOW",
    "RED",
    "sla_state",
    "STEPS",
    "URGENCIES",
    "TICKET_TYPES",
    "PolicyRow",
    "PolicyMissing",
    "DEFAULT_POLICIES",
    "pick_rule",
]

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
END_OF_DAY = time(23, 59, 59)
MAKEUP_WORKDAY = "make-up working day"


# --------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------


class CalendarMissing(LookupError):
    """The working-day calendar has no data for `year`."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"No working-day calendar for {year}: import it with "
            f"`hotline calendar import {year}` or enter it under "
            f"Administration → Calendar."
        )

    def __reduce__(self):  # keep picklable (e.g. across Celery workers)
        return (type(self), (self.year,))


class WorkCalendar:
    """Working days of a set of known years.

    `days` maps a date to True (working day) or False (day off). A date of a
    known year that is missing from `days` is a working day iff Mon–Fri.
    Asking about a year outside `known_years` raises `CalendarMissing`.
    """

    def __init__(self, days: Mapping[date, bool], known_years: Iterable[int]) -> None:
        self._days: dict[date, bool] = {d: bool(v) for d, v in days.items()}
        self.known_years: frozenset[int] = frozenset(int(y) for y in known_years)
        #: year -> working days from its 1 January to each of its days, inclusive (built when first asked)
        self._running: dict[int, list[int]] = {}

    def __repr__(self) -> str:
        return f"WorkCalendar(known_years={sorted(self.known_years)!r})"

    def is_workday(self, d: date) -> bool:
        """Whether `d` is a working day."""
        if isinstance(d, datetime):
            d = d.date()
        if d.year not in self.known_years:
            raise CalendarMissing(d.year)
        found = self._days.get(d)
        return d.weekday() < 5 if found is None else found

    def next_workday(self, d: date) -> date:
        """The first working day strictly after `d`."""
        if isinstance(d, datetime):
            d = d.date()
        d += timedelta(days=1)
        # Terminates: at the latest it reaches an unknown year and raises.
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before `d`."""
        if isinstance(d, datetime):
            d = d.date()
        d -= timedelta(days=1)
        # Terminates: at the latest it reaches an unknown year and raises.
        while not self.is_workday(d):
            d -= timedelta(days=1)
        return d

    def _running_count(self, year: int) -> list[int]:
        """Working days of `year` from 1 January to each day of it (index: day of the year - 1)."""
        running = self._running.get(year)
        if running is None:
            if year not in self.known_years:
                raise CalendarMissing(year)
            running, n = [], 0
            for d in _dates_of(year):
                n += self.is_workday(d)
                running.append(n)
            self._running[year] = running
        return running

    def workdays_between(self, start: date, end: date) -> int:
        """Number of working days in the interval (start, end]; 0 if end <= start. A difference of running
        counts per year, not a walk over the days: an order years overdue costs what one a day late does."""
        if isinstance(start, datetime):
            start = start.date()
        if isinstance(end, datetime):
            end = end.date()
        if end <= start:
            return 0
        first = start + timedelta(days=1)
        count = 0
        for year in range(first.year, end.year + 1):
            running = self._running_count(year)
            low = first.timetuple().tm_yday if year == first.year else 1
            high = end.timetuple().tm_yday if year == end.year else len(running)
            count += running[high - 1] - (running[low - 2] if low > 1 else 0)
        return count


def _dates_of(year: int) -> Iterable[date]:
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


def official_calendar(year: int) -> dict[date, bool]:
    """Every date of `year` -> is_workday, from the `chinesecalendar` package.

    Raises `CalendarMissing` when the package has no data for the year.
    """
    import chinese_calendar

    try:
        return {d: bool(chinese_calendar.is_workday(d)) for d in _dates_of(year)}
    except NotImplementedError:
        raise CalendarMissing(year) from None


def official_holiday_names(year: int) -> dict[date, str]:
    """Names of the special days of `year`, from `chinesecalendar`.

    Public holidays (days off) map to their English name, e.g. "National Day";
    make-up working weekends map to "make-up working day (National Day)".
    Ordinary weekdays and weekends are omitted.
    """
    import chinese_calendar

    names: dict[date, str] = {}
    try:
        for d in _dates_of(year):
            is_holiday, name = chinese_calendar.get_holiday_detail(d)
            label = getattr(name, "value", name)  # enum in some versions
            if is_holiday and label:
                names[d] = str(label)
            elif not is_holiday and d.weekday() >= 5:
                names[d] = f"{MAKEUP_WORKDAY} ({label})" if label else MAKEUP_WORKDAY
    except NotImplementedError:
        raise CalendarMissing(year) from None
    return names


def weekday_calendar(year: int) -> dict[date, bool]:
    """Provisional calendar for `year`: Monday–Friday work, weekends off."""
    return {d: d.weekday() < 5 for d in _dates_of(year)}


# --------------------------------------------------------------------------
# Rules and due times
# --------------------------------------------------------------------------


class Unit(str, Enum):
    """How a deadline is counted."""

    MINUTES = "minutes"
    WORKING_DAYS = "working_days"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Rule:
    """A deadline length: `amount` of `unit` (clock minutes or working days)."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", Unit(self.unit))  # accept plain strings
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Rule amount must be an int, got {self.amount!r}")
        if self.amount < 0:
            raise ValueError(f"Rule amount must be >= 0, got {self.amount}")

    @classmethod
    def minutes(cls, n: int) -> Rule:
        """`n` minutes of clock time."""
        return cls(n, Unit.MINUTES)

    @classmethod
    def hours(cls, n: int) -> Rule:
        """`n` hours of clock time (stored as minutes)."""
        return cls(n * 60, Unit.MINUTES)

    @classmethod
    def working_days(cls, n: int) -> Rule:
        """`n` working days."""
        return cls(n, Unit.WORKING_DAYS)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def add_working_days(
    start: datetime, n: int, cal: WorkCalendar, tz: ZoneInfo = DEFAULT_TZ
) -> datetime:
    """`start` plus `n` working days, in UTC.

    On a working day the result is the same local clock time (to the second)
    on the n-th working day after start's date. On a day off, the next working
    day counts as day 1 and the result is 23:59:59 local on the n-th working
    day. `n == 0` returns `start` unchanged.
    """
    _require_aware("start", start)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return start.astimezone(UTC)
    local = start.astimezone(tz)
    day = local.date()
    if cal.is_workday(day):
        # Whole seconds, so a start at 23:59:59.5 is never due after a
        # later day-off start (which is due at 23:59:59 sharp).
        clock = local.time().replace(microsecond=0)
    else:
        clock = END_OF_DAY
    for _ in range(n):
        day = cal.next_workday(day)
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def working_days_before(
    end: datetime, n: int, cal: WorkCalendar, tz: ZoneInfo = DEFAULT_TZ
) -> datetime:
    """`add_working_days` run backwards: the moment before which `start` must lie to be
    `n` working days or more before `end`, in UTC.

    Exactly: `add_working_days(start, n) <= end` if and only if `start < result`.
    On a working day the result is one second past end's clock time (to the
    second) on the n-th working day before end's date; an end on a day off, or
    in the last second of a working day, counts as the close of that working
    day (or the last one before it), and the result is the midnight that starts
    the working day after the n-th before it. `n` is at least 1.
    """
    _require_aware("end", end)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    local = end.astimezone(tz)
    day = local.date()
    clock = local.time().replace(microsecond=0)
    if not cal.is_workday(day):
        day, clock = cal.previous_workday(day), END_OF_DAY
    for _ in range(n):
        day = cal.previous_workday(day)
    if clock >= END_OF_DAY:
        return datetime.combine(cal.next_workday(day), time(0), tzinfo=tz).astimezone(UTC)
    return (datetime.combine(day, clock, tzinfo=tz) + timedelta(seconds=1)).astimezone(UTC)


def due_at(
    start: datetime, rule: Rule, cal: WorkCalendar, tz: ZoneInfo = DEFAULT_TZ
) -> datetime:
    """Due time, in UTC, of a step started at `start` under `rule`.

    Clock-time rules ignore the calendar (nights and holidays count).
    """
    _require_aware("start", start)
    if rule.unit is Unit.MINUTES:
        return start.astimezone(UTC) + timedelta(minutes=rule.amount)
    return add_working_days(start, rule.amount, cal, tz)


@dataclass(frozen=True)
class TimeLeft:
    """The time to a deadline (or past it) as people count it: `n` `what`, where `what` is
    minutes, hours, working_days (a working-day deadline) or days (calendar days)."""

    n: int
    what: str
    overdue: bool


def time_left(due: datetime, now: datetime, unit: Unit | None, cal: WorkCalendar,
              tz: ZoneInfo = DEFAULT_TZ) -> TimeLeft:
    """How long until `due`, or how long past it, counted the way its rule counts.

    Under an hour: minutes; under a day: hours. Beyond that a working-day deadline counts the
    working days between the two dates (Friday to Monday is one), a clock-time one (or one whose
    rule is not known, `unit` None) calendar days. A span of a day or more holding no working day
    (a weekend) is told in hours; a year the calendar does not know, in calendar days.
    """
    _require_aware("due", due)
    _require_aware("now", now)
    seconds = (due - now).total_seconds()
    overdue = seconds < 0
    span = abs(seconds)
    if span < 3600:
        return TimeLeft(max(1, int(span // 60)), "minutes", overdue)
    if span < 86400:
        return TimeLeft(int(span // 3600), "hours", overdue)
    if unit is Unit.WORKING_DAYS:
        early, late = sorted((now, due))
        try:
            n = cal.workdays_between(early.astimezone(tz).date(), late.astimezone(tz).date())
        except CalendarMissing:
            return TimeLeft(int(span // 86400), "days", overdue)
        return TimeLeft(n, "working_days", overdue) if n else TimeLeft(int(span // 3600), "hours", overdue)
    return TimeLeft(int(span // 86400), "days", overdue)


GREEN = "green"
YELLOW = "yellow"
RED = "red"


def sla_state(
    start: datetime,
    due: datetime | None,
    now: datetime,
    done_at: datetime | None = None,
    yellow_ratio: float = 0.75,
) -> str:
    """SLA colour ("green", "yellow" or "red") of a step started at `start`, due at `due`.

    The reference time is `done_at` if given, else `now`. Red when it is after
    `due`; yellow when at least `yellow_ratio` of the allowed time has elapsed;
    green otherwise, and always green when there is no due time.
    """
    if not 0.0 <= yellow_ratio <= 1.0:
        raise ValueError(f"yellow_ratio must be within [0, 1], got {yellow_ratio}")
    if due is None:
        return GREEN
    ref = done_at if done_at is not None else now
    for name, value in (("start", start), ("due", due), ("reference time", ref)):
        _require_aware(name, value)
    if ref > due:
        return RED
    if ref - start >= (due - start) * yellow_ratio:
        return YELLOW
    return GREEN


# --------------------------------------------------------------------------
# SLA policy table
# --------------------------------------------------------------------------

#: "urge" and "escalate" are how long after an overdue reply the order is urged and escalated
#: (workflows/escalation.py), edited beside the deadlines themselves.
STEPS = ("sign", "reply", "return_window", "extension_max", "visit", "urge", "escalate")
URGENCIES = ("urgent", "utilities", "general")
TICKET_TYPES = ("consultation", "help", "complaint", "report", "suggestion", "praise", "repair")


@dataclass(frozen=True)
class PolicyRow:
    """One SLA policy: the `rule` for `step`; None urgency/ticket_type = any."""

    step: str
    urgency: str | None
    ticket_type: str | None
    rule: Rule

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise ValueError(f"Unknown SLA step {self.step!r}; expected one of {STEPS}")
        if self.urgency is not None and self.urgency not in URGENCIES:
            raise ValueError(
                f"Unknown urgency {self.urgency!r}; expected one of {URGENCIES} or None"
            )

    @property
    def specificity(self) -> int:
        """3 = type+urgency, 2 = urgency, 1 = type, 0 = any."""
        return 2 * (self.urgency is not None) + (self.ticket_type is not None)

    def matches(self, step: str, urgency: str | None, ticket_type: str | None) -> bool:
        """Whether this row applies to the given step, urgency and ticket type."""
        return (
            self.step == step
            and (self.urgency is None or self.urgency == urgency)
            and (self.ticket_type is None or self.ticket_type == ticket_type)
        )


class PolicyMissing(KeyError):
    """No SLA policy row matches; a KeyError with a readable message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _default_policies() -> list[PolicyRow]:
    wd, hours, minutes = Rule.working_days, Rule.hours, Rule.minutes
    reply_days = {
        "consultation": 3,
        "help": 5,
        "complaint": 5,
        "report": 13,
        "suggestion": 13,
        "praise": 3,
    }
    return [
        PolicyRow("sign", "urgent", None, minutes(15)),
        PolicyRow("sign", "utilities", None, minutes(30)),
        PolicyRow("sign", "general", None, wd(1)),
        PolicyRow("reply", "urgent", None, hours(2)),
        PolicyRow("reply", "utilities", None, hours(24)),
        # general cases of a type without its own row (e.g. repair requests)
        PolicyRow("reply", "general", None, wd(5)),
        *(PolicyRow("reply", "general", t, wd(n)) for t, n in reply_days.items()),
        # urgent and utilities cases have neither a return window nor extensions (DOMAIN.md: "—")
        PolicyRow("return_window", "general", None, wd(2)),
        PolicyRow("extension_max", "general", None, wd(10)),
        PolicyRow("visit", None, None, wd(1)),
        # chasing an overdue reply: urged the day after, escalated 5 working days past it;
        # clock-time orders at once and within hours
        PolicyRow("urge", "urgent", None, minutes(0)),
        PolicyRow("urge", "utilities", None, minutes(0)),
        PolicyRow("urge", "general", None, wd(1)),
        PolicyRow("escalate", "urgent", None, hours(1)),
        PolicyRow("escalate", "utilities", None, hours(4)),
        PolicyRow("escalate", "general", None, wd(5)),
    ]


DEFAULT_POLICIES: list[PolicyRow] = _default_policies()


def pick_rule(
    rows: Iterable[PolicyRow],
    step: str,
    urgency: str | None,
    ticket_type: str | None,
) -> Rule:
    """The rule of the most specific matching row.

    Specificity: type+urgency > urgency > type > any; ties go to the earliest
    row. Raises `PolicyMissing` (a KeyError) when no row matches.
    """
    best: PolicyRow | None = None
    for row in rows:
        if row.matches(step, urgency, ticket_type) and (
            best is None or row.specificity > best.specificity
        ):
            best = row
    if best is None:
        raise PolicyMissing(
            f"No SLA policy for step={step!r}, urgency={urgency!r}, "
            f"ticket_type={ticket_type!r}"
        )
    return best.rule
