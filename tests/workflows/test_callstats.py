"""The call-centre figures from plain queue-log rows and agents' state changes."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows import callstats as cs

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 8, 9, 0, tzinfo=TZ)


def rows_of(call_id, queue, entered, outcome, wait, agent=None, talk=None, acw=None):
    out = [cs.LogRow(call_id, queue, "entered", entered)]
    left = entered + timedelta(seconds=wait)
    out.append(cs.LogRow(call_id, queue, outcome, left, agent, wait))
    if outcome == "answered":
        out.append(cs.LogRow(call_id, queue, "completed", left + timedelta(seconds=talk), agent, talk=talk))
        if acw:
            out.append(cs.LogRow(call_id, queue, "acw_ended", left + timedelta(seconds=talk + acw), agent, acw=acw))
    return out


def test_figures_of_answered_abandoned_and_overflowed_callers():
    rows = (rows_of(1, 1, T0, "answered", 10, 7, 100, 20) + rows_of(2, 1, T0, "answered", 30, 8, 200)
            + rows_of(3, 1, T0, "abandoned", 3) + rows_of(4, 1, T0, "abandoned", 50)
            + rows_of(5, 1, T0, "overflow", 300))
    f = cs.figures(cs.visits(rows), threshold=20, short=5)
    assert (f["offered"], f["answered"], f["abandoned"], f["short_abandoned"], f["overflow"]) == (5, 2, 2, 1, 1)
    assert f["answer_rate"] == pytest.approx(2 / 5)
    assert f["abandon_rate"] == pytest.approx(1 / 4)       # the short abandon is left out of both sides
    assert f["service_level"] == pytest.approx(1 / 4)      # 1 within 20 s of 2 + 2 + 1 − 1
    assert f["asa"] == 20 and f["longest_wait"] == 300 and f["abandon_wait"] == pytest.approx(26.5)
    assert f["talk"] == 150 and f["acw"] == 10 and f["aht"] == 160   # a call without ACW counts 0


def test_nothing_offered_gives_no_rates():
    f = cs.figures([], 20, 5)
    assert f["offered"] == 0 and f["answer_rate"] is None and f["service_level"] is None and f["aht"] is None


def test_rows_arrive_in_any_order_and_a_visit_without_its_entry_is_left_out():
    rows = rows_of(1, 1, T0, "answered", 10, 7, 100, 20)
    orphan = [cs.LogRow(9, 1, "abandoned", T0, None, 4)]
    vs = cs.visits(list(reversed(rows)) + orphan)
    assert len(vs) == 1 and vs[0].agent_id == 7 and vs[0].talk == 100 and vs[0].acw == 20


def test_an_offer_not_taken_is_the_agents_miss():
    rows = [cs.LogRow(1, 1, "entered", T0), cs.LogRow(1, 1, "offered", T0 + timedelta(seconds=1), 7),
            cs.LogRow(1, 1, "offered", T0 + timedelta(seconds=16), 8),
            cs.LogRow(1, 1, "answered", T0 + timedelta(seconds=20), 8, 20),
            cs.LogRow(1, 1, "completed", T0 + timedelta(seconds=80), 8, talk=60)]
    per = cs.agent_figures(cs.visits(rows))
    assert per[7]["missed"] == 1 and per[7]["answered"] == 0
    assert per[8]["answered"] == 1 and per[8]["aht"] == 60 and per[8]["missed"] == 0


def test_half_hours_are_local():
    assert cs.slot_of(datetime(2026, 6, 8, 1, 29, tzinfo=ZoneInfo("UTC")), TZ) == 18   # 09:29 in Beijing
    assert cs.slot_label(18) == "09:00–09:30" and cs.slot_label(47) == "23:30–24:00"


def test_time_in_each_state_starts_from_the_state_before_the_period():
    lo, hi = datetime(2026, 6, 8, tzinfo=TZ), datetime(2026, 6, 9, tzinfo=TZ)
    changes = [cs.StateChange(1, "ready", lo - timedelta(hours=1)),
               cs.StateChange(1, "not_ready", lo + timedelta(hours=1), "meal"),
               cs.StateChange(1, "offline", lo + timedelta(hours=1, minutes=30))]
    s = cs.state_seconds(changes, lo, hi)[1]
    assert s["ready"] == 3600 and s["not_ready"] == 1800 and s["not_ready_reasons"] == {"meal": 1800}
    assert s["offline"] == hi.timestamp() - lo.timestamp() - 5400
    present = cs.presence_by_slot(changes, lo, hi, TZ, frozenset({"ready"}))
    assert present[0] == present[1] == 1800 and sum(present) == 3600


def test_a_stretch_is_split_at_half_hours():
    lo = datetime(2026, 6, 8, 9, 10, tzinfo=TZ)
    changes = [cs.StateChange(1, "ready", lo), cs.StateChange(1, "offline", lo + timedelta(minutes=45))]
    present = cs.presence_by_slot(changes, lo, lo + timedelta(hours=2), TZ, frozenset({"ready"}))
    assert present[18] == 20 * 60 and present[19] == 25 * 60


def test_a_repeat_is_a_call_from_the_same_number_within_the_window():
    answered = datetime(2026, 6, 8, 10, tzinfo=TZ)
    calls = {"138": [answered - timedelta(minutes=5), answered + timedelta(days=2)],
             "139": [answered + timedelta(days=7, seconds=1)]}
    got = cs.repeat_callers([("x", "138", answered), ("y", "139", answered), ("z", None, answered)], calls, 7)
    assert got == {"x"}
