"""What the supervision board watches: the queues of work waiting on the centre or overdue."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from hotline.auth.models import User
from hotline.core import counts
from hotline.core.recent import Recent
from hotline.core.postgres import prepared
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


def queue(viewer: User, key: str, now: datetime, limit: int = 50,
          page_no: int = 1) -> tuple[list[queries.Listed], int, int]:
    """(rows, total, pages) of one queue; the total capped as on every list page (`core.counts`)."""
    return queries.page_capped(ticket_queue(viewer, key, now), page_no, limit, viewer)


def _pending_extensions() -> sa.Select:
    return sa.select(ExtensionRequest).where(ExtensionRequest.status == ExtensionStatus.PENDING)


def _pending_extensions_in_order() -> sa.Select:
    # each request with its assignment and order in the same statement (many-to-one: a row each)
    return (_pending_extensions().options(joinedload(ExtensionRequest.assignment).joinedload(Assignment.ticket))
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
    return (_quiet_query(viewer, now, days).options(joinedload(Assignment.ticket))
            .order_by(Assignment.last_progress_at, Assignment.id))


def quiet(viewer: User, now: datetime, days: int, limit: int = 50,
          page_no: int = 1) -> tuple[list[Assignment], int, int]:
    """The quietest first (the oldest last word): (rows, total capped, pages)."""
    return counts.capped_page(_quiet_in_order(viewer, now, days), page_no, limit)


#: The board's counts by who may see what, counting instant and quiet days, kept LIST_COUNT_SECONDS per worker
#: like every list's counts (`core.counts`); found by this short key, the seven statements are not even built.
_counted = Recent(setting="LIST_COUNT_SECONDS", default=0, per_request=False)


def queue_counts(viewer: User, now: datetime) -> dict[str, int]:
    """How many each list of the board holds, each capped (`core.counts`), in one statement, as of a few
    seconds ago at most (`core.counts.counting_instant`): every centre viewer sees the same counts, so the
    reviewers refreshing the board within those seconds share one count."""
    days = current_app.config["PROGRESS_QUIET_WORKING_DAYS"]
    now = counts.counting_instant(now)

    def count() -> dict[str, int]:
        return counts.capped_counts({**{key: ticket_queue(viewer, key, now) for key in QUEUES},
                                     "extensions": _pending_extensions(), "quiet": _quiet_query(viewer, now, days)},
                                    remember=False)
    sees = "all" if permissions.visible_filter(viewer) is None else ("user", viewer.id)
    return _counted.get((str(db.engine.url), sees, now, days, counts.CAP), count)


def _first_orders(viewer: User, keys: list[str], now: datetime, fold: int) -> dict[str, list[queries.Listed]]:
    """key -> the first `fold` orders of each of these queues, in the queue's order: their ids in one statement
    (each queue read in its own order and stopped there, its rows numbered in that order), then the orders
    in one load."""
    lists = {}
    for key in keys:
        query = ticket_queue(viewer, key, now)
        rank = sa.func.row_number().over(order_by=query.get_execution_options()[queries.ORDER])
        lists[key] = query.with_only_columns(Ticket.id, rank.label("rank")).limit(fold)
    ids = {key: [row.id for row in rows] for key, rows in counts.first_rows(lists).items()}
    wanted = {i for found in ids.values() for i in found}
    loaded = {t.id: t for t in queries.load(prepared(sa.select(Ticket).where(Ticket.id.in_(wanted))), viewer)}
    return {key: [loaded[i] for i in found] for key, found in ids.items()}


def first_rows(viewer: User, now: datetime, fold: int) -> dict[str, tuple[list, int]]:
    """key -> (its first `fold` rows, how many it holds) of every list of the board: the counts in one
    statement, then the first rows of the lists that hold any (an empty list reads nothing more): the
    queues' orders together (`_first_orders`), the other lists one statement each."""
    totals = queue_counts(viewer, now)
    days = current_app.config["PROGRESS_QUIET_WORKING_DAYS"]
    busy = [key for key in QUEUES if totals[key]]
    orders = _first_orders(viewer, busy, now, fold) if busy else {}
    out = {}
    for key, total in totals.items():
        if not total:
            out[key] = ([], total)
        elif key in QUEUES:
            out[key] = (orders[key], total)
        else:
            query = _pending_extensions_in_order() if key == "extensions" else _quiet_in_order(viewer, now, days)
            out[key] = (list(db.session.scalars(query.limit(fold)).unique()), total)
    return out
