"""The escalation sweep as Celery beat runs it every minute, and as `hotline sla sweep` runs it."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from celery import shared_task

from hotline.escalation import operations
from hotline.extensions import db

log = logging.getLogger(__name__)

LOCK = "escalation-sweep"
#: Longer than any sweep should take; a sweeper that died frees the lock when it runs out.
LOCK_TTL = timedelta(minutes=10)


class SweepBusy(RuntimeError):
    """Another sweep holds the lock."""


def run_sweep(at: datetime | None = None, *, batch: int = operations.BATCH,
              progress=None) -> operations.SweepResult:
    """One full pass, a commit per batch, holding the lock; SweepBusy if another pass runs."""
    holder = operations.acquire_lock(LOCK, LOCK_TTL)
    db.session.commit()
    if holder is None:
        raise SweepBusy("another escalation sweep is running")
    total = operations.SweepResult()
    started = time.perf_counter()
    try:
        operations.look_again_if_rules_changed(LOCK, holder)
        db.session.commit()
        after = None
        while True:
            # renewing first also takes SQLite's write lock before the batch is read
            if not operations.renew_lock(LOCK, holder, LOCK_TTL):
                raise SweepBusy("the escalation sweep lost its lock (a batch took longer than the lease)")
            result = operations.sweep_batch(at, after=after, limit=batch)
            db.session.commit()
            total.add(result)
            if result.last is None:
                break
            after = result.last
            if progress:
                progress(total)
    finally:
        db.session.rollback()
        operations.release_lock(LOCK, holder)
        db.session.commit()
    if total.looked_at:
        log.info("escalation sweep: %d assignments looked at, recorded %s, %d notices, %.0f ms",
                 total.looked_at, total.recorded, total.notices, (time.perf_counter() - started) * 1000)
    return total


@shared_task(name="escalation.sweep")
def sweep_task() -> int:
    """Every minute: what crossed a threshold since the last pass (skipped while another pass runs)."""
    try:
        return run_sweep().looked_at
    except SweepBusy:
        log.info("escalation sweep skipped: the previous pass is still running")
        return 0
