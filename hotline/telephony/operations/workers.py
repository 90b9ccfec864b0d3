"""The telephony workers' own rows: a heartbeat each, and freeing what a lost worker held."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.models import Call, QueueEntry, QueueEvent, TelephonyWorker
from hotline.telephony.operations import agents, calls, outbound, queue

#: A worker whose heartbeat is older than this is gone; its callers and agents are freed.
WORKER_TIMEOUT = timedelta(seconds=20)


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
        queue.leave_queue(entry, QueueEvent.ABANDONED)
    agents.free_agents_of(sa.select(Call.sip_call_id).where(Call.worker.in_(names)), now)
    calls.end_calls_of(names, now)
    outbound.requeue_of(names)
    if not name:
        db.session.execute(sa.delete(TelephonyWorker).where(TelephonyWorker.name.in_(names)))
    return len(entries)
