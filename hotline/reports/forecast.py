"""The staffing forecast: from the call history of one weekday, the calls and handle time expected
in each half hour, the agents Erlang C says they need for the service level, and beside them the
agents who were actually logged in on those days."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from hotline.reports import calls as callq
from hotline.reports import measures
from hotline.sla import service as sla
from workflows import callstats as cs
from workflows import erlang

#: Handle time assumed for a half hour whose history has no completed call at all.
DEFAULT_AHT = 180.0
MAX_WEEKS = 26


def history_days(weekday: int, weeks: int, today: date) -> list[date]:
    """The last `weeks` days falling on `weekday` (0 Monday … 6 Sunday) before today, oldest first."""
    day = today - timedelta(days=1)
    while day.weekday() != weekday:
        day -= timedelta(days=1)
    return [day - timedelta(weeks=i) for i in reversed(range(weeks))]


def forecast(weekday: int, weeks: int, today: date, now: datetime, *, target: float, threshold: int,
             shrinkage: float = 0.0) -> dict:
    days = history_days(weekday, weeks, today)
    tz = sla.local_tz()
    lo, _ = measures.bounds(days[0], days[0])
    _, hi = measures.bounds(days[-1], days[-1])
    wanted = set(days)
    vs = [v for v in callq.visits(lo, hi) if v.entered_at.astimezone(tz).date() in wanted]
    cfg = callq.settings()
    overall = cs.figures(vs, threshold, cfg.short)
    per_slot = cs.by(vs, lambda v: cs.slot_of(v.entered_at, tz), threshold, cfg.short)
    changes = callq.state_changes(lo, min(hi, now))
    logged = [0.0] * cs.SLOTS
    for day in days:
        day_lo, day_hi = measures.bounds(day, day)
        for slot, seconds in enumerate(cs.presence_by_slot(changes, day_lo, min(day_hi, now), tz, callq.LOGGED_IN)):
            logged[slot] += seconds
    rows = []
    for slot in range(cs.SLOTS):
        fig = per_slot.get(slot)
        calls = (fig["offered"] if fig else 0) / len(days)
        aht = (fig and fig["aht"]) or overall["aht"] or DEFAULT_AHT
        staffing = erlang.agents_needed(calls, aht, cs.SLOT_SECONDS, threshold, target)
        rows.append({
            "slot": slot, "label": cs.slot_label(slot), "calls": calls, "aht": aht if calls else None,
            "traffic": staffing.traffic, "agents": staffing.agents,
            "scheduled": erlang.with_shrinkage(staffing.agents, shrinkage) if staffing.agents else 0,
            "service_level": staffing.service_level if staffing.agents else None,
            "asa": staffing.asa if staffing.agents else None,
            "occupancy": staffing.occupancy if staffing.agents else None,
            "logged_in": logged[slot] / (len(days) * cs.SLOT_SECONDS),
        })
    busy = [r for r in rows if r["calls"] or r["logged_in"] > 0]
    first = busy[0]["slot"] if busy else 16
    last = busy[-1]["slot"] if busy else 35
    return {"days": days, "rows": rows, "shown": rows[first:last + 1], "overall": overall,
            "short": [r for r in rows if r["agents"] and r["logged_in"] + 1e-9 < r["scheduled"]]}
