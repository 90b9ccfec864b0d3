"""Which notices a change to an order causes, and to whom: queued with the change, in its transaction.

Registered with the order's trail (tickets.operations.on_event) when the application is made,
so the tickets feature does not know messaging exists. The escalation sweep queues its own
reminders, urges and escalations; this module covers what people do. A department's public
progress note (过程回复) is texted to the citizen who reported the order.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from hotline.auth.models import User
from hotline.citizens.operations import is_mobile
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.messaging import operations, texts
from hotline.messaging.models import MessageChannel
from hotline.sla.service import format_local, local_tz
from hotline.tickets import operations as tickets
from hotline.tickets.models import Assignment, Ticket, TicketEvent
from hotline.tickets.permissions import is_confidential
from integrations.sms import UCS2_PART
from workflows import notify
from workflows.states import REVIEW, Action, AssignmentStatus, Role

DEPARTMENT_STAFF = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_ADMIN})
#: A progress note's text message is cut to fit this many concatenated parts, signature and frame
#: included (the portal shows the note whole).
PROGRESS_SMS_PARTS = 2


def install(app: Flask) -> None:
    """Queue notices for every change recorded on an order of `app`."""
    tickets.on_event(app, notices_for)


def department_staff(department_id: int) -> list[User]:
    """The active handlers and admins of a department: who hears of its orders."""
    return list(db.session.scalars(sa.select(User).where(
        User.department_id == department_id, User.is_active.is_(True), User.role.in_(DEPARTMENT_STAFF))
        .order_by(User.id)))


def _staff(a: Assignment) -> list[User]:
    """The staff of the assignment's department (a new assignment has no id yet)."""
    return department_staff(a.department.id)


def _centre_reviewers() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.is_active.is_(True), User.role.in_(REVIEW))
                                   .order_by(User.id)))


def _new_assignments(ticket: Ticket, event: TicketEvent) -> list[Assignment]:
    """The assignments this event created (a dispatch, a re-dispatch, a reopen)."""
    return [a for a in ticket.assignments if a.dispatched_at == event.at and a.status is AssignmentStatus.AWAITING_SIGN]


def _plan(event: TicketEvent, ticket: Ticket, assignment: Assignment | None) -> list[tuple[str, Assignment | None, list[User]]]:
    """(template, the assignment it is about, recipients) for one event; empty for most events."""
    action, data = event.action, event.data or {}
    if action in (Action.DISPATCH.value, Action.REOPEN.value) or (
            action == Action.REVIEW_RETURN.value and data.get("outcome") == "redispatch"):
        return [("dispatched", a, _staff(a)) for a in _new_assignments(ticket, event)]
    if action == Action.SUB_DISPATCH.value and assignment is not None:
        return [("dispatched", assignment, _staff(assignment))]
    if action == Action.RETURN.value and assignment is not None:
        if data.get("to") == "parent" and assignment.parent is not None:    # a sub-unit's return: its parent decides
            return [("returned", assignment, _staff(assignment.parent))]
        return [("returned", assignment, _centre_reviewers())]
    if action == Action.REVIEW_RETURN.value and data.get("outcome") == "refuse" and ticket.lead is not None:
        return [("return_refused", ticket.lead, _staff(ticket.lead))]
    if action == Action.REVIEW_EXTENSION.value and assignment is not None:
        template = "extension_approved" if data.get("approve") else "extension_denied"
        return [(template, assignment, _staff(assignment))]
    if action == Action.REVIEW_REPLY.value and assignment is not None:
        template = "reply_approved" if data.get("approve") else "reply_rejected"
        return [(template, assignment, _staff(assignment))]
    if action == Action.URGE.value and event.actor_id is not None and ticket.lead is not None:
        return [("urge", ticket.lead, _staff(ticket.lead))]
    if action == Action.SUPERVISE.value and event.actor_id is not None and ticket.lead is not None:
        admins = [u for u in _staff(ticket.lead) if u.role is Role.DEPARTMENT_ADMIN]
        return [("escalation", ticket.lead, admins)]
    return []


def _progress_to_citizen(event: TicketEvent, ticket: Ticket) -> None:
    """A public progress note, texted to the order's citizen: to a mobile number, unless they said no,
    and never for a confidential order (a text about a report could give its reporter away)."""
    data, citizen = event.data or {}, ticket.citizen
    if not data.get("public") or is_confidential(ticket) or citizen is None or not citizen.wants_sms \
            or not is_mobile(citizen.phone):
        return
    db.session.flush()  # the event's id is the message's idempotency key: one text per note
    room = PROGRESS_SMS_PARTS * UCS2_PART - len(operations.sms_text(texts.render(
        "progress", {"number": ticket.number, "text": ""}, None)[1]))
    text = data["text"] if len(data["text"]) <= room else data["text"][:room - 1] + "…"
    now, urgent = utcnow(), ticket.urgency.value == "urgent"
    operations.queue_message(
        intent=f"{ticket.number}:progress:e{event.id}:citizen:sms", channel=MessageChannel.SMS, template="progress",
        params={"number": ticket.number, "text": text}, address=citizen.phone, ticket_id=ticket.id, urgent=urgent,
        now=now, send_at=notify.sms_at(urgent=urgent, wants_sms=True, has_mobile=True,
                                       local_now=now.astimezone(local_tz())))


def notices_for(event: TicketEvent, ticket: Ticket, assignment: Assignment | None) -> None:
    """Queue the notices `event` causes (nobody hears of their own action)."""
    if event.action == Action.PROGRESS.value:
        _progress_to_citizen(event, ticket)
        return
    rows = []
    for template, about, recipients in _plan(event, ticket, assignment):
        due = (about.sign_due_at if template == "dispatched" else about.reply_due_at) if about else ticket.due_at
        if template == "urge" and due is not None and due > event.at:
            template = "urge_before_due"          # a person urges an order that is not late yet
        params = {"number": ticket.number, "title": ticket.subject,
                  "department": about.department.name if about else "",
                  "due": format_local(due) if due else "—"}
        subject = f"d{about.department.id}" if about is not None else "order"
        rows.extend(operations.department_notice_rows(
            intent=f"{ticket.number}:{event.action}:{event.at.isoformat()}:{subject}:{template}",
            template=template, params=params, recipients=[u for u in recipients if u.id != event.actor_id],
            duty_phone=about.department.duty_phone if about is not None else None, ticket_id=ticket.id,
            urgent=ticket.urgency.value == "urgent"))
    operations.queue_messages(rows)
