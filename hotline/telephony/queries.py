"""What the telephony pages read: the agent's panel and screen-pop, the wallboard's figures,
call records, callbacks, and the calls of an order. Reads only; writes are in `operations`."""
from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, selectinload

from hotline.auth.models import User
from hotline.citizens.models import Citizen
from hotline.citizens.operations import find_citizen, normalize_phone
from hotline.core.fields import Fields
from hotline.core.postgres import prepared
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.telephony import permissions
from hotline.telephony.models import (Agent, Call, Callback, CallbackStatus, CallDisposition, CallLeg, CallQueue,
                                      MonitorRequest, OutboundRequest, QueueEntry, QueueEvent, QueueLogEntry,
                                      Recording, TelephonyWorker)
from hotline.telephony.operations.workers import WORKER_TIMEOUT
from hotline.tickets import queries as ticket_queries
from hotline.tickets.models import Ticket
from workflows import callstats as cs
from workflows.acd import AgentState
from workflows.states import OPEN

#: How many earlier orders the screen-pop lists.
HISTORY_LIMIT = 10
PER_PAGE = 50


def day_start(now: datetime) -> datetime:
    """Local midnight of `now`'s day, as an aware datetime (compares with UTC columns)."""
    tz = sla.local_tz()
    return datetime.combine(now.astimezone(tz).date(), time(0), tz)


def fingerprint(*parts) -> str:
    """A short digest of what a refreshed panel shows: unchanged means nothing to redraw."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


# -- the line ---------------------------------------------------------------------------------

def line_status(now: datetime) -> dict:
    """Whether calls can come in: some telephony worker reported within the time after which the
    reaper counts a worker as gone. `last_seen`: the latest report (None: no worker since the reap)."""
    last = db.session.scalar(sa.select(sa.func.max(TelephonyWorker.heartbeat_at)))
    return {"up": last is not None and last >= now - WORKER_TIMEOUT, "last_seen": last}


# -- the agent's page -------------------------------------------------------------------------

def screen_pop(sip_call_id: str | None) -> dict | None:
    """Who is calling the agent: the number, the citizen (VIP / important) and their earlier orders."""
    if not sip_call_id:
        return None
    call = db.session.scalar(sa.select(Call).where(Call.sip_call_id == sip_call_id))
    if call is None:
        return {"call": None, "sip_call_id": sip_call_id, "phone": None, "number": None, "citizen": None,
                "history": []}
    number = call.caller if call.leg != CallLeg.OUTBOUND else call.callee
    phone = normalize_phone(number)
    citizen = db.session.get(Citizen, call.citizen_id) if call.citizen_id else (find_citizen(phone) if phone else None)
    history = ticket_queries.citizen_history(citizen.phone, limit=HISTORY_LIMIT) if citizen else []
    return {"call": call, "sip_call_id": sip_call_id, "phone": phone, "number": number, "citizen": citizen,
            "history": history, "open_numbers": {t.number for t in history if t.status in OPEN},
            "priority": call.priority}


def agent_calls_today(user: User, now: datetime) -> list[dict]:
    """The agent's calls since midnight, newest first: the leg, the conversation's first leg, its order.

    An agent leg is left out when the caller's leg already names the agent (one row per conversation).
    """
    parent = aliased(Call)
    rows = db.session.execute(
        sa.select(Call, parent).outerjoin(parent, Call.parent_id == parent.id)
        .where(Call.agent_user_id == user.id, Call.started_at >= day_start(now),
               sa.or_(Call.leg != CallLeg.AGENT, parent.id.is_(None), parent.agent_user_id.is_distinct_from(user.id)))
        .order_by(Call.started_at.desc(), Call.id.desc()).limit(200)).all()
    numbers = _ticket_numbers({c.ticket_id for row in rows for c in row if c is not None and c.ticket_id})
    return [{"call": call, "root": up or call,
             "ticket": numbers.get(call.ticket_id) or (numbers.get(up.ticket_id) if up is not None else None)}
            for call, up in rows]


def agent_panel(user: User, now: datetime) -> dict:
    """The state panel: state and since when, after-call work's end, the screen-pop, and whether
    the line is up."""
    line = line_status(now)
    agent = db.session.get(Agent, user.id)
    state = agent.state if agent else AgentState.OFFLINE
    pop = screen_pop(agent.current_call_id) if agent and state in (AgentState.RINGING, AgentState.ON_CALL) else None
    stable = (state.value, agent.state_since if agent else None, agent.reason if agent else None,
              agent.acw_until if agent else None, agent.current_call_id if agent else None,
              tuple((t.number, t.status.value) for t in pop["history"]) if pop else None,
              (pop["citizen"].is_vip, pop["citizen"].is_important, pop["citizen"].name)
              if pop and pop["citizen"] else None, line["up"])
    return {"agent": agent, "state": state, "caller": pop, "line": line, "fingerprint": fingerprint(*stable)}


# -- the wallboard ----------------------------------------------------------------------------

def _percent(share: float | None) -> float | None:
    return round(100 * share, 1) if share is not None else None


def short_abandon_seconds() -> int:
    """A caller who hangs up sooner than this is a short abandon (CALL_SHORT_ABANDON_SECONDS)."""
    return int(current_app.config.get("CALL_SHORT_ABANDON_SECONDS", 5))


def log_rows(lo: datetime, hi: datetime) -> list[cs.LogRow]:
    """Every queue-log line of the calls that entered a queue in [lo, hi)."""
    q = QueueLogEntry
    entered = sa.select(q.call_id).where(q.event == QueueEvent.ENTERED, q.at >= lo, q.at < hi)
    rows = db.session.execute(sa.select(q.call_id, q.queue_id, q.event, q.at, q.agent_user_id, q.wait_seconds,
                                        q.talk_seconds, q.acw_seconds).where(q.call_id.in_(entered)))
    return [cs.LogRow(call_id, queue_id, QueueEvent(event).value, at, agent, wait, talk, acw)
            for call_id, queue_id, event, at, agent, wait, talk, acw in rows]


def visits(lo: datetime, hi: datetime) -> list[cs.Visit]:
    """Callers' visits to queues that started in [lo, hi) (workflows/callstats.py defines them)."""
    return [v for v in cs.visits(log_rows(lo, hi)) if lo <= v.entered_at < hi]


def queue_figures(now: datetime) -> list[dict]:
    """Per active queue: waiting now, longest wait, and today's offered / answered / abandoned,
    service level and answer rate: the figures of workflows/callstats.py (as the call statistics
    report computes them) of the visits that started today, with the queue's own threshold."""
    queues = list(db.session.scalars(sa.select(CallQueue).where(CallQueue.is_active).order_by(CallQueue.code)))
    waiting = {qid: (n, oldest) for qid, n, oldest in db.session.execute(
        sa.select(QueueEntry.queue_id, sa.func.count(), sa.func.min(QueueEntry.entered_at))
        .group_by(QueueEntry.queue_id))}
    per_queue: dict[int, list[cs.Visit]] = {}
    for v in visits(day_start(now), now + timedelta(seconds=1)):
        per_queue.setdefault(v.queue_id, []).append(v)
    short = short_abandon_seconds()
    out = []
    for q in queues:
        count, oldest = waiting.get(q.id, (0, None))
        fig = cs.figures(per_queue.get(q.id, []), q.service_level_seconds, short)
        out.append({
            "queue": q, "waiting": count, "oldest": oldest,
            "longest_wait": int((now - oldest).total_seconds()) if oldest else 0,
            "offered": fig["offered"], "answered": fig["answered"], "abandoned": fig["abandoned"],
            "short_abandoned": fig["short_abandoned"], "overflow": fig["overflow"], "within": fig["within"],
            "asa": round(fig["asa"]) if fig["asa"] is not None else None,
            "service_level": _percent(fig["service_level"]),
            "answer_rate": _percent(fig["answer_rate"]),
        })
    return out


def agent_rows(now: datetime) -> list[dict]:
    """Everyone who can take calls, with their state, since when, why, and who they are talking to."""
    rows = db.session.execute(
        sa.select(User, Agent).outerjoin(Agent, Agent.user_id == User.id)
        .where(User.is_active.is_(True), User.extension.is_not(None),
               User.role.in_(list(permissions.AGENT_ROLES)))
        .order_by(User.display_name)).all()
    call_ids = {a.current_call_id for _, a in rows if a is not None and a.current_call_id}
    callers = dict(db.session.execute(sa.select(Call.sip_call_id, Call.caller)
                                      .where(Call.sip_call_id.in_(call_ids))).all()) if call_ids else {}
    today = sla.local_date(now).strftime("%Y%m%d")
    order = {s: i for i, s in enumerate([AgentState.ON_CALL, AgentState.RINGING, AgentState.AFTER_CALL_WORK,
                                         AgentState.READY, AgentState.NOT_READY, AgentState.OFFLINE])}
    out = [{"user": user, "state": agent.state if agent else AgentState.OFFLINE,
            "since": agent.state_since if agent else None, "reason": agent.reason if agent else None,
            "caller": callers.get(agent.current_call_id) if agent and agent.current_call_id else None,
            "calls_today": agent.calls_today if agent and agent.calls_day == today else 0}
           for user, agent in rows]
    return sorted(out, key=lambda r: (order[r["state"]], r["user"].display_name))


def live_calls(viewer: User) -> list[dict]:
    """Agents' calls in progress, with who is monitoring them."""
    parent = aliased(Call)
    rows = db.session.execute(
        sa.select(Call, parent).outerjoin(parent, Call.parent_id == parent.id)
        .options(selectinload(Call.agent), selectinload(Call.queue))
        .where(Call.leg == CallLeg.AGENT, Call.answered_at.is_not(None), Call.ended_at.is_(None))
        .order_by(Call.answered_at)).all()
    ids = [call.id for call, _ in rows]
    monitors = {}
    if ids:
        for req in db.session.scalars(sa.select(MonitorRequest).where(MonitorRequest.call_id.in_(ids),
                                                                      MonitorRequest.ended_at.is_(None))):
            monitors[req.call_id] = req
    return [{"call": call, "caller": up.caller if up is not None else call.caller,
             "queue": (up.queue if up is not None else None) or call.queue,
             "monitor": monitors.get(call.id),
             "mine": monitors.get(call.id) is not None and monitors[call.id].supervisor_id == viewer.id}
            for call, up in rows]


def wallboard(viewer: User, now: datetime) -> dict:
    queues, agents, calls, line = queue_figures(now), agent_rows(now), live_calls(viewer), line_status(now)
    stable = (
        tuple((q["queue"].id, q["waiting"], q["oldest"], q["offered"], q["answered"], q["abandoned"], q["overflow"],
               q["within"], q["asa"]) for q in queues),
        tuple((a["user"].id, a["state"].value, a["since"], a["reason"], a["caller"], a["calls_today"]) for a in agents),
        tuple((c["call"].id, c["call"].answered_at, c["monitor"].id if c["monitor"] else None,
               c["monitor"].mode if c["monitor"] else None) for c in calls),
        sla.local_date(now), line["up"],
    )
    peak = max([q["offered"] for q in queues] + [1])
    return {"queues": queues, "agents": agents, "calls": calls, "peak": peak, "line": line,
            "any_calls_today": any(q["offered"] for q in queues), "fingerprint": fingerprint(*stable)}


# -- call records -----------------------------------------------------------------------------

def _local_day(f: Fields, name: str, *, end: bool) -> datetime | None:
    value = f.datetime(name)
    if value is None:
        return None
    day = datetime.combine(value.date(), time(0), sla.local_tz())
    return day + timedelta(days=1) if end else day


def call_filters(args) -> tuple[dict, Fields]:
    """The CDR filters from the query string; errors are named by field."""
    f = Fields({k: v for k, v in args.items()})
    filters = {
        "date_from": _local_day(f, "date_from", end=False),
        "date_to": _local_day(f, "date_to", end=True),
        "number": None, "agent": f.integer("agent", low=1), "queue": f.integer("queue", low=1),
        "disposition": f.choice("disposition", CallDisposition),
    }
    raw = f.text("number", max_len=40)
    if raw:
        digits = "".join(c for c in raw if c.isdigit())
        if not 3 <= len(digits) <= 20:
            f.error("number", _("Type at least 3 digits of the number."))
        else:
            filters["number"] = digits
    return filters, f


def call_list(filters: dict, page: int) -> tuple[list[dict], int]:
    """Callers' and outbound legs (one row per conversation), newest first, a page at a time."""
    query = sa.select(Call).where(Call.parent_id.is_(None))
    if filters.get("date_from"):
        query = query.where(Call.started_at >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(Call.started_at < filters["date_to"])
    if filters.get("number"):
        like = f"%{filters['number']}%"
        query = query.where(sa.or_(Call.caller.like(like), Call.callee.like(like)))
    if filters.get("disposition"):
        query = query.where(Call.disposition == filters["disposition"])
    if filters.get("queue"):
        query = query.where(Call.queue_id == filters["queue"])
    if filters.get("agent"):
        child = aliased(Call)
        query = query.where(sa.or_(Call.agent_user_id == filters["agent"], sa.exists().where(
            child.parent_id == Call.id, child.agent_user_id == filters["agent"])))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    calls = list(db.session.scalars(query.options(selectinload(Call.agent), selectinload(Call.queue))
                                    .order_by(Call.started_at.desc(), Call.id.desc())
                                    .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    ids = [c.id for c in calls]
    numbers = _ticket_numbers({c.ticket_id for c in calls if c.ticket_id})
    recorded = set()
    if ids:
        child = aliased(Call)
        recorded = set(db.session.scalars(
            sa.select(sa.func.coalesce(child.parent_id, Recording.call_id)).select_from(Recording)
            .join(child, child.id == Recording.call_id)
            .where(sa.or_(Recording.call_id.in_(ids), child.parent_id.in_(ids)), Recording.deleted_at.is_(None))))
    return [{"call": c, "ticket": numbers.get(c.ticket_id), "recorded": c.id in recorded} for c in calls], total


def _ticket_numbers(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).all())


def agent_options() -> list[tuple[int, str]]:
    return [(u.id, f"{u.display_name} ({u.extension})" if u.extension else u.display_name) for u in db.session.scalars(
        sa.select(User).where(User.role.in_(list(permissions.AGENT_ROLES))).order_by(User.display_name))]


def queue_options() -> list[tuple[int, str]]:
    return [(q.id, q.name) for q in db.session.scalars(sa.select(CallQueue).order_by(CallQueue.code))]


def root_of(call: Call) -> Call:
    return db.session.get(Call, call.parent_id) if call.parent_id else call


def legs_of(root: Call) -> list[Call]:
    """The caller's leg and the legs that served it (agents, monitors), in order."""
    return [root, *db.session.scalars(sa.select(Call).options(selectinload(Call.agent))
                                      .where(Call.parent_id == root.id).order_by(Call.started_at, Call.id))]


def ticket_of(legs: list[Call]) -> Ticket | None:
    """The order a conversation is about: the first one a leg names."""
    for leg in legs:
        if leg.ticket_id:
            return db.session.get(Ticket, leg.ticket_id)
    return None


def recording_views(legs: list[Call], viewer: User, file_exists) -> list[dict]:
    """The conversation's recordings, each with whether `viewer` may play it and whether the file is there."""
    agent_ids = {leg.agent_user_id for leg in legs if leg.agent_user_id}
    rows = db.session.scalars(sa.select(Recording).where(Recording.call_id.in_([leg.id for leg in legs]))
                              .order_by(Recording.created_at, Recording.id))
    out = []
    for rec in rows:
        allowed = permissions.can_play_recording(viewer, agent_ids=agent_ids | {rec.agent_user_id})
        out.append({"recording": rec, "allowed": allowed,
                    "present": rec.deleted_at is None and allowed and file_exists(rec)})
    return out


def call_detail(call: Call, viewer: User, file_exists) -> dict:
    root = root_of(call)
    legs = legs_of(root)
    ticket = ticket_of(legs)
    log = list(db.session.scalars(sa.select(QueueLogEntry).where(QueueLogEntry.call_id.in_([leg.id for leg in legs]))
                                  .order_by(QueueLogEntry.at, QueueLogEntry.id)))
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({e.agent_user_id for e in log if e.agent_user_id}))).all()) if log else {}
    queues = dict(db.session.execute(sa.select(CallQueue.id, CallQueue.name)).all())
    return {"root": root, "legs": legs, "ticket": ticket, "log": log, "names": names, "queues": queues,
            "ivr_path": [step for step in (root.ivr_path or "").split(">") if step],
            "recordings": recording_views(legs, viewer, file_exists),
            "citizen": db.session.get(Citizen, root.citizen_id) if root.citizen_id else None}


# -- callbacks --------------------------------------------------------------------------------

def callback_list(status: CallbackStatus | None, page: int) -> tuple[list[dict], int]:
    """Pending first (oldest owed first), then the rest newest first."""
    query = sa.select(Callback)
    if status is not None:
        query = query.where(Callback.status == status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    pending_first = sa.case((Callback.status == CallbackStatus.PENDING, 0),
                            (Callback.status == CallbackStatus.DIALLING, 1), else_=2)
    rows = list(db.session.scalars(query.order_by(
        pending_first, sa.case((Callback.status == CallbackStatus.PENDING, Callback.created_at), else_=None),
        Callback.created_at.desc(), Callback.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    citizens = {c.id: c for c in db.session.scalars(sa.select(Citizen).where(
        Citizen.id.in_({r.citizen_id for r in rows if r.citizen_id})))} if rows else {}
    numbers = _ticket_numbers({r.ticket_id for r in rows if r.ticket_id})
    queues = dict(db.session.execute(sa.select(CallQueue.id, CallQueue.name)).all())
    return [{"callback": r, "citizen": citizens.get(r.citizen_id), "ticket": numbers.get(r.ticket_id),
             "queue": queues.get(r.queue_id)} for r in rows], total


def pending_callbacks() -> int:
    return db.session.scalar(sa.select(sa.func.count(Callback.id)).where(Callback.status == CallbackStatus.PENDING))


# -- an order's calls -------------------------------------------------------------------------

def order_calls(ticket: Ticket, viewer: User, file_exists) -> dict:
    """The conversations linked to an order, their recordings, and the latest call placed from it."""
    roots = {}
    calls = prepared(sa.select(Call).where(Call.ticket_id == ticket.id).order_by(Call.started_at))
    for call in db.session.scalars(calls):
        root = root_of(call)
        roots.setdefault(root.id, root)
    conversations = []
    for root in sorted(roots.values(), key=lambda c: (c.started_at, c.id)):
        legs = legs_of(root)
        agent = next((leg.agent for leg in legs if leg.agent is not None), None)
        conversations.append({"root": root, "agent": agent,
                              "recordings": recording_views(legs, viewer, file_exists)})
    latest = db.session.scalar(prepared(sa.select(OutboundRequest).where(OutboundRequest.ticket_id == ticket.id)
                                        .order_by(OutboundRequest.id.desc()).limit(1)))
    return {"conversations": conversations, "latest_outbound": latest}

