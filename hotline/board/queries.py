"""What the supervision board watches: the queues of work waiting on the centre or overdue."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from hotline.auth.models import User
from hotline.core import counts
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.sms import queries as sms_queries
from hotline.tickets import permissions, queries
from hotline.tickets.models import Assignment, ExtensionRequest, Ticket
from workflows.states import AssignmentStatus
from workflows.vocabulary import ExtensionStatus

#: queue key -> the list filter that defines it (one definition, shared with the order list)
QUEUES = {
    "red": {"sla": "red", "sort": "due_at"},
    "yellow": {"sla": "yellow", "sort": "due_at"},
    "returned": {"status": "returned", "sort": "created_at"},
    "replied": {"status": "replied", "sort": "created_at"},
    "awaiting_visit": {"status": "awaiting_visit", "sort": "due_at"},
}


def ticket_queue(viewer: User, key: str, now: datetime) -> sa.Select:
    """The orders of one queue that `viewer` may see, in the queue's order."""
    query, _fields = queries.build_query(viewer, QUEUES[key], now)
    if key == "awaiting_visit":   # an order whose survey by SMS waits for its answer is not called meanwhile
        query = query.where(Ticket.id.not_in(sms_queries.waiting_for_answer()))
    return query


def queue(viewer: User, key: str, now: datetime, limit: int = 50, page_no: int = 1) -> tuple[list[Ticket], int, int]:
    """(rows, total, pages) of one queue; the total capped as on every list page (`core.counts`)."""
    return queries.page_capped(ticket_queue(viewer, key, now), page_no, limit, viewer)


def _pending_extensions() -> sa.Select:
    return sa.select(ExtensionRequest).where(ExtensionRequest.status == ExtensionStatus.PENDING)


def _pending_extensions_in_order() -> sa.Select:
    return (_pending_extensions().options(selectinload(ExtensionRequest.assignment).selectinload(Assignment.ticket))
            .order_by(ExtensionRequest.requested_at, ExtensionRequest.id))


def pending_extensions(limit: int = 50, page_no: int = 1) -> tuple[list[ExtensionRequest], int, int]:
    return counts.capped_page(_pending_extensions_in_order(), page_no, limit)


def _quiet_query(viewer: User, now: datetime, days: int) -> sa.Select:
    """Assignments signed for and not answered whose department has given no word (sign-for,
    progress note, reply) for `days` working days: read from the partial index on last_progress_at."""
    query = sa.select(Assignment).join(Ticket, Ticket.id == Assignment.ticket_id).where(
        Assignment.status == AssignmentStatus.IN_PROGRESS,
        Assignment.last_progress_at < sla.working_days_before(now, days))
    visible = permissions.visible_filter(viewer)
    return query if visible is None else query.where(visible)


def _quiet_in_order(viewer: User, now: datetime, days: int) -> sa.Select:
    return (_quiet_query(viewer, now, days).options(selectinload(Assignment.ticket))
            .order_by(Assignment.last_progress_at, Assignment.id))


def quiet(viewer: User, now: datetime, days: int, limit: int = 50,
          page_no: int = 1) -> tuple[list[Assignment], int, int]:
    """The quietest first (the oldest last word): (rows, total capped, pages)."""
    return counts.capped_page(_quiet_in_order(viewer, now, days), page_no, limit)


def queue_counts(viewer: User, now: datetime) -> dict[str, int]:
    """How many each list of the board holds, each capped (`core.counts`), in one statement, as of a few
    seconds ago at most (`core.counts.counting_instant`)."""
    days = current_app.config["PROGRESS_QUIET_WORKING_DAYS"]
    now = counts.counting_instant(now)
    return counts.capped_counts({**{key: ticket_queue(viewer, key, now) for key in QUEUES},
                                 "extensions": _pending_extensions(), "quiet": _quiet_query(viewer, now, days)})


def first_rows(viewer: User, now: datetime, fold: int) -> dict[str, tuple[list, int]]:
    """key -> (its first `fold` rows, how many it holds) of every list of the board: the counts in one
    statement, then the first rows of each list that holds any (an empty list reads nothing more)."""
    totals = queue_counts(viewer, now)
    days = current_app.config["PROGRESS_QUIET_WORKING_DAYS"]
    out = {}
    for key, total in totals.items():
        if not total:
            out[key] = ([], total)
        elif key in QUEUES:
            out[key] = (queries.load(ticket_queue(viewer, key, now).limit(fold), viewer), total)
        else:
            query = _pending_extensions_in_order() if key == "extensions" else _quiet_in_order(viewer, now, days)
            out[key] = (list(db.session.scalars(query.limit(fold)).unique()), total)
    return out
