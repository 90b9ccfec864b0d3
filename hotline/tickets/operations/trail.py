"""The order's trail: every change appended as an event, the system's own chasing in bulk, and the
listeners other features register to react to a change in the same transaction."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app

from hotline.auth.models import User
from hotline.core.bulk import update_each
from hotline.extensions import db
from hotline.tickets.models import Assignment, Ticket, TicketEvent
from workflows.states import Action

#: Where an application keeps the listeners of its orders' trails (like tickets.panels' panels).
EXTENSION_KEY = "hotline.ticket_event_listeners"
Listener = Callable[[TicketEvent, Ticket, Assignment | None], None]


def on_event(app: Flask, listener: Listener) -> None:
    """Have `listener(event, ticket, assignment)` called for every entry recorded on an order's trail
    in `app`, in the same transaction: how other features react to a change without tickets
    importing them (messaging queues the notices a change causes). Registering twice is once."""
    listeners = app.extensions.setdefault(EXTENSION_KEY, [])
    if listener not in listeners:
        listeners.append(listener)


def record_event(ticket: Ticket, actor: User | None, action: str, *, at: datetime,
                 from_status: str | None = None, to_status: str | None = None,
                 note: str | None = None, data: dict | None = None,
                 assignment: Assignment | None = None, internal: bool = False) -> TicketEvent:
    """Append one entry to the order's trail (never updated, never deleted)."""
    event = TicketEvent(
        ticket=ticket, at=at, actor_id=actor.id if actor else None, action=str(action),
        from_status=str(from_status) if from_status else None,
        to_status=str(to_status) if to_status else None,
        note=note, data=data, assignment_id=assignment.id if assignment else None,
        is_internal=internal)
    db.session.add(event)
    ticket.updated_at = at
    if event.to_status is not None and event.from_status != event.to_status:
        ticket.status_changed_at = at
    for listener in current_app.extensions.get(EXTENSION_KEY, ()):
        listener(event, ticket, assignment)
    return event


#: What the system's chasing of a deadline is called in the order's trail (workflows/escalation.Step).
CHASE_EVENTS = {"remind": "remind", "urge": Action.URGE.value, "escalate": Action.SUPERVISE.value}


def record_chases(chases: list[dict], *, at: datetime) -> None:
    """The system reminded, urged or escalated deadlines: the trail and the counters, in bulk.

    Each chase is {"ticket_id", "assignment_id", "step" ("remind" | "urge" | "escalate"), "data"}.
    The actor is nobody (the system); an urge counts like a person's (urges are a measure: once for
    the order and once for each assignment urged); an escalation raises the order to supervision
    (督办) if no one has yet. A few statements for any
    number of chases: a sweep may record a hundred thousand at once.
    """
    if not chases:
        return
    db.session.execute(sa.insert(TicketEvent.__table__), [
        {"ticket_id": c["ticket_id"], "assignment_id": c["assignment_id"], "at": at, "actor_id": None,
         "action": CHASE_EVENTS[c["step"]], "data": c["data"], "is_internal": False} for c in chases])
    per_ticket: dict[int, dict] = {}
    per_assignment: dict[int, int] = {}
    for c in chases:
        row = per_ticket.setdefault(c["ticket_id"], {"id": c["ticket_id"], "urges": 0, "level": 0})
        if c["step"] == "urge":
            row["urges"] = 1            # one urge of the order, however many of its deadlines it named
            per_assignment[c["assignment_id"]] = per_assignment.get(c["assignment_id"], 0) + 1
        elif c["step"] == "escalate":
            row["level"] = 1
    tickets = Ticket.__table__
    update_each(tickets, list(per_ticket.values()), {"id": sa.Integer(), "urges": sa.Integer(), "level": sa.Integer()},
                lambda v: {"urge_count": tickets.c.urge_count + v.urges,
                           "supervision_level": sa.case((tickets.c.supervision_level < v.level, v.level),
                                                        else_=tickets.c.supervision_level),
                           "updated_at": at})
    assignments = Assignment.__table__
    update_each(assignments, [{"id": k, "urges": n} for k, n in per_assignment.items()],
                {"id": sa.Integer(), "urges": sa.Integer()},
                lambda v: {"urge_count": assignments.c.urge_count + v.urges})
