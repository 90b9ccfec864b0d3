"""The centre's to-do queue: replies and returns to review, extension requests, return visits due,
and orders a citizen answered "not satisfied" by SMS, to reopen.

One list, the longest-waiting first, read as a UNION of the board's queues (one definition of
each, `hotline.board.queries`) so that it pages in the database however long it grows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from hotline.auth.models import User
from hotline.board import queries as board
from hotline.extensions import db
from hotline.sms import queries as sms
from hotline.tickets import permissions
from hotline.tickets.models import Assignment, ExtensionRequest, Ticket
from workflows.states import Action, TicketStatus
from workflows.vocabulary import ExtensionStatus

#: kind -> (the board queue it is, the status the order waits in, the one step to take)
KINDS = {
    "reply": ("replied", TicketStatus.REPLIED, Action.REVIEW_REPLY),
    "return": ("returned", TicketStatus.RETURNED, Action.REVIEW_RETURN),
    "visit": ("awaiting_visit", TicketStatus.AWAITING_VISIT, Action.VISIT),
}
#: The kinds in the order the page counts them.
ORDER = ("reply", "return", "extension", "visit", "survey")
STEP = {**{kind: step for kind, (_q, _s, step) in KINDS.items()}, "extension": Action.REVIEW_EXTENSION,
        "survey": Action.REOPEN}


@dataclass
class Item:
    """One thing waiting on the centre: what it is, the order, since when, and the step to take."""

    kind: str
    ticket: Ticket
    since: datetime | None
    step: Action
    extension: ExtensionRequest | None = None


def _union(viewer: User, now: datetime):
    parts = []
    # since the order moved into the status it waits in (orders loaded in bulk without a trail: their last change)
    since = sa.func.coalesce(Ticket.status_changed_at, Ticket.updated_at)
    for kind, (queue, _status, _step) in KINDS.items():
        parts.append(board.ticket_queue(viewer, queue, now).order_by(None).with_only_columns(
            sa.literal(kind, sa.String).label("kind"), Ticket.id.label("ticket_id"),
            sa.cast(sa.null(), sa.Integer).label("extension_id"), since.label("since")))
    extensions = (sa.select(sa.literal("extension", sa.String).label("kind"),
                            ExtensionRequest.ticket_id.label("ticket_id"), ExtensionRequest.id.label("extension_id"),
                            ExtensionRequest.requested_at.label("since"))
                  .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                  .where(ExtensionRequest.status == ExtensionStatus.PENDING))
    visible = permissions.visible_filter(viewer)
    if visible is not None:
        extensions = extensions.where(visible)
    parts.append(extensions)
    # a "3" to the survey by SMS closed the order: the reviewer reopens it (or keeps it closed, on its page)
    answered = sms.awaiting_review().subquery()
    surveys = (sa.select(sa.literal("survey", sa.String).label("kind"), answered.c.ticket_id,
                         sa.cast(sa.null(), sa.Integer).label("extension_id"), answered.c.since)
               .join(Ticket, Ticket.id == answered.c.ticket_id))
    if visible is not None:
        surveys = surveys.where(visible)
    parts.append(surveys)
    return sa.union_all(*parts).subquery("todo")


def counts(viewer: User, now: datetime) -> dict[str, int]:
    """How many of each kind wait, every kind present (0 when none)."""
    todo = _union(viewer, now)
    found = dict(db.session.execute(sa.select(todo.c.kind, sa.func.count()).group_by(todo.c.kind)).all())
    return {kind: found.get(kind, 0) for kind in ORDER}


def page(viewer: User, now: datetime, page_no: int, per_page: int, kind: str | None = None) -> list[Item]:
    """One page of the queue, the longest-waiting first; only `kind` when it is given."""
    todo = _union(viewer, now)
    query = sa.select(todo.c.kind, todo.c.ticket_id, todo.c.extension_id, todo.c.since)
    if kind is not None:
        query = query.where(todo.c.kind == kind)
    rows = db.session.execute(query.order_by(todo.c.since, todo.c.ticket_id, todo.c.extension_id)
                              .limit(per_page).offset((page_no - 1) * per_page)).all()
    tickets = {t.id: t for t in db.session.scalars(
        sa.select(Ticket).where(Ticket.id.in_({r.ticket_id for r in rows}))
        .options(selectinload(Ticket.lead_department)))}
    extension_ids = {r.extension_id for r in rows if r.extension_id is not None}
    extensions = {e.id: e for e in db.session.scalars(
        sa.select(ExtensionRequest).where(ExtensionRequest.id.in_(extension_ids))
        .options(selectinload(ExtensionRequest.assignment).selectinload(Assignment.department)))} \
        if extension_ids else {}
    return [Item(r.kind, tickets[r.ticket_id], r.since, STEP[r.kind], extensions.get(r.extension_id))
            for r in rows]
