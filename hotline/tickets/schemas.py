"""Work orders as JSON, shaped for the viewer: identity and phones hidden where they must be."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from hotline.core.postgres import prepared
from hotline.auth.models import User
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import permissions
from hotline.tickets.models import (Attachment, Comment, ExtensionRequest, Reply, ReturnVisit, Ticket,
                                    TicketEvent)
from workflows.states import CENTRE


def iso(value: datetime | None) -> str | None:
    return value.astimezone(sla.local_tz()).isoformat() if value else None


def citizen_json(ticket: Ticket, viewer: User) -> dict | None:
    if ticket.citizen is None:
        return None
    if not permissions.can_see_identity(viewer, ticket):
        return {"name": None, "phone": None, "is_hidden": True}
    return {"name": ticket.citizen.name,
            "phone": permissions.shown_phone(viewer, ticket, ticket.citizen.phone),
            "is_vip": ticket.citizen.is_vip, "is_hidden": False}


def department_json(dept) -> dict | None:
    return {"id": dept.id, "name": dept.name, "code": dept.code} if dept else None


def ticket_summary(ticket: Ticket, viewer: User, now: datetime) -> dict:
    state = sla.ticket_sla(ticket, now)
    return {
        "number": ticket.number,
        "status": ticket.status.value,
        "type": ticket.type.value,
        "channel": ticket.channel.value,
        "urgency": ticket.urgency.value,
        "subject": ticket.subject,
        "citizen": citizen_json(ticket, viewer),
        "category": {"code": ticket.category.code, "name": ticket.category.name} if ticket.category else None,
        "lead_department": department_json(ticket.lead_department),
        "created_at": iso(ticket.created_at),
        "sla": {"state": state["state"], "due_at": iso(state["due_at"])},
        "is_confidential": permissions.is_confidential(ticket),
        # chased: how often urged (by people and by the sweep), and whether under supervision (督办)
        "urge_count": ticket.urge_count,
        "supervision_level": ticket.supervision_level,
    }


def assignment_json(a, now: datetime) -> dict:
    states = sla.assignment_sla(a, now)
    return {
        "id": a.id,
        "department": department_json(a.department),
        "role": a.role.value,
        "status": a.status.value,
        "parent": a.parent_id,
        "dispatched_at": iso(a.dispatched_at),
        "sign_due_at": iso(a.sign_due_at),
        "signed_at": iso(a.signed_at),
        "reply_due_at": iso(a.reply_due_at),
        "replied_at": iso(a.replied_at),
        "return_due_at": iso(a.return_due_at),
        "extended_days": a.extended_days,
        "return_reason": a.return_reason,
        "urge_count": a.urge_count,
        "last_progress_at": iso(a.last_progress_at),
        "sla": states,
    }


COLLECTIONS = ("assignments", "replies", "extension_requests", "visits", "comments", "attachments")


def ticket_detail(ticket: Ticket, viewer: User, now: datetime, *, fresh: bool = False) -> dict:
    """The whole order; `fresh` (just registered) skips loading what cannot exist yet."""
    out = ticket_summary(ticket, viewer, now)
    out.update({
        "content": ticket.content,
        "address": ticket.address,
        "lat": ticket.lat,
        "lon": ticket.lon,
        "answer": ticket.answer,
        "updated_at": iso(ticket.updated_at),
        "replied_at": iso(ticket.replied_at),
        "closed_at": iso(ticket.closed_at),
        "satisfaction": ticket.satisfaction.value if ticket.satisfaction else None,
        "resolved": ticket.is_resolved,
        "merged_into": ticket.merged_into.number if ticket.merged_into_id else None,
        "reopen_count": ticket.reopen_count,
    })
    out.update({name: [] for name in COLLECTIONS} if fresh else _collections(ticket, viewer, now))
    return out


#: The order's child rows the detail lists, by key; most orders have few of them.
CHILDREN = {"replies": Reply, "extension_requests": ExtensionRequest, "visits": ReturnVisit,
            "comments": Comment, "attachments": Attachment}


def _children_present(ticket: Ticket) -> set[str]:
    """Which of CHILDREN the order has rows of, in one statement (only those are then read)."""
    row = db.session.execute(prepared(sa.select(*(sa.exists().where(model.ticket_id == ticket.id).label(key)
                                                  for key, model in CHILDREN.items())))).one()
    return {key for key in CHILDREN if row._mapping[key]}


def _collections(ticket: Ticket, viewer: User, now: datetime) -> dict:
    secret_files = permissions.can_see_confidential_files(viewer, ticket)
    present = _children_present(ticket)

    def rows(key):
        if key not in present:
            return []
        model = CHILDREN[key]
        query = sa.select(model).where(model.ticket_id == ticket.id).order_by(model.id)
        if model is Comment:
            query = query.options(orm.joinedload(Comment.author))
        return db.session.scalars(query)

    return {
        "assignments": [assignment_json(a, now) for a in ticket.assignments],
        "replies": [{"id": r.id, "assignment": r.assignment_id, "content": r.content,
                     "contacted_citizen": r.contacted_citizen, "status": r.status.value,
                     "created_at": iso(r.created_at), "review_note": r.review_note} for r in rows("replies")],
        "extension_requests": [{"id": e.id, "assignment": e.assignment_id, "days": e.days, "reason": e.reason,
                                "status": e.status.value, "requested_at": iso(e.requested_at),
                                "new_due_at": iso(e.new_due_at)} for e in rows("extension_requests")],
        "visits": [{"satisfaction": v.satisfaction.value, "resolved": v.is_resolved, "note": v.note,
                    "visited_at": iso(v.visited_at)} for v in rows("visits")],
        "comments": [{"id": c.id, "content": c.content, "internal": c.is_internal,
                      "author": c.author.display_name if c.author else None, "created_at": iso(c.created_at)}
                     for c in rows("comments")],
        "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "sha256": a.sha256, "created_at": iso(a.created_at)}
                        for a in rows("attachments") if secret_files or not a.is_confidential],
    }


def event_json(event: TicketEvent) -> dict:
    return {
        "at": iso(event.at),
        "actor": event.actor.display_name if event.actor else None,
        "actor_role": event.actor.role.value if event.actor else None,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "data": event.data,
    }


def visible_events(ticket: Ticket, viewer: User) -> list[TicketEvent]:
    """The order's trail in order, internal steps only for the centre."""
    query = sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    if viewer.role not in CENTRE:
        query = query.where(TicketEvent.is_internal.is_(False))
    return list(db.session.scalars(prepared(query)))


def events_for(ticket: Ticket, viewer: User, *, events: list[TicketEvent] | None = None,
               files: list[Attachment] | None = None) -> list[dict]:
    """The trail as `viewer` may read it; `events` (from `visible_events`) and `files` (all the order's
    attachments) when the caller has read them already."""
    hidden_files: set[int] = set()
    if not permissions.can_see_confidential_files(viewer, ticket):
        # a confidential file's upload names it (often after the reporter): hide it like the file
        hidden_files = {f.id for f in files if f.is_confidential} if files is not None else set(db.session.scalars(
            sa.select(Attachment.id).where(Attachment.ticket_id == ticket.id, Attachment.is_confidential.is_(True))))
    return [event_json(e) for e in (visible_events(ticket, viewer) if events is None else events)
            if not (e.action == "attach" and (e.data or {}).get("attachment") in hidden_files)]
