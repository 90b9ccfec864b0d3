"""The centre's to-do queue: replies and returns to review, extension requests, return visits due,
and orders a citizen answered "not satisfied" by SMS, to reopen.

One list, the longest-waiting first, read from the board's queues (one definition of each,
`hotline.board.queries`): each kind's first rows in index order, merged, so that a page costs its
depth and not the queue's length; the counts stop at the lists' cap.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from hotline.auth.models import User
from hotline.board import queries as board
from hotline.core import counts as capped
from hotline.core.postgres import prepared
from hotline.extensions import db
from hotline.sms import queries as sms
from hotline.tickets import permissions
from hotline.tickets import queries as ticket_queries
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
    ticket: ticket_queries.Listed
    since: datetime | None
    step: Action
    extension: ExtensionRequest | None = None


def parts(viewer: User, now: datetime) -> dict[str, sa.Select]:
    """What waits on `viewer`: each kind's rows as (kind, ticket_id, extension_id, since), unordered, one
    select per kind (built once a request, for the counts and the page)."""
    out = {}
    # since the order moved into the status it waits in (kept on the order by the write path; migration
    # 0029 gave orders loaded in bulk without a trail their last change): read in order from its index
    for kind, (queue, _status, _step) in KINDS.items():
        out[kind] = board.ticket_queue(viewer, queue, now).order_by(None).with_only_columns(
            sa.literal(kind, sa.String).label("kind"), Ticket.id.label("ticket_id"),
            sa.cast(sa.null(), sa.Integer).label("extension_id"), Ticket.status_changed_at.label("since"))
    extensions = (sa.select(sa.literal("extension", sa.String).label("kind"),
                            ExtensionRequest.ticket_id.label("ticket_id"), ExtensionRequest.id.label("extension_id"),
                            ExtensionRequest.requested_at.label("since"))
                  .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                  .where(ExtensionRequest.status == ExtensionStatus.PENDING))
    visible = permissions.visible_filter(viewer)
    if visible is not None:
        extensions = extensions.where(visible)
    out["extension"] = extensions
    # a "3" to the survey by SMS closed the order: the reviewer reopens it (or keeps it closed, on its page)
    answered = sms.awaiting_review().subquery()
    surveys = (sa.select(sa.literal("survey", sa.String).label("kind"), answered.c.ticket_id,
                         sa.cast(sa.null(), sa.Integer).label("extension_id"), answered.c.since)
               .join(Ticket, Ticket.id == answered.c.ticket_id))
    if visible is not None:
        surveys = surveys.where(visible)
    out["survey"] = surveys
    return {kind: out[kind] for kind in ORDER}


def counts(queue: dict[str, sa.Select]) -> dict[str, int]:
    """How many of each kind wait, every kind present (0 when none), each counted up to the lists' cap
    (`core.counts`: "1000+" beyond it), all in one statement; never remembered: the reviewer's own step
    takes an item off at once, and these counts read at most a thousand index entries each."""
    return capped.capped_counts(queue, remember=False)


def total(found: dict[str, int]) -> int:
    """All kinds together; "more than" when any kind's count was capped."""
    n = sum(int(v) for v in found.values())
    return capped.AtLeast(n) if any(capped.is_capped(v) for v in found.values()) else n


def page(queue: dict[str, sa.Select], page_no: int, per_page: int,
         kind: str | None = None) -> tuple[list[Item], bool]:
    """One page of the queue, the longest-waiting first, only `kind` when it is given; and whether
    another page follows. Each kind gives its own first rows up to this page's end (read in order from
    its index), and only those are merged: the work is the page's depth, not the queue's length."""
    depth = page_no * per_page + 1
    firsts = []
    for name, part in queue.items():
        if kind is not None and name != kind:
            continue
        one = part.subquery()
        firsts.append(sa.select(one).order_by(one.c.since, one.c.ticket_id, one.c.extension_id)
                      .limit(depth).subquery())
    todo = sa.union_all(*(sa.select(f) for f in firsts)).subquery("todo")
    rows = db.session.execute(sa.select(todo).order_by(todo.c.since, todo.c.ticket_id, todo.c.extension_id)
                              .limit(per_page + 1).offset((page_no - 1) * per_page)).all()
    more, rows = len(rows) > per_page, rows[:per_page]
    tickets = {t.id: t for t in ticket_queries.load(prepared(
        sa.select(Ticket).where(Ticket.id.in_({r.ticket_id for r in rows}))))} if rows else {}
    extension_ids = {r.extension_id for r in rows if r.extension_id is not None}
    extensions = {e.id: e for e in db.session.scalars(
        sa.select(ExtensionRequest).where(ExtensionRequest.id.in_(extension_ids))
        .options(joinedload(ExtensionRequest.assignment).joinedload(Assignment.department)))} \
        if extension_ids else {}
    return [Item(r.kind, tickets[r.ticket_id], r.since, STEP[r.kind], extensions.get(r.extension_id))
            for r in rows], more
