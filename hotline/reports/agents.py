"""Agents' performance (座席考核) for a period: calls, handle times, time in each state, the orders
they registered and answered directly, and how often a caller answered directly called again.

Figures of calls come from workflows/callstats.py (the same as the call statistics page); an order
answered directly is the measures' "direct" (hotline/reports/measures.py), charged to whoever
registered it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.citizens.models import Citizen
from hotline.citizens.operations import normalize_phone
from hotline.extensions import db
from hotline.reports import calls as callq
from hotline.reports import measures
from hotline.telephony.models import Call, CallLeg
from hotline.telephony.operations.agents import NOT_READY_TITLES
from hotline.telephony.permissions import AGENT_ROLES
from hotline.tickets.models import Ticket
from workflows import callstats as cs
from workflows import measures as wm
from workflows.states import Role

#: Columns of the table (and its export), in order; reasons for "not ready" follow "not_ready".
COUNTS = ("answered", "missed", "outbound", "talk", "acw", "aht")
TIMES = ("logged_in", "ready", "not_ready", "on_call", "after_call_work", "occupancy")
ORDERS = ("registered", "direct", "repeats", "repeat_rate")


def _orders(lo: datetime, hi: datetime, now: datetime, repeat_days: int) -> dict[int, dict]:
    """Per registering user: orders registered in [lo, hi), those answered directly, and of these the
    ones whose caller called the centre again within `repeat_days` days of the answer."""
    out: dict[int, dict] = defaultdict(lambda: {"registered": 0, "direct": 0, "repeats": 0})
    where = (Ticket.created_at >= lo, Ticket.created_at < hi, Ticket.created_by_id.is_not(None))
    for user_id, n in db.session.execute(sa.select(Ticket.created_by_id, sa.func.count()).where(*where)
                                         .group_by(Ticket.created_by_id)):
        out[user_id]["registered"] = n
    direct = measures.CONDITIONS["direct"][1](now)
    answers = db.session.execute(
        sa.select(Ticket.id, Ticket.created_by_id, Citizen.phone, Ticket.replied_at)
        .outerjoin(Citizen, Citizen.id == Ticket.citizen_id).where(*where, direct)).all()
    for _id, user_id, _phone, _at in answers:
        out[user_id]["direct"] += 1
    phones = {normalize_phone(p) for _i, _u, p, _a in answers if p}
    phones.discard(None)
    calls_by_phone: dict[str, list[datetime]] = defaultdict(list)
    if phones:
        dialled = {f"{prefix}{p}" for p in phones for prefix in ("", "86", "0086")}
        first = min(a for *_x, a in answers if a is not None) if any(a for *_x, a in answers) else lo
        rows = db.session.execute(sa.select(Call.caller, Call.started_at).where(
            Call.leg == CallLeg.INBOUND, Call.parent_id.is_(None), Call.caller.in_(dialled),
            Call.started_at > first, Call.started_at <= hi + timedelta(days=repeat_days)))
        for caller, started in rows:
            calls_by_phone[normalize_phone(caller)].append(started)
    repeated = cs.repeat_callers(((tid, normalize_phone(p), at) for tid, _u, p, at in answers if at is not None),
                                 calls_by_phone, repeat_days)
    for tid, user_id, _p, _a in answers:
        if tid in repeated:
            out[user_id]["repeats"] += 1
    return out


def _outbound(lo: datetime, hi: datetime) -> dict[int, int]:
    return dict(db.session.execute(
        sa.select(Call.agent_user_id, sa.func.count()).where(
            Call.leg == CallLeg.OUTBOUND, Call.agent_user_id.is_not(None), Call.started_at >= lo, Call.started_at < hi)
        .group_by(Call.agent_user_id)).all())


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _row(label: str, user: User | None, calls: dict, states: dict, orders: dict, outbound: int) -> dict:
    n = calls.get("completed", 0)
    talk, acw = calls.get("talk_seconds", 0.0), calls.get("acw_seconds", 0.0)
    on_call = states.get("on_call", 0.0) + states.get("ringing", 0.0)
    logged_in = sum(v for k, v in states.items() if k in callq.LOGGED_IN)
    worked = on_call + states.get("after_call_work", 0.0)
    return {
        "label": label, "user": user, "answered": calls.get("answered", 0), "missed": calls.get("missed", 0),
        "completed": n, "talk_seconds": talk, "acw_seconds": acw, "outbound": outbound,
        "talk": talk / n if n else None, "acw": acw / n if n else None, "aht": (talk + acw) / n if n else None,
        "logged_in": logged_in, "ready": states.get("ready", 0.0), "not_ready": states.get("not_ready", 0.0),
        "reasons": dict(states.get("not_ready_reasons", {})), "on_call": on_call,
        "after_call_work": states.get("after_call_work", 0.0),
        "occupancy": _share(worked, worked + states.get("ready", 0.0)),
        "registered": orders.get("registered", 0), "direct": orders.get("direct", 0),
        "repeats": orders.get("repeats", 0), "repeat_rate": _share(orders.get("repeats", 0), orders.get("direct", 0)),
    }


def _add(total: dict, row: dict) -> None:
    for key in ("answered", "missed", "completed", "talk_seconds", "acw_seconds", "outbound"):
        total["calls"][key] = total["calls"].get(key, 0) + row[key]
    for key in ("ready", "not_ready", "on_call", "after_call_work"):
        total["states"][key] = total["states"].get(key, 0.0) + row[key]
    for reason, seconds in row["reasons"].items():
        total["states"].setdefault("not_ready_reasons", {})
        total["states"]["not_ready_reasons"][reason] = total["states"]["not_ready_reasons"].get(reason, 0.0) + seconds
    for key in ("registered", "direct", "repeats"):
        total["orders"][key] = total["orders"].get(key, 0) + row[key]


def _total(label: str, rows: list[dict]) -> dict:
    acc = {"calls": {}, "states": {}, "orders": {}}
    for row in rows:
        _add(acc, row)
    return _row(label, None, acc["calls"], acc["states"], acc["orders"], acc["calls"].get("outbound", 0))


def performance(period: wm.Period, now: datetime, team_title, total_title) -> dict:
    """One row per agent (everyone who takes calls, and anyone else with calls or orders in the period),
    a subtotal per team (role) and the centre's total."""
    cfg = callq.settings()
    lo, hi, until = callq.period_bounds(period, now)
    calls = cs.agent_figures(callq.visits(lo, hi))
    states = cs.state_seconds(callq.state_changes(lo, until), lo, until)
    orders = _orders(lo, hi, now, cfg.repeat_days)
    outbound = _outbound(lo, hi)
    agent_ids = set(db.session.scalars(sa.select(User.id).where(
        User.role.in_(list(AGENT_ROLES)), User.extension.is_not(None), User.is_active.is_(True))))
    ids = agent_ids | set(calls) | set(states) | set(outbound) | {u for u, o in orders.items() if o["registered"]}
    people = callq.names(ids)
    rows = []
    for uid in ids:
        user = people.get(uid)
        if user is None:
            continue
        rows.append(_row(user.display_name, user, calls.get(uid, {}), states.get(uid, {}), orders.get(uid, {}),
                         outbound.get(uid, 0)))
    order = {Role.CALL_TAKER: 0, Role.EXPERT: 1, Role.SUPERVISOR: 2}
    rows.sort(key=lambda r: (order.get(r["user"].role, 9), r["label"]))
    teams = []
    for role in sorted({r["user"].role for r in rows}, key=lambda r: order.get(r, 9)):
        members = [r for r in rows if r["user"].role == role]
        teams.append({"role": role, "rows": members, "total": _total(team_title(role), members)})
    reasons = sorted({reason for r in rows for reason in r["reasons"]})
    return {"teams": teams, "total": _total(total_title, rows), "reasons": reasons, "settings": cfg}


def reason_title(reason: str) -> str:
    if not reason:
        return ""
    title = NOT_READY_TITLES.get(reason)
    return str(title) if title is not None else reason

