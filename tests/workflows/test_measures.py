"""The arithmetic of the measures: periods and the one they are compared with, rates, change, the floor."""
from datetime import date

import pytest

from workflows import measures as wm


def test_a_month_so_far_is_compared_with_the_same_days_of_the_month_before():
    june = wm.unit("month", "2026-06", today=date(2026, 6, 15))
    assert (june.start, june.end) == (date(2026, 6, 1), date(2026, 6, 15))
    before = june.previous()
    assert (before.start, before.end) == (date(2026, 5, 1), date(2026, 5, 15))
    # a whole month against the whole month before, however long each is
    march = wm.unit("month", "2026-03", today=date(2026, 6, 15)).previous()
    assert (march.start, march.end) == (date(2026, 2, 1), date(2026, 2, 28))


def test_weeks_quarters_and_ranges():
    w1 = wm.unit("week", "2026-W01", today=date(2026, 6, 15))
    assert (w1.start, w1.end) == (date(2025, 12, 29), date(2026, 1, 4))
    assert w1.previous().label() == "2025-W52"
    q = wm.unit("quarter", "2026-Q1", today=date(2026, 6, 15))
    assert (q.start, q.end, q.previous().label()) == (date(2026, 1, 1), date(2026, 3, 31), "2025-Q4")
    custom = wm.Period("custom", date(2026, 6, 10), date(2026, 6, 14))
    assert (custom.previous().start, custom.previous().end) == (date(2026, 6, 5), date(2026, 6, 9))
    assert wm.current("week", date(2026, 6, 17)).start == date(2026, 6, 15)


@pytest.mark.parametrize("kind, value", [("month", "2026-13"), ("week", "2026-W60"), ("quarter", "2026-Q5"),
                                         ("month", "2026-07"), ("month", "June")])
def test_periods_that_are_not_there_are_refused(kind, value):
    with pytest.raises(ValueError):
        wm.unit(kind, value, today=date(2026, 6, 15))


def test_rates_change_and_the_floor():
    assert wm.rate(1, 3) == 0.3333 and wm.rate(0, 0) is None
    row = wm.with_rates({"signed_on_time": 9, "dispatched": 10, "replied_on_time": 8, "due": 10,
                         "satisfied": 0, "rated": 0})
    assert (row["on_time_sign_rate"], row["on_time_completion_rate"], row["satisfaction_rate"]) == (0.9, 0.8, None)
    assert wm.shortfalls(row, 0.9) == ["on_time_completion_rate"]  # 90 % is on the floor, not under it
    assert wm.change(6, 4) == {"previous": 4, "diff": 2, "relative": 0.5}
    assert wm.change(3, 0)["relative"] is None and wm.change(None, 4) is None
    assert wm.change(0.85, 0.9)["diff"] == -0.05
    days = [(date(2026, 6, 14), {"intake": 1}), (date(2026, 6, 15), {"intake": 2}), (date(2026, 6, 16), {"intake": 3})]
    assert wm.fold_weeks(days) == [("2026-W24", {"intake": 1}), ("2026-W25", {"intake": 5})]
