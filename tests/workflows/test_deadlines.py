"""Tests for workflows.deadlines: working days, due times, SLA states, policies."""
from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


from workflows.deadlines import (  # noqa: E402
    DEFAULT_POLICIES,
    CalendarMissing,
    PolicyRow,
    TimeLeft,
    Rule,
    Unit,
    WorkCalendar,
    add_working_days,
    due_at,
    official_calendar,
    official_holiday_names,
    pick_rule,
    sla_state,
    time_left,
    weekday_calendar,
    working_days_before,
)

TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
YEARS = (2024, 2025, 2026)


def _build_calendar() -> WorkCalendar:
    days: dict[date, bool] = {}
    for year in YEARS:
        days.update(official_calendar(year))
    return WorkCalendar(days, YEARS)


CAL = _build_calendar()

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def local(*args: int) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(*args, tzinfo=TZ)


# --------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------


def test_official_calendar_national_day_2025():
    cal = official_calendar(2025)
    assert len(cal) == 365
    assert cal[date(2025, 9, 28)] is True  # Sunday, make-up working day
    assert cal[date(2025, 9, 27)] is False  # ordinary Saturday
    for day in range(1, 9):
        assert cal[date(2025, 10, day)] is False
    assert cal[date(2025, 10, 9)] is True
    assert cal[date(2025, 10, 11)] is True  # Saturday, make-up working day
    assert cal[date(2025, 10, 12)] is False


def test_work_calendar_uses_make_up_days():
    assert CAL.is_workday(date(2025, 9, 28))
    assert CAL.is_workday(date(2025, 10, 11))
    assert not CAL.is_workday(date(2025, 10, 1))
    assert not CAL.is_workday(date(2025, 10, 8))
    assert CAL.next_workday(date(2025, 9, 26)) == date(2025, 9, 28)
    assert CAL.next_workday(date(2025, 9, 30)) == date(2025, 10, 9)
    assert CAL.next_workday(date(2025, 10, 10)) == date(2025, 10, 11)
    assert CAL.next_workday(date(2025, 10, 11)) == date(2025, 10, 13)


def test_workdays_between():
    # (2025-09-26, 2025-10-13]: 28, 29, 30, 9, 10, 11, 13
    assert CAL.workdays_between(date(2025, 9, 26), date(2025, 10, 13)) == 7
    assert CAL.workdays_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert CAL.workdays_between(date(2025, 10, 13), date(2025, 10, 13)) == 0
    assert CAL.workdays_between(date(2025, 10, 13), date(2025, 10, 1)) == 0


@FAST
@given(st.dates(date(2024, 1, 1), date(2026, 12, 31)), st.dates(date(2024, 1, 1), date(2026, 12, 31)))
def test_workdays_between_counts_each_working_day_once_across_years(start, end):
    """Counted from running totals per year (an order years overdue costs what one a day late does): the
    same as asking each day of (start, end] in turn."""
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert CAL.workdays_between(start, end) == sum(CAL.is_workday(d) for d in days)


def test_workdays_between_needs_every_year_it_crosses():
    # (2024-12-31, 2026-12-31]: the whole of 2025 and of 2026
    assert CAL.workdays_between(date(2024, 12, 31), date(2026, 12, 31)) == (
        sum(official_calendar(2025).values()) + sum(official_calendar(2026).values()))
    with pytest.raises(CalendarMissing) as missing:
        CAL.workdays_between(date(2026, 12, 30), date(2027, 1, 4))
    assert missing.value.year == 2027
    with pytest.raises(CalendarMissing) as missing:
        CAL.workdays_between(date(2023, 12, 30), date(2024, 1, 3))
    assert missing.value.year == 2023
    assert CAL.workdays_between(date(2023, 12, 31), date(2024, 1, 3)) == 2     # (12-31, 01-03]: 2 and 3 January


def test_missing_date_of_known_year_defaults_to_weekdays():
    cal = WorkCalendar({date(2025, 10, 1): False}, [2025])
    assert not cal.is_workday(date(2025, 10, 1))  # Wednesday, listed as off
    assert cal.is_workday(date(2025, 10, 2))  # Thursday, not listed
    assert not cal.is_workday(date(2025, 10, 4))  # Saturday, not listed
    assert cal.known_years == frozenset({2025})


def test_unknown_year_raises_calendar_missing():
    with pytest.raises(CalendarMissing) as info:
        CAL.is_workday(date(2027, 1, 4))
    err = info.value
    assert isinstance(err, LookupError)
    assert err.year == 2027
    assert str(err) == (
        "No working-day calendar for 2027: import it with "
        "`hotline calendar import 2027` or enter it under Administration → Calendar."
    )
    restored = pickle.loads(pickle.dumps(err))
    assert restored.year == 2027 and str(restored) == str(err)


def test_crossing_into_unknown_year_raises():
    with pytest.raises(CalendarMissing, match="2027"):
        add_working_days(local(2026, 12, 31, 10), 1, CAL, TZ)
    with pytest.raises(CalendarMissing, match="2023"):
        due_at(local(2023, 12, 29, 10), Rule.working_days(1), CAL, TZ)


def test_official_calendar_unknown_year():
    with pytest.raises(CalendarMissing) as info:
        official_calendar(2099)
    assert info.value.year == 2099
    assert "2099" in str(info.value)


def test_official_holiday_names():
    names = official_holiday_names(2025)
    assert names[date(2025, 10, 1)] == "National Day"
    assert names[date(2025, 10, 6)] == "Mid-autumn Festival"
    assert "make-up working day" in names[date(2025, 9, 28)]
    assert "make-up working day" in names[date(2025, 10, 11)]
    assert date(2025, 9, 27) not in names  # ordinary weekend
    assert date(2025, 9, 29) not in names  # ordinary weekday


def test_weekday_calendar():
    cal = weekday_calendar(2027)
    assert len(cal) == 365
    assert all(v == (d.weekday() < 5) for d, v in cal.items())
    assert sum(cal.values()) == 261
    assert len(weekday_calendar(2028)) == 366
    provisional = WorkCalendar(cal, [2027])
    assert provisional.next_workday(date(2027, 1, 1)) == date(2027, 1, 4)


# --------------------------------------------------------------------------
# Working-day and clock-time deadlines
# --------------------------------------------------------------------------


def test_friday_plus_one_is_monday_same_time():
    assert add_working_days(local(2025, 9, 19, 10), 1, CAL, TZ) == local(2025, 9, 22, 10)


def test_saturday_plus_one_is_end_of_monday():
    assert add_working_days(local(2025, 9, 20, 9), 1, CAL, TZ) == local(
        2025, 9, 22, 23, 59, 59
    )


def test_friday_before_make_up_sunday():
    # 2025-09-28 (Sunday) is a working day.
    assert add_working_days(local(2025, 9, 26, 10), 1, CAL, TZ) == local(2025, 9, 28, 10)
    assert add_working_days(local(2025, 9, 27, 10), 1, CAL, TZ) == local(
        2025, 9, 28, 23, 59, 59
    )


def test_across_national_day_holiday():
    assert add_working_days(local(2025, 9, 30, 10), 1, CAL, TZ) == local(2025, 10, 9, 10)
    assert add_working_days(local(2025, 9, 30, 10), 3, CAL, TZ) == local(2025, 10, 11, 10)
    assert add_working_days(local(2025, 9, 30, 10), 4, CAL, TZ) == local(2025, 10, 13, 10)


def test_start_inside_holiday():
    assert add_working_days(local(2025, 10, 3, 15), 1, CAL, TZ) == local(
        2025, 10, 9, 23, 59, 59
    )
    # 2025-10-11 is a make-up Saturday: day 3 counted from the 9th.
    assert add_working_days(local(2025, 10, 3, 15), 3, CAL, TZ) == local(
        2025, 10, 11, 23, 59, 59
    )


def test_start_on_make_up_saturday_is_a_working_day():
    assert add_working_days(local(2025, 10, 11, 14, 30), 1, CAL, TZ) == local(
        2025, 10, 13, 14, 30
    )


def test_sub_second_start_keeps_monotonicity():
    # Working-day results have whole-second resolution, so a Friday start just
    # before midnight is not due after a Saturday (day-off) start.
    friday = local(2025, 9, 26, 23, 59, 59).replace(microsecond=500_000)
    saturday = local(2025, 9, 27, 0, 0)
    assert add_working_days(friday, 1, CAL, TZ) == local(2025, 9, 28, 23, 59, 59)
    assert add_working_days(saturday, 1, CAL, TZ) == local(2025, 9, 28, 23, 59, 59)


def test_zero_days_returns_start():
    start = local(2025, 10, 2, 12)
    assert add_working_days(start, 0, CAL, TZ) == start
    assert due_at(start, Rule.working_days(0), CAL, TZ) == start


def test_results_are_utc_and_local_day_is_used():
    # 2025-09-30 20:00 UTC is 2025-10-01 04:00 in Shanghai: a holiday.
    due = add_working_days(datetime(2025, 9, 30, 20, tzinfo=UTC), 1, CAL, TZ)
    assert due.utcoffset() == timedelta(0)
    assert due == local(2025, 10, 9, 23, 59, 59)


def test_naive_and_negative_inputs_rejected():
    with pytest.raises(ValueError):
        add_working_days(datetime(2025, 9, 30, 10), 1, CAL, TZ)
    with pytest.raises(ValueError):
        add_working_days(local(2025, 9, 30, 10), -1, CAL, TZ)
    with pytest.raises(ValueError):
        Rule(-5, Unit.MINUTES)


def test_clock_time_across_midnight_and_holiday():
    urgent_sign = Rule.minutes(15)
    # 23:50 on National Day itself: due 00:05 the next (holiday) day.
    due = due_at(local(2025, 10, 1, 23, 50), urgent_sign, CAL, TZ)
    assert due == local(2025, 10, 2, 0, 5)
    assert due.tzinfo == UTC
    # 2 hours from 23:00 on the last working day before the holiday.
    assert due_at(local(2025, 9, 30, 23), Rule.hours(2), CAL, TZ) == local(2025, 10, 1, 1)
    # 24 hours from a make-up Saturday into Sunday off.
    assert due_at(local(2025, 10, 11, 9), Rule.hours(24), CAL, TZ) == local(2025, 10, 12, 9)


def test_clock_time_ignores_calendar_entirely():
    # Works even for a year the calendar does not know.
    assert due_at(local(2030, 1, 1, 23, 50), Rule.minutes(30), CAL, TZ) == local(
        2030, 1, 2, 0, 20
    )


def test_rule_accepts_plain_unit_string():
    rule = Rule(3, "working_days")
    assert rule.unit is Unit.WORKING_DAYS
    assert rule == Rule.working_days(3)
    assert Rule.hours(2) == Rule(120, Unit.MINUTES)


def test_extension_of_end_of_day_due():
    due = local(2025, 9, 30, 23, 59, 59)
    assert add_working_days(due, 1, CAL, TZ) == local(2025, 10, 9, 23, 59, 59)
    assert add_working_days(due, 10, CAL, TZ) == local(2025, 10, 21, 23, 59, 59)


# --------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2026, 10, 31, 23, 59, 59),
    timezones=st.just(TZ),
)
day_counts = st.integers(min_value=1, max_value=30)


def _local_date(dt: datetime) -> date:
    return dt.astimezone(TZ).date()


@FAST
@given(start=starts, n=day_counts)
def test_deadline_on_working_day_after_start(start: datetime, n: int):
    due = add_working_days(start, n, CAL, TZ)
    assert due > start
    assert CAL.is_workday(_local_date(due))
    assert CAL.workdays_between(_local_date(start), _local_date(due)) == n


@FAST
@given(a=starts, b=starts, n=day_counts)
def test_deadline_is_monotonic(a: datetime, b: datetime, n: int):
    a, b = sorted((a, b))
    assert add_working_days(a, n, CAL, TZ) <= add_working_days(b, n, CAL, TZ)


@FAST
@given(
    a=starts,
    delta=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    n=day_counts,
)
def test_deadline_is_monotonic_for_close_starts(a: datetime, delta: timedelta, n: int):
    b = (a.astimezone(UTC) + delta).astimezone(TZ)
    assert add_working_days(a, n, CAL, TZ) <= add_working_days(b, n, CAL, TZ)


@FAST
@given(start=starts, first=day_counts, extra=st.integers(min_value=0, max_value=10))
def test_extension_never_moves_backwards(start: datetime, first: int, extra: int):
    due = add_working_days(start, first, CAL, TZ)
    extended = add_working_days(due, extra, CAL, TZ)
    assert extended >= due
    assert CAL.is_workday(_local_date(extended))
    if extra:
        assert extended > due
        assert CAL.workdays_between(_local_date(due), _local_date(extended)) == extra


@FAST
@given(start=starts, minutes=st.integers(min_value=0, max_value=60 * 48))
def test_clock_time_is_exact(start: datetime, minutes: int):
    due = due_at(start, Rule.minutes(minutes), CAL, TZ)
    assert due - start == timedelta(minutes=minutes)


# --------------------------------------------------------------------------
# Working days backwards ("no progress for n working days")
# --------------------------------------------------------------------------


def test_three_working_days_before_a_monday_morning_is_the_wednesday():
    # 2026-06-15 is a Monday; the weekend before it does not count
    assert working_days_before(local(2026, 6, 15, 10), 3, CAL, TZ) == local(2026, 6, 10, 10, 0, 1)


def test_working_days_before_skips_national_day_and_counts_its_make_up_days():
    # 2025-10-09 (Thu) back 1: 10-01..08 are the holiday, 09-30 (Tue) is the working day before
    assert working_days_before(local(2025, 10, 9, 10), 1, CAL, TZ) == local(2025, 9, 30, 10, 0, 1)
    # 2025-10-13 (Mon) back 1: 10-11 is a make-up working Saturday
    assert working_days_before(local(2025, 10, 13, 9), 1, CAL, TZ) == local(2025, 10, 11, 9, 0, 1)


def test_an_end_on_a_day_off_counts_as_the_close_of_the_working_day_before():
    # Sunday 2026-06-14 back 1 -> everything before the start of Friday 06-12 (Thursday's close included)
    assert working_days_before(local(2026, 6, 14, 10), 1, CAL, TZ) == local(2026, 6, 12, 0, 0)


def test_working_days_before_rejects_naive_and_non_positive_inputs():
    with pytest.raises(ValueError):
        working_days_before(datetime(2025, 9, 30, 10), 1, CAL, TZ)
    with pytest.raises(ValueError):
        working_days_before(local(2025, 9, 30, 10), 0, CAL, TZ)


#: Ends late enough that ten working days back stay inside the known years.
ends = st.datetimes(min_value=datetime(2024, 3, 1), max_value=datetime(2026, 10, 31, 23, 59, 59),
                    timezones=st.just(TZ))


@FAST
@given(start=starts, end=ends, n=st.integers(min_value=1, max_value=10))
def test_working_days_before_is_add_working_days_backwards(start: datetime, end: datetime, n: int):
    assert (add_working_days(start, n, CAL, TZ) <= end) == (start < working_days_before(end, n, CAL, TZ))


@FAST
@given(start=ends, n=st.integers(min_value=1, max_value=10),
       delta=st.timedeltas(min_value=timedelta(0), max_value=timedelta(seconds=3)))
def test_working_days_before_at_its_edge(start: datetime, n: int, delta: timedelta):
    """Ends a moment either side of a due time (where the property above rarely looks)."""
    due = add_working_days(start, n, CAL, TZ)
    for end in (due + delta, due - delta):
        assert (due <= end) == (start < working_days_before(end, n, CAL, TZ))


# --------------------------------------------------------------------------
# SLA state
# --------------------------------------------------------------------------


def test_sla_state_transitions():
    start = local(2025, 10, 9, 8)
    due = local(2025, 10, 9, 12)  # 4 hours allowed, yellow from 11:00
    assert sla_state(start, due, now=local(2025, 10, 9, 8)) == "green"
    assert sla_state(start, due, now=local(2025, 10, 9, 10, 59)) == "green"
    assert sla_state(start, due, now=local(2025, 10, 9, 11)) == "yellow"
    assert sla_state(start, due, now=local(2025, 10, 9, 12)) == "yellow"
    assert sla_state(start, due, now=local(2025, 10, 9, 12, 0, 1)) == "red"


def test_sla_state_uses_done_at_when_given():
    start = local(2025, 10, 9, 8)
    due = local(2025, 10, 9, 12)
    late_now = local(2025, 10, 20, 9)
    assert sla_state(start, due, late_now, done_at=local(2025, 10, 9, 9)) == "green"
    assert sla_state(start, due, late_now, done_at=local(2025, 10, 9, 11, 30)) == "yellow"
    assert sla_state(start, due, local(2025, 10, 9, 9), done_at=local(2025, 10, 9, 13)) == "red"


def test_sla_state_without_due_and_custom_ratio():
    start = local(2025, 10, 9, 8)
    assert sla_state(start, None, now=local(2030, 1, 1)) == "green"
    due = local(2025, 10, 9, 18)  # 10 hours
    now = local(2025, 10, 9, 13)  # half-way
    assert sla_state(start, due, now, yellow_ratio=0.5) == "yellow"
    assert sla_state(start, due, now, yellow_ratio=0.6) == "green"
    with pytest.raises(ValueError):
        sla_state(start, due, now, yellow_ratio=1.5)


@FAST
@given(
    start=starts,
    allowed=st.integers(min_value=1, max_value=10_000),
    elapsed=st.integers(min_value=0, max_value=20_000),
)
def test_sla_state_never_goes_back(start: datetime, allowed: int, elapsed: int):
    due = start + timedelta(minutes=allowed)
    order = {"green": 0, "yellow": 1, "red": 2}
    earlier = sla_state(start, due, start + timedelta(minutes=elapsed))
    later = sla_state(start, due, start + timedelta(minutes=elapsed + 1))
    assert order[earlier] <= order[later]


# --------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "urgency", "ticket_type", "expected"),
    [
        ("sign", "urgent", "complaint", Rule.minutes(15)),
        ("sign", "utilities", "help", Rule.minutes(30)),
        ("sign", "general", "praise", Rule.working_days(1)),
        ("reply", "urgent", "report", Rule.minutes(120)),
        ("reply", "utilities", "help", Rule.minutes(24 * 60)),
        ("reply", "general", "consultation", Rule.working_days(3)),
        ("reply", "general", "help", Rule.working_days(5)),
        ("reply", "general", "complaint", Rule.working_days(5)),
        ("reply", "general", "report", Rule.working_days(13)),
        ("reply", "general", "suggestion", Rule.working_days(13)),
        ("reply", "general", "praise", Rule.working_days(3)),
        ("return_window", "general", "complaint", Rule.working_days(2)),
        ("return_window", "general", None, Rule.working_days(2)),
        ("extension_max", "general", "report", Rule.working_days(10)),
        ("visit", "utilities", "help", Rule.working_days(1)),
    ],
)
def test_default_policies(step, urgency, ticket_type, expected):
    assert pick_rule(DEFAULT_POLICIES, step, urgency, ticket_type) == expected


def test_pick_rule_specificity():
    rows = [
        PolicyRow("reply", None, None, Rule.working_days(1)),
        PolicyRow("reply", None, "complaint", Rule.working_days(2)),
        PolicyRow("reply", "general", None, Rule.working_days(3)),
        PolicyRow("reply", "general", "complaint", Rule.working_days(4)),
    ]
    for ordering in (rows, rows[::-1]):
        assert pick_rule(ordering, "reply", "general", "complaint").amount == 4
        assert pick_rule(ordering, "reply", "general", "help").amount == 3
        assert pick_rule(ordering, "reply", "urgent", "complaint").amount == 2
        assert pick_rule(ordering, "reply", "urgent", "help").amount == 1
        assert pick_rule(ordering, "reply", None, None).amount == 1


@pytest.mark.parametrize("urgency", ["urgent", "utilities"])
def test_urgent_and_utilities_cases_have_no_return_window_nor_extensions(urgency):
    for step in ("return_window", "extension_max"):
        with pytest.raises(KeyError):
            pick_rule(DEFAULT_POLICIES, step, urgency, "help")


def test_general_cases_without_their_own_row_get_five_working_days():
    assert pick_rule(DEFAULT_POLICIES, "reply", "general", "repair") == Rule.working_days(5)


def test_pick_rule_missing_raises_key_error():
    typed_only = [r for r in DEFAULT_POLICIES if not (r.step == "reply" and r.ticket_type is None)]
    with pytest.raises(KeyError) as info:
        pick_rule(typed_only, "reply", "general", "unknown_type")
    message = str(info.value)
    assert "reply" in message and "general" in message and "unknown_type" in message
    with pytest.raises(KeyError):
        pick_rule([], "sign", "urgent", None)


def test_policy_row_validation():
    with pytest.raises(ValueError):
        PolicyRow("nonsense", None, None, Rule.working_days(1))
    with pytest.raises(ValueError):
        PolicyRow("sign", "very_urgent", None, Rule.minutes(5))
    row = DEFAULT_POLICIES[0]
    with pytest.raises(AttributeError):
        row.step = "reply"  # type: ignore[misc]


def test_no_framework_imports():
    import ast

    import workflows.deadlines as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "flask_sqlalchemy", "sqlalchemy", "hotline"}


# --------------------------------------------------------------------------
# Time left, as people count it
# --------------------------------------------------------------------------


def test_time_left_counts_working_days_for_a_working_day_deadline():
    now = local(2025, 9, 26, 10)                        # Friday before National Day
    due = local(2025, 10, 13, 10)                       # 17 calendar days on, 7 working days
    assert time_left(due, now, Unit.WORKING_DAYS, CAL, TZ) == TimeLeft(7, "working_days", False)
    assert time_left(due, now, Unit.MINUTES, CAL, TZ) == TimeLeft(17, "days", False)
    assert time_left(now, due, Unit.WORKING_DAYS, CAL, TZ) == TimeLeft(7, "working_days", True)


def test_time_left_in_hours_and_minutes_under_a_day_and_over_a_holiday():
    now = local(2025, 10, 13, 10)
    soon = now + timedelta(hours=5, minutes=59)
    assert time_left(soon, now, Unit.WORKING_DAYS, CAL, TZ) == TimeLeft(5, "hours", False)
    assert time_left(now - timedelta(seconds=20), now, Unit.MINUTES, CAL, TZ) == TimeLeft(1, "minutes", True)
    # overdue since the last working day before the holiday, no working day since: in hours
    assert time_left(local(2025, 9, 30, 10), local(2025, 10, 3, 10), Unit.WORKING_DAYS, CAL, TZ) == \
        TimeLeft(72, "hours", True)
    # a year the calendar does not know: calendar days
    assert time_left(local(2027, 1, 10), local(2026, 12, 30), Unit.WORKING_DAYS, CAL, TZ).what == "days"
