"""Every write to a work order: registration here, lifecycle steps in `actions`.

Operations mutate, flush and record an event; they never commit. The caller (a
request, a CLI command, a task) commits once at the end of its unit of work.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.citizens.operations import find_or_create_citizen, normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import Forbidden, NotFound
from hotline.core.fields import Fields
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import permissions
from hotline.tickets.models import Assignment, Ticket, TicketEvent, TicketSequence
from workflows.states import REGISTRARS, Action, TicketStatus
from workflows.vocabulary import Channel, TicketType, Urgency

#: What an order number can look like; anything else is not looked up at all.
NUMBER_SHAPE = re.compile(r"[0-9A-Za-z-]{1,20}")


#: Called with (event, ticket, assignment) for every entry on an order's trail, in the same
#: transaction: how other features react to a change without tickets importing them
#: (messaging queues the notices a change causes). Register with `on_event`.
_event_listeners: list[Callable[[TicketEvent, Ticket, Assignment | None], None]] = []


def on_event(listener: Callable[[TicketEvent, Ticket, Assignment | None], None]) -> None:
    """Have `listener` called for every event recorded from now on (once, however often registered)."""
    if listener not in _event_listeners:
        _event_listeners.append(listener)


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
    for listener in _event_listeners:
        listener(event, ticket, assignment)
    return event


def next_number(at: datetime) -> str:
    """Date plus daily sequence, e.g. 20261122000123; unique under concurrency.

    The sequence row is locked by the UPDATE until the registering transaction ends,
    so numbers are gapless per day as well as unique.
    """
    day = sla.local_date(at).strftime("%Y%m%d")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(TicketSequence).values(day=day, last=0)
                       .on_conflict_do_nothing(index_elements=["day"]))
    last = db.session.execute(
        sa.update(TicketSequence).where(TicketSequence.day == day)
        .values(last=TicketSequence.last + 1).returning(TicketSequence.last)).scalar_one()
    return f"{day}{last:06d}"


def register_ticket(actor: User, data: dict, *, at: datetime | None = None) -> Ticket:
    """Register a case (受理) from the fields of API.md's POST /tickets."""
    if actor.role not in REGISTRARS:
        raise Forbidden(_("Your role may not register cases."))
    at = at or utcnow()
    f = Fields(data)
    ticket_type = f.choice("type", TicketType, required=True)
    channel = f.choice("channel", Channel, default=Channel.PHONE)
    subject = f.text("subject", required=True, max_len=200)
    content = f.text("content", required=True, max_len=20000)
    urgency = f.choice("urgency", Urgency)
    address = f.text("address", max_len=255)
    lat = f.number("lat", low=-90, high=90)
    lon = f.number("lon", low=-180, high=180)
    is_confidential = f.boolean("is_confidential", default=False)
    citizen_data = data.get("citizen") if isinstance(data, dict) else None
    phone = name = None
    if citizen_data is not None:
        if not isinstance(citizen_data, dict):
            f.error("citizen", _("Must be an object with name and phone."))
        else:
            cf = Fields(citizen_data)
            name = cf.text("name", max_len=80)
            raw_phone = cf.text("phone", max_len=40)
            if raw_phone is not None:
                phone = normalize_phone(raw_phone)
                if phone is None:
                    f.error("citizen.phone", _("Not a phone number: use 5 to 20 digits, e.g. 13812345678."))
            for key, message in cf.errors.items():
                f.error(f"citizen.{key}", message)
    category = None
    code = f.text("category", max_len=20)
    if code is not None:
        category = db.session.scalar(sa.select(Category).where(Category.code == code, Category.is_active))
        if category is None:
            f.error("category", _("No active category has the code %(code)s.", code=code))
    f.done()

    if urgency is None:
        urgency = (category.default_urgency if category and category.default_urgency else Urgency.GENERAL)
    citizen = find_or_create_citizen(phone, name) if phone else None
    ticket = Ticket(
        status=TicketStatus.REGISTERED, type=ticket_type, channel=channel,
        urgency=urgency, subject=subject, content=content, citizen=citizen, category=category,
        address=address, lat=lat, lon=lon,
        is_confidential=bool(is_confidential) or ticket_type == TicketType.REPORT,
        created_at=at, updated_at=at, created_by_id=actor.id)
    # Numbered last: the day's counter row stays locked from here until the commit.
    ticket.number = next_number(at)
    db.session.add(ticket)
    record_event(ticket, actor, Action.REGISTER, at=at, to_status=TicketStatus.REGISTERED,
                 data={"channel": channel.value, "type": ticket_type.value})
    db.session.flush()
    return ticket


def get_visible_ticket(user: User, number: str, *, for_update: bool = False) -> Ticket:
    """The order `number` if `user` may see it; NotFound otherwise (never reveals existence)."""
    if not NUMBER_SHAPE.fullmatch(number or ""):
        raise NotFound(_("No work order %(number)s.", number=(number or "")[:20]))
    query = sa.select(Ticket).where(Ticket.number == number)
    if for_update:
        query = query.with_for_update(of=Ticket)
    ticket = db.session.scalar(query)
    if ticket is None or not permissions.can_view(user, ticket):
        raise NotFound(_("No work order %(number)s.", number=number))
    return ticket


#: What the system's chasing of a deadline is called in the order's trail (workflows/escalation.Step).
CHASE_EVENTS = {"remind": "remind", "urge": Action.URGE.value, "escalate": Action.SUPERVISE.value}


def record_chases(chases: list[dict], *, at: datetime) -> None:
    """The system reminded, urged or escalated deadlines: the trail and the counters, in bulk.

    Each chase is {"ticket_id", "assignment_id", "step" ("remind" | "urge" | "escalate"), "data"}.
    The actor is nobody (the system); an urge counts like a person's (urges are a measure); an
    escalation raises the order to supervision (督办) if no one has yet. A few statements for any
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
        row = per_ticket.setdefault(c["ticket_id"], {"b_id": c["ticket_id"], "b_urges": 0, "b_level": 0})
        if c["step"] == "urge":
            row["b_urges"] += 1
            per_assignment[c["assignment_id"]] = per_assignment.get(c["assignment_id"], 0) + 1
        elif c["step"] == "escalate":
            row["b_level"] = 1
    tickets = Ticket.__table__
    db.session.execute(
        sa.update(tickets).where(tickets.c.id == sa.bindparam("b_id")).values(
            urge_count=tickets.c.urge_count + sa.bindparam("b_urges"),
            supervision_level=sa.case((tickets.c.supervision_level < sa.bindparam("b_level"), sa.bindparam("b_level")),
                                      else_=tickets.c.supervision_level),
            updated_at=at),
        list(per_ticket.values()))
    if per_assignment:
        assignments = Assignment.__table__
        db.session.execute(
            sa.update(assignments).where(assignments.c.id == sa.bindparam("b_id"))
            .values(urge_count=assignments.c.urge_count + sa.bindparam("b_urges")),
            [{"b_id": k, "b_urges": n} for k, n in per_assignment.items()])
