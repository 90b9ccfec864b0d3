"""The queues' shared state: waiting callers (queue entries), the offers made to them, and the queue log.

Every worker runs these against the same database, so whichever worker holds a caller:
the caller at the head of a queue is offered the next agent (see `agents.claim_agents`).
Each function is part of one short unit of work; the caller commits.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.models import Call, CallQueue, QueueEntry, QueueEvent, QueueLogEntry
from hotline.telephony.operations import calls
from workflows.acd import CallerPriority


def log_event(call_id: int, queue_id: int, event: QueueEvent, *, at: datetime | None = None, **values) -> None:
    """One line of the queue log (never changed afterwards)."""
    db.session.add(QueueLogEntry(call_id=call_id, queue_id=queue_id, event=event, at=at or utcnow(), **values))


def log_acw_ended(user_id: int, now: datetime, seconds: float) -> None:
    """The agent's after-call work ended: logged on the call they last completed."""
    last = db.session.scalar(sa.select(QueueLogEntry).where(
        QueueLogEntry.agent_user_id == user_id, QueueLogEntry.event == QueueEvent.COMPLETED)
        .order_by(QueueLogEntry.at.desc(), QueueLogEntry.id.desc()).limit(1))
    if last is not None:
        log_event(last.call_id, last.queue_id, QueueEvent.ACW_ENDED, at=now, agent_user_id=user_id,
                  acw_seconds=seconds)


def enqueue(call: Call, queue: CallQueue, priority: CallerPriority, worker: str) -> QueueEntry:
    now = utcnow()
    entry = QueueEntry(call_id=call.id, queue_id=queue.id, rank=-priority.rank, entered_at=now, worker=worker)
    db.session.add(entry)
    calls.queued(call, queue.id, priority)
    log_event(call.id, queue.id, QueueEvent.ENTERED, at=now)
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


def is_head(entry: QueueEntry) -> bool:
    """Whether this caller is the next one to offer an agent."""
    head = db.session.scalar(
        sa.select(QueueEntry.call_id).where(QueueEntry.queue_id == entry.queue_id,
                                            QueueEntry.offered_user_id.is_(None))
        .order_by(QueueEntry.rank, QueueEntry.entered_at, QueueEntry.call_id).limit(1))
    return head == entry.call_id


def offered(entry: QueueEntry, queue: CallQueue, user_ids: list[int], now: datetime) -> None:
    """Agents are ringing for this caller (the first one named on the entry and the queue)."""
    entry.offered_user_id = user_ids[0]
    queue.last_user_id = user_ids[0]
    for user_id in user_ids:
        log_event(entry.call_id, queue.id, QueueEvent.OFFERED, at=now, agent_user_id=user_id)


def unoffer(entry: QueueEntry) -> None:
    """The caller waits for the next agent again."""
    entry.offered_user_id = None
    db.session.flush()


def answered(entry: QueueEntry, user_id: int, now: datetime) -> None:
    """An agent took the caller, who leaves the queue."""
    log_event(entry.call_id, entry.queue_id, QueueEvent.ANSWERED, at=now, agent_user_id=user_id,
              wait_seconds=(now - entry.entered_at).total_seconds())
    db.session.delete(entry)
    db.session.flush()


def leave_queue(entry: QueueEntry, event: QueueEvent) -> None:
    """The caller left without an agent: hung up (abandoned) or overflowed to voicemail."""
    now = utcnow()
    log_event(entry.call_id, entry.queue_id, event, at=now, wait_seconds=(now - entry.entered_at).total_seconds())
    db.session.delete(entry)
    db.session.flush()
