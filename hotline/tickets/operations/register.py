"""Registering a work order: its number, its citizen, its first event; and finding a visible one."""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm

from hotline.auth.models import User
from hotline.categories.operations import active_category
from hotline.citizens.operations import find_or_create_citizen, normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import Forbidden, NotFound
from hotline.core.fields import Fields
from hotline.core.postgres import prepared
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import permissions
from hotline.tickets.models import Ticket, TicketSequence
from hotline.tickets.operations.trail import record_event
from workflows.states import REGISTRARS, Action, TicketStatus
from workflows.vocabulary import Channel, TicketType, Urgency

#: What an order number can look like; anything else is not looked up at all.
NUMBER_SHAPE = re.compile(r"[0-9A-Za-z-]{1,20}")


def next_number(at: datetime) -> str:
    """Date plus daily sequence, e.g. 20261122000123; unique under concurrency.

    One statement: the day's row is created at 1 or counted up, and stays locked by that write
    until the registering transaction ends, so numbers are gapless per day as well as unique.
    """
    day = sla.local_date(at).strftime("%Y%m%d")
    last = db.session.execute(_COUNT_UP, {"day": day}).scalar_one()
    return f"{day}{last:06d}"


#: The day's row created at 1 or counted up, in both backends' words (SQLite has ON CONFLICT ... RETURNING
#: since 3.35). Written out: SQLAlchemy cannot cache the compiled form of its own ON CONFLICT statement, and
#: compiled it again for every order registered.
_COUNT_UP = sa.text(f"INSERT INTO {TicketSequence.__tablename__} (day, last) VALUES (:day, 1) "
                    f"ON CONFLICT (day) DO UPDATE SET last = {TicketSequence.__tablename__}.last + 1 RETURNING last")


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
        category = active_category(code)
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
    query = prepared(sa.select(Ticket).where(Ticket.number == number).options(orm.joinedload(Ticket.lead_department)))
    if for_update:
        query = query.with_for_update(of=Ticket)
    ticket = db.session.scalar(query)
    if ticket is None or not permissions.can_view(user, ticket):
        raise NotFound(_("No work order %(number)s.", number=number))
    return ticket
