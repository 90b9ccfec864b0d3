"""The ACD's shared state: waiting callers and agents, claimed with conditional updates.

Every worker runs these against the same database, so whichever worker holds a caller:
the caller at the head of a queue is offered the next agent, and an agent is offered one
call at a time (an agent is claimed only by the UPDATE that finds them still ready).
Each function is one short unit of work; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.sla.service import local_date
from hotline.telephony.models import (Agent, Call, CallQueue, OutboundRequest, OutboundStatus, QueueEntry, QueueEvent,
                                      QueueLogEntry, QueueMember, TelephonyWorker)
from workflows.acd import AgentSnapshot, AgentState, CallerPriority, Strategy, order_agents

#: A worker whose heartbeat is older than this is gone; its callers and agents are freed.
WORKER_TIMEOUT = timedelta(seconds=20)
#: Reason recorded when an agent let an offered call ring out.
MISSED_REASON = "missed_call"


def local_day_key(at: datetime) -> str:
    return local_date(at).strftime("%Y%m%d")


@dataclass(frozen=True)
class Offer:
    user_id: int
    extension: str
    name: str


def log(call_id: int, queue_id: int, event: QueueEvent, *, at: datetime | None = None, **values) -> None:
    db.session.add(QueueLogEntry(call_id=call_id, queue_id=queue_id, event=event, at=at or utcnow(), **values))


def enqueue(call: Call, queue: CallQueue, priority: CallerPriority, worker: str) -> QueueEntry:
    now = utcnow()
    entry = QueueEntry(call_id=call.id, queue_id=queue.id, rank=-priority.rank, entered_at=now, worker=worker)
    db.session.add(entry)
    call.queue_id, call.priority = queue.id, priority
    log(call.id, queue.id, QueueEvent.ENTERED, at=now)
    db.session.flush()
    return entry


def position(entry: QueueEntry) -> int:
    """1 for the caller at the head of the queue."""
    ahead = db.session.scalar(
        sa.select(sa.func.count()).select_from(QueueEntry).where(
            QueueEntry.queue_id == entry.queue_id,
            sa.or_(QueueEntry.rank < entry.rank,
                   sa.and_(QueueEntry.rank == entry.rank, QueueEntry.entered_at < entry.entered_at),
                   sa.and_(QueueEntry.rank == entry.rank, QueueEntry.entered_at == entry.entered_at,
                           QueueEntry.call_id < entry.call_id))))
    return int(ahead or 0) + 1


def _is_head(entry: QueueEntry) -> bool:
    head = db.session.scalar(
        sa.select(QueueEntry.call_id).where(QueueEntry.queue_id == entry.queue_id,
                                            QueueEntry.offered_user_id.is_(None))
        .order_by(QueueEntry.rank, QueueEntry.entered_at, QueueEntry.call_id).limit(1))
    return head == entry.call_id


def _ready_agents(queue: CallQueue, now: datetime) -> list[tuple[AgentSnapshot, Agent]]:
    day = local_day_key(now)
    rows = db.session.execute(
        sa.select(Agent, QueueMember.level).join(QueueMember, QueueMember.user_id == Agent.user_id)
        .join(User, User.id == Agent.user_id)
        .where(QueueMember.queue_id == queue.id, Agent.state == AgentState.READY,
               User.is_active.is_(True), User.extension.is_not(None))).all()
    return [(AgentSnapshot(agent.user_id, level, agent.idle_since,
                           agent.calls_today if agent.calls_day == day else 0), agent) for agent, level in rows]


def _claim(user_id: int, sip_call_id: str, now: datetime) -> bool:
    """Ringing for this call, if (and only if) the agent is still ready."""
    done = db.session.execute(
        sa.update(Agent).where(Agent.user_id == user_id, Agent.state == AgentState.READY)
        .values(state=AgentState.RINGING, current_call_id=sip_call_id, state_since=now, reason=None)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def claim_agents(entry: QueueEntry, call: Call) -> list[Offer]:
    """Agents to ring for this caller now: none unless the caller heads the queue.

    One agent, or for ring-all every ready agent of the first skill level.
    """
    if entry.offered_user_id is not None or not _is_head(entry):
        return []
    queue = db.session.get(CallQueue, entry.queue_id)
    now = utcnow()
    candidates = _ready_agents(queue, now)
    by_id = {snap.user_id: agent for snap, agent in candidates}
    ordered = order_agents(queue.strategy, [snap for snap, _ in candidates], queue.last_user_id)
    offers: list[Offer] = []
    for snap in ordered:
        if _claim(snap.user_id, call.sip_call_id, now):
            user = by_id[snap.user_id].user
            offers.append(Offer(user.id, user.extension, user.display_name))
            if queue.strategy is not Strategy.RING_ALL:
                break
    if offers:
        entry.offered_user_id = offers[0].user_id
        queue.last_user_id = offers[0].user_id
        for offer in offers:
            log(call.id, queue.id, QueueEvent.OFFERED, at=now, agent_user_id=offer.user_id)
    db.session.flush()
    return offers


def release_agent(user_id: int, sip_call_id: str, *, missed: bool) -> None:
    """An offer that was not taken: back to ready, or not ready if the phone rang out."""
    now = utcnow()
    values = ({"state": AgentState.NOT_READY, "reason": MISSED_REASON} if missed
              else {"state": AgentState.READY, "reason": None})
    db.session.execute(
        sa.update(Agent).where(Agent.user_id == user_id, Agent.current_call_id == sip_call_id)
        .values(current_call_id=None, state_since=now, **values).execution_options(synchronize_session=False))


def unoffer(entry: QueueEntry) -> None:
    """The caller waits for the next agent again."""
    entry.offered_user_id = None
    db.session.flush()


def agent_answered(entry: QueueEntry, call: Call, user_id: int) -> None:
    now = utcnow()
    agent = db.session.get(Agent, user_id)
    day = local_day_key(now)
    agent.calls_today = (agent.calls_today + 1) if agent.calls_day == day else 1
    agent.calls_day = day
    agent.state, agent.state_since = AgentState.ON_CALL, now
    call.agent_user_id, call.answered_at = user_id, call.answered_at or now
    log(call.id, entry.queue_id, QueueEvent.ANSWERED, at=now, agent_user_id=user_id,
        wait_seconds=(now - entry.entered_at).total_seconds())
    db.session.delete(entry)
    db.session.flush()


def leave_queue(entry: QueueEntry, event: QueueEvent) -> None:
    """The caller left without an agent: hung up (abandoned) or overflowed to voicemail."""
    now = utcnow()
    log(entry.call_id, entry.queue_id, event, at=now, wait_seconds=(now - entry.entered_at).total_seconds())
    db.session.delete(entry)
    db.session.flush()


def call_completed(call: Call, user_id: int, talk_seconds: float) -> None:
    """The agent hung up or was hung up on: after-call work for the queue's wrap-up time."""
    now = utcnow()
    queue = db.session.get(CallQueue, call.queue_id) if call.queue_id else None
    wrap = queue.wrap_up_seconds if queue else 0
    db.session.execute(
        sa.update(Agent).where(Agent.user_id == user_id, Agent.current_call_id == call.sip_call_id)
        .values(state=AgentState.AFTER_CALL_WORK if wrap else AgentState.READY, current_call_id=None,
                state_since=now, idle_since=now, acw_until=now + timedelta(seconds=wrap))
        .execution_options(synchronize_session=False))
    if queue:
        log(call.id, queue.id, QueueEvent.COMPLETED, at=now, agent_user_id=user_id, talk_seconds=talk_seconds)


def hold_for_outbound(user_id: int, sip_call_id: str) -> tuple[AgentState, str | None] | None:
    """The agent's phone is about to ring for a call they placed (click to dial, callback):
    on a call from now, so the queue offers them nothing. Returns their state before, to
    go back to afterwards, or None when they are ringing or on a call already."""
    agent = db.session.get(Agent, user_id)
    if agent is None:
        agent = Agent(user_id=user_id, state=AgentState.OFFLINE)
        db.session.add(agent)
        db.session.flush()
    before = (agent.state, agent.reason)
    done = db.session.execute(
        sa.update(Agent).where(Agent.user_id == user_id, Agent.state.not_in([AgentState.RINGING, AgentState.ON_CALL]))
        .values(state=AgentState.ON_CALL, current_call_id=sip_call_id, state_since=utcnow())
        .execution_options(synchronize_session=False))
    return before if done.rowcount == 1 else None


def release_after_outbound(user_id: int, sip_call_id: str, state: AgentState, reason: str | None) -> None:
    """Back to where the agent was before placing the call."""
    now = utcnow()
    values = {"state": state, "reason": reason, "current_call_id": None, "state_since": now}
    if state is AgentState.READY:
        values["idle_since"] = now
    db.session.execute(sa.update(Agent).where(Agent.user_id == user_id, Agent.current_call_id == sip_call_id)
                       .values(**values).execution_options(synchronize_session=False))


def end_after_call_work(now: datetime | None = None) -> int:
    """Agents whose wrap-up time ran out are ready again."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Agent.user_id, Agent.state_since).where(Agent.state == AgentState.AFTER_CALL_WORK,
                                                          Agent.acw_until <= now)).all()
    for user_id, since in rows:
        done = db.session.execute(
            sa.update(Agent).where(Agent.user_id == user_id, Agent.state == AgentState.AFTER_CALL_WORK)
            .values(state=AgentState.READY, state_since=now, idle_since=now, acw_until=None)
            .execution_options(synchronize_session=False))
        if done.rowcount:
            last = db.session.scalar(sa.select(QueueLogEntry).where(
                QueueLogEntry.agent_user_id == user_id, QueueLogEntry.event == QueueEvent.COMPLETED)
                .order_by(QueueLogEntry.at.desc()).limit(1))
            if last:
                log(last.call_id, last.queue_id, QueueEvent.ACW_ENDED, at=now, agent_user_id=user_id,
                    acw_seconds=(now - since).total_seconds())
    return len(rows)


def heartbeat(name: str, host: str, pid: int, active_calls: int) -> None:
    now = utcnow()
    worker = db.session.get(TelephonyWorker, name)
    if worker is None:
        db.session.add(TelephonyWorker(name=name, host=host, pid=pid, started_at=now, heartbeat_at=now,
                                       active_calls=active_calls))
    else:
        worker.host, worker.pid, worker.heartbeat_at, worker.active_calls = host, pid, now, active_calls
    db.session.flush()


def reap(name: str | None = None) -> int:
    """Free what workers left behind: `name` (at its start) or any whose heartbeat stopped.

    Their waiting callers are gone with them (logged abandoned); agents ringing or talking
    on their calls become ready again; outbound calls they were placing are queued again.
    """
    now = utcnow()
    stale = sa.select(TelephonyWorker.name).where(TelephonyWorker.heartbeat_at < now - WORKER_TIMEOUT)
    names = [name] if name else list(db.session.scalars(stale))
    if not names:
        return 0
    entries = list(db.session.scalars(sa.select(QueueEntry).where(QueueEntry.worker.in_(names))))
    for entry in entries:
        leave_queue(entry, QueueEvent.ABANDONED)
    calls = sa.select(Call.sip_call_id).where(Call.worker.in_(names))
    db.session.execute(
        sa.update(Agent).where(Agent.state.in_([AgentState.RINGING, AgentState.ON_CALL]),
                               Agent.current_call_id.in_(calls))
        .values(state=AgentState.READY, current_call_id=None, state_since=now, idle_since=now)
        .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Call).where(Call.worker.in_(names), Call.ended_at.is_(None))
                       .values(ended_at=now, end_reason="worker_lost").execution_options(synchronize_session=False))
    # calls it was placing are placed again by whichever worker comes next
    db.session.execute(sa.update(OutboundRequest).where(OutboundRequest.claimed_by.in_(names),
                                                        OutboundRequest.status == OutboundStatus.DIALLING)
                       .values(status=OutboundStatus.QUEUED, claimed_by=None)
                       .execution_options(synchronize_session=False))
    if not name:
        db.session.execute(sa.delete(TelephonyWorker).where(TelephonyWorker.name.in_(names)))
    return len(entries)
