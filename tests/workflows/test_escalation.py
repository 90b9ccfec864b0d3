"""Reminders, urges and escalations owed by open deadlines (workflows/escalation.py), no database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from workflows import deadlines as dl
from workflows.escalation import GENERAL, Policy, Step, Watch, next_threshold, owed, step_key, thresholds

TZ = dl.DEFAULT_TZ
CAL = dl.WorkCalendar({**dl.official_calendar(2026)}, [2026])
#: DOMAIN.md's urgent case, as the default policy rows give it.
URGENT = Policy(urge_after=dl.pick_rule(dl.DEFAULT_POLICIES, "urge", "urgent", None),
                escalate_after=dl.pick_rule(dl.DEFAULT_POLICIES, "escalate", "urgent", None))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def general_complaint() -> list[Watch]:
    """Dispatched on the eve of National Day 2026 (Oct 1–7 off, Saturday Oct 10 a make-up working day)."""
    start = local(2026, 9, 30, 9, 0)
    return [
        Watch("sign", start, dl.add_working_days(start, 1, CAL, TZ), assignment_id=7, department_id=3),
        Watch("reply", start, dl.add_working_days(start, 5, CAL, TZ), assignment_id=7, department_id=3),
    ]


def test_a_general_complaint_across_national_day_falls_due_on_working_days():
    sign, reply = general_complaint()
    assert sign.due_at == local(2026, 10, 8, 9, 0)            # the first working day after the holiday
    assert reply.due_at == local(2026, 10, 13, 9, 0)          # Oct 8, 9, 10 (make-up Saturday), 12, 13
    assert thresholds(reply, GENERAL, CAL) == {
        Step.REMIND: local(2026, 10, 10, 3, 0),               # 75% of the 13 days allowed
        Step.URGE: local(2026, 10, 14, 9, 0),                 # the working day after the deadline
        Step.ESCALATE: local(2026, 10, 20, 9, 0),             # 5 working days past it: 14, 15, 16, 19, 20
    }
    assert thresholds(sign, GENERAL, CAL) == {
        Step.REMIND: local(2026, 10, 6, 9, 0),
        Step.URGE: local(2026, 10, 8, 9, 0),
    }


def walk(watches, policy, instants):
    """Run the sweep at each instant, recording what it owes; returns (instant, step, kind) in order."""
    recorded: set[str] = set()
    seen = []
    for at in instants:
        for item in owed(watches, policy, at, recorded, CAL):
            recorded.add(item.key)
            seen.append((at, item.step, item.watch.kind))
        assert owed(watches, policy, at, recorded, CAL) == []   # a second sweep at once owes nothing
    return seen


def test_each_step_is_owed_once_in_order_whatever_how_often_the_sweep_runs():
    watches = general_complaint()
    hourly = [local(2026, 9, 30, 9, 0) + timedelta(hours=h) for h in range(24 * 25)]
    seen = walk(watches, GENERAL, hourly)
    assert seen == [
        (local(2026, 10, 6, 9, 0), Step.REMIND, "sign"),
        (local(2026, 10, 8, 9, 0), Step.URGE, "sign"),
        (local(2026, 10, 10, 3, 0), Step.REMIND, "reply"),
        (local(2026, 10, 14, 9, 0), Step.URGE, "reply"),
        (local(2026, 10, 20, 9, 0), Step.ESCALATE, "reply"),
    ]
    # a sweep every minute around the urge finds it at the same instant, once
    around = [local(2026, 10, 14, 8, 58) + timedelta(minutes=m) for m in range(5)]
    recorded = {step_key(s, w) for s in (Step.REMIND,) for w in watches}
    found = [(at, o.step) for at in around for o in owed(watches[1:], GENERAL, at, recorded, CAL)
             if not recorded.add(o.key)]
    assert found == [(local(2026, 10, 14, 9, 0), Step.URGE)]


def test_an_order_first_seen_long_overdue_is_escalated_without_the_milder_steps():
    _sign, reply = general_complaint()
    items = owed([reply], GENERAL, local(2026, 10, 21, 10, 0), set(), CAL)
    assert [(o.step, o.audience) for o in items] == [(Step.ESCALATE, ("department_head",))]
    # once escalated, the milder steps are never owed afterwards
    assert owed([reply], GENERAL, local(2026, 10, 22, 10, 0), {items[0].key}, CAL) == []


def test_a_new_deadline_after_an_extension_is_watched_afresh():
    _sign, reply = general_complaint()
    recorded = {o.key for o in owed([reply], GENERAL, local(2026, 10, 14, 9, 0), set(), CAL)}
    extended = Watch("reply", reply.started_at, dl.add_working_days(reply.due_at, 3, CAL, TZ), assignment_id=7)
    assert extended.due_at == local(2026, 10, 16, 9, 0)
    assert owed([extended], GENERAL, local(2026, 10, 14, 9, 0), recorded, CAL)[0].step is Step.REMIND
    assert step_key(Step.URGE, extended) != step_key(Step.URGE, reply)


def test_an_urgent_order_at_night_runs_on_clock_time():
    start = local(2026, 10, 2, 23, 0)            # a holiday night: clock-time limits ignore the calendar
    watches = [Watch("sign", start, start + timedelta(minutes=15), assignment_id=1),
               Watch("reply", start, start + timedelta(hours=2), assignment_id=1)]
    minutes = [start + timedelta(minutes=m) for m in range(0, 240)]
    assert walk(watches, URGENT, minutes) == [
        (local(2026, 10, 2, 23, 12), Step.REMIND, "sign"),     # 75% of 15 minutes: 23:11:15, seen at 23:12
        (local(2026, 10, 2, 23, 15), Step.URGE, "sign"),
        (local(2026, 10, 3, 0, 30), Step.REMIND, "reply"),
        (local(2026, 10, 3, 1, 0), Step.URGE, "reply"),        # urged the moment it is overdue
        (local(2026, 10, 3, 2, 0), Step.ESCALATE, "reply"),    # and escalated an hour later
    ]


def test_next_threshold_says_when_to_look_again():
    watches = general_complaint()
    assert next_threshold(watches, GENERAL, local(2026, 9, 30, 9, 0), CAL) == local(2026, 10, 6, 9, 0)
    assert next_threshold(watches, GENERAL, local(2026, 10, 8, 9, 0), CAL) == local(2026, 10, 10, 3, 0)
    assert next_threshold(watches, GENERAL, local(2026, 10, 20, 9, 0), CAL) is None


def test_the_default_policy_rows_give_domain_md_delays_and_bad_input_is_refused():
    general = Policy(urge_after=dl.pick_rule(dl.DEFAULT_POLICIES, "urge", "general", "complaint"),
                     escalate_after=dl.pick_rule(dl.DEFAULT_POLICIES, "escalate", "general", "complaint"))
    assert general == GENERAL
    assert URGENT == Policy(urge_after=dl.Rule.minutes(0), escalate_after=dl.Rule.hours(1))
    _sign, reply = general_complaint()
    never = Policy(urge_after=None, escalate_after=None)
    assert set(thresholds(reply, never, CAL)) == {Step.REMIND}       # an administrator turned chasing off
    sooner = Policy(urge_after=dl.Rule.minutes(0), escalate_after=dl.Rule.working_days(2))
    assert thresholds(reply, sooner, CAL)[Step.ESCALATE] == local(2026, 10, 15, 9, 0)
    with pytest.raises(ValueError):
        Policy(urge_after=None, escalate_after=None, remind_ratio=1.5)
    with pytest.raises(ValueError):
        Watch("visit", reply.started_at, reply.due_at)
    with pytest.raises(ValueError):
        Watch("reply", datetime(2026, 9, 30, 9), reply.due_at)
