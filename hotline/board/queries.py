"""What the supervision board watches: the queues of work waiting on the centre or overdue."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from hotline.auth.models import User
from hotline.core import counts
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


def pending_extensions(limit: int = 50, page_no: int = 1) -> tuple[list[ExtensionRequest], int, int]:
    return counts.capped_page(_pending_extensions().options(
        selectinload(ExtensionRequest.assignment).selectinload(Assignment.ticket))
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id), page_no, limit)


def _quiet_query(viewer: User, now: datetime, days: int) -> sa.Select:
    """Assignments signed for and not answered whose department has given no word (sign-for,
    progress note, reply) for `days` working days: read from the partial index on last_progress_at."""
    query = sa.select(Assignment).join(Ticket, Ticket.id == Assignment.ticket_id).where(
        Assignment.status == AssignmentStatus.IN_PROGRESS,
        Assignment.last_progress_at < sla.working_days_before(now, days))
    visible = permissions.visible_filter(viewer)
    return query if visible is None else query.where(visible)


def quiet(viewer: User, now: datetime, days: int, limit: int = 50,
          page_no: int = 1) -> tuple[list[Assignment], int, int]:
    """The quietest first (the oldest last word): (rows, total capped, pages)."""
    return counts.capped_page(_quiet_query(viewer, now, days).options(selectinload(Assignment.ticket))
                              .order_by(Assignment.last_progress_at, Assignment.id), page_no, limit)


def queue_counts(viewer: User, now: datetime) -> dict[str, int]:
    """How many each list of the board holds, each capped (`core.counts`)."""
    out = {key: counts.capped_count(ticket_queue(viewer, key, now)) for key in QUEUES}
    out["extensions"] = counts.capped_count(_pending_extensions())
    out["quiet"] = counts.capped_count(_quiet_query(viewer, now, current_app.config["PROGRESS_QUIET_WORKING_DAYS"]))
    return out
