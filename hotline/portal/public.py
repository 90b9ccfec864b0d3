"""An order as its citizen sees it on the portal: plain status, dates, the public answer.

Never staff names, departments, internal comments or notes: only what the centre
answers the citizen (the direct answer or the approved reply), public comments and the
departments' public progress notes (过程回复), each with its time and nothing of who wrote it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l, lazy_pgettext as _lp

from hotline.citizens.operations import is_mobile
from hotline.extensions import db
from hotline.portal import operations
from hotline.tickets.permissions import is_confidential
from hotline.tickets.models import Assignment, Comment, Reply, Ticket, TicketEvent
from workflows.states import Action, AssignmentRole, TicketStatus
from workflows.vocabulary import ReplyStatus, Satisfaction

#: status -> (short title, one sentence for the citizen)
STATUS_WORDS = {
    TicketStatus.REGISTERED: (_l("Received"), _l("The hotline centre has received your request and is "
                                                 "deciding who should handle it.")),
    TicketStatus.AWAITING_SIGN: (_l("Being handled"), _l("Your request has been sent to the responsible "
                                                        "department.")),
    TicketStatus.IN_PROGRESS: (_l("Being handled"), _l("The responsible department is working on your request.")),
    TicketStatus.RETURNED: (_l("Being handled"), _l("The hotline centre is making sure the right department "
                                                   "handles your request.")),
    TicketStatus.REPLIED: (_l("Answer being checked"), _l("The department has answered; the hotline centre is "
                                                         "checking the answer before it is final.")),
    TicketStatus.AWAITING_VISIT: (_lp("request", "Answered"), _l("Your request has been answered. The hotline centre may "
                                                    "call you to ask whether your problem was solved.")),
    TicketStatus.CLOSED: (_lp("order", "Closed"), _l("Your request has been answered and closed.")),
    TicketStatus.MERGED: (_l("Handled with another request"), _l("Other people reported the same problem; "
                                                                "it is handled together under one order.")),
    TicketStatus.CANCELLED: (_l("Cancelled"), _l("This request was withdrawn or cancelled.")),
}
#: States in which the order's deadline is the department's answer.
EXPECTING_ANSWER = (TicketStatus.AWAITING_SIGN, TicketStatus.IN_PROGRESS, TicketStatus.RETURNED,
                    TicketStatus.REPLIED)
ANSWERED = (TicketStatus.AWAITING_VISIT, TicketStatus.CLOSED)


@dataclass
class PublicOrder:
    number: str
    status: TicketStatus
    status_title: str
    status_text: str
    type: object
    category: str | None
    description: str
    address: str | None
    created_at: datetime
    expected_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    answer: str | None
    messages: list[dict] = field(default_factory=list)
    #: Public progress notes, oldest first: {"text", "at"}.
    progress: list[dict] = field(default_factory=list)
    #: Whether the citizen gets progress notes by text message (None: their number cannot receive them).
    wants_sms: bool | None = None
    #: A confidential order (a report): nothing about it is texted.
    confidential: bool = False
    rating: dict | None = None
    may_rate: bool = False


def _answer(ticket: Ticket) -> str | None:
    """The direct answer, or the latest approved reply of the lead department."""
    if ticket.status not in ANSWERED:
        return None
    if ticket.answer:
        return ticket.answer
    rows = db.session.execute(
        sa.select(Reply.content, Assignment.role, Assignment.parent_id)
        .join(Assignment, Reply.assignment_id == Assignment.id)
        .where(Reply.ticket_id == ticket.id, Reply.status == ReplyStatus.APPROVED)
        .order_by(Reply.id.desc())).all()
    for content, role, parent_id in rows:
        if role == AssignmentRole.LEAD and parent_id is None:
            return content
    return rows[0].content if rows else None


def _progress(ticket: Ticket) -> list[dict]:
    """The departments' progress notes meant for the citizen (an order has a handful)."""
    events = db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == Action.PROGRESS.value,
        TicketEvent.is_internal.is_(False)).order_by(TicketEvent.id))
    return [{"text": (e.data or {}).get("text") or e.note, "at": e.at} for e in events if (e.data or {}).get("public")]


def public_order(ticket: Ticket, locale: str, *, portal_user_id: int | None) -> PublicOrder:
    title, text = STATUS_WORDS[ticket.status]
    comments = db.session.scalars(sa.select(Comment).where(
        Comment.ticket_id == ticket.id, Comment.is_internal.is_(False)).order_by(Comment.id))
    messages = [{"content": c.content, "at": c.created_at} for c in comments
                if portal_user_id is None or c.author_id != portal_user_id]  # the rating is shown apart
    rating_event = operations.citizen_rating(ticket)
    rating = None
    if rating_event is not None:
        data = rating_event.data or {}
        member = Satisfaction.parse(data.get("satisfaction"))
        rating = {"satisfaction": member.title_for(locale) if member else "", "resolved": data.get("resolved"),
                  "comment": rating_event.note, "at": rating_event.at}
    category = None
    if ticket.category is not None:
        category = (ticket.category.name_en or ticket.category.name) if locale.startswith("en") else ticket.category.name
    return PublicOrder(
        number=ticket.number, status=ticket.status, status_title=str(title), status_text=str(text),
        type=ticket.type, category=category, description=ticket.content, address=ticket.address,
        created_at=ticket.created_at,
        expected_at=ticket.due_at if ticket.status in EXPECTING_ANSWER else None,
        answered_at=ticket.replied_at if ticket.status in ANSWERED else None,
        closed_at=ticket.closed_at if ticket.status == TicketStatus.CLOSED else None,
        answer=_answer(ticket), messages=messages, progress=_progress(ticket), rating=rating,
        wants_sms=ticket.citizen.wants_sms if ticket.citizen and is_mobile(ticket.citizen.phone) else None,
        confidential=is_confidential(ticket),
        may_rate=ticket.status in operations.RATEABLE and rating_event is None)
