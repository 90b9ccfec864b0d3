"""Call-centre statistics (BCMS) for any period: per queue, per agent and per half hour.

Reads the queue log and the agents' state log of a period and hands them to workflows/callstats.py,
which defines every figure once. A caller's visit to a queue counts in the period (and the half
hour) in which they entered it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from hotline.auth.models import User
from hotline.extensions import db
from hotline.reports import measures
from hotline.sla import service as sla
from hotline.telephony import queries as tel
from hotline.telephony.models import AgentStateChange, CallQueue, QueueEvent, QueueLogEntry
from workflows import callstats as cs
from workflows import measures as wm

#: States in which an agent is logged in (everything but offline).
LOGGED_IN = frozenset({"ready", "not_ready", "ringing", "on_call", "after_call_work"})


@dataclass(frozen=True)
class Settings:
    threshold: int
    short: int
    repeat_days: int
    target: float


def settings() -> Settings:
    c = current_app.config
    return Settings(int(c.get("CALL_SERVICE_LEVEL_SECONDS", 20)), tel.short_abandon_seconds(),
                    int(c.get("CALL_REPEAT_DAYS", 7)), float(c.get("CALL_SERVICE_LEVEL_TARGET", 0.8)))


# -- loading ----------------------------------------------------------------------------------

#: The visits of a period: the loader the wallboard's today figures use too.
log_rows, visits = tel.log_rows, tel.visits


def state_changes(lo: datetime, hi: datetime) -> list[cs.StateChange]:
    """The agents' state changes in [lo, hi) and each agent's last one before `lo`."""
    s = AgentStateChange
    last = (sa.select(s.user_id, sa.func.max(s.at).label("at")).where(s.at < lo).group_by(s.user_id).subquery())
    before = sa.select(s.user_id, s.state, s.reason, s.at).join(last, sa.and_(last.c.user_id == s.user_id,
                                                                             last.c.at == s.at))
    inside = sa.select(s.user_id, s.state, s.reason, s.at).where(s.at >= lo, s.at < hi)
    out = []
    for query in (before, inside):
        out += [cs.StateChange(user, getattr(state, "value", state), at, reason)
                for user, state, reason, at in db.session.execute(query)]
    return out


def names(user_ids) -> dict[int, User]:
    ids = {u for u in user_ids if u is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def queue_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(CallQueue.id, CallQueue.name).order_by(CallQueue.code)).all())


def _group(vs: list[cs.Visit], key) -> dict:
    out: dict = {}
    for v in vs:
        out.setdefault(key(v), []).append(v)
    return out


def period_bounds(period: wm.Period, now: datetime) -> tuple[datetime, datetime, datetime]:
    """[lo, hi) of the period's local days, and where agents' time stops counting (now, if sooner)."""
    lo, hi = measures.bounds(period.start, period.end)
    return lo, hi, max(lo, min(hi, now))


# -- the statistics page ----------------------------------------------------------------------

def statistics(period: wm.Period, now: datetime) -> dict:
    """The centre's figures, and the same per queue, per half hour of the day and per agent."""
    cfg = settings()
    lo, hi, until = period_bounds(period, now)
    vs = visits(lo, hi)
    tz = sla.local_tz()
    totals = cs.figures(vs, cfg.threshold, cfg.short)
    queues = queue_names()
    # Each queue with its own service-level threshold, as the wallboard shows it today.
    thresholds = dict(db.session.execute(sa.select(CallQueue.id, CallQueue.service_level_seconds)).all())
    per_queue = {qid: cs.figures(group, thresholds.get(qid, cfg.threshold), cfg.short)
                 for qid, group in _group(vs, lambda v: v.queue_id).items()}
    queue_rows = [{"key": qid, "label": queues.get(qid, str(qid)), **per_queue[qid]}
                  for qid in [*queues, *sorted(set(per_queue) - set(queues))] if qid in per_queue]
    per_slot = cs.by(vs, lambda v: cs.slot_of(v.entered_at, tz), cfg.threshold, cfg.short)
    changes = state_changes(lo, until)
    seconds = period.days * cs.SLOT_SECONDS
    ready = cs.presence_by_slot(changes, lo, until, tz, frozenset({"ready"}))
    logged = cs.presence_by_slot(changes, lo, until, tz, LOGGED_IN)
    empty = cs.figures([], cfg.threshold, cfg.short)
    slot_rows = []
    for slot in range(cs.SLOTS):
        row = {"key": slot, "label": cs.slot_label(slot), **per_slot.get(slot, empty),
               "idle_agents": ready[slot] / seconds, "logged_in": logged[slot] / seconds}
        slot_rows.append(row)
    agents = cs.agent_figures(vs)
    people = names(agents)
    agent_rows = sorted(({"key": uid, "user": people.get(uid), "label": people[uid].display_name if uid in people
                          else str(uid), **fig} for uid, fig in agents.items()), key=lambda r: r["label"])
    return {"totals": totals, "queues": queue_rows, "slots": slot_rows, "agents": agent_rows, "settings": cfg,
            "busy_slots": _busy(slot_rows)}


def _busy(rows: list[dict]) -> list[dict]:
    """The half hours from the first to the last with calls or agents logged in (none: an empty list)."""
    busy = [i for i, r in enumerate(rows) if r["offered"] or r["logged_in"] > 0]
    return rows[busy[0]:busy[-1] + 1] if busy else []
