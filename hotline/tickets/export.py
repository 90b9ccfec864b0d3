"""The work-order list as a spreadsheet: the list's own filters, headers and values in the user's language."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _, pgettext
from sqlalchemy.orm import selectinload

from hotline.auth.models import User
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import queries, schemas
from hotline.tickets.models import Ticket
from workflows.states import TicketStatus
from workflows.vocabulary import Channel, TicketType, Urgency

#: At most this many orders in one download (the API's CSV export has the same limit).
LIMIT = 50000


def headers() -> list[str]:
    return [pgettext("order", "Number"), _("Status"), _("Type"), _("Channel"), _("Urgency"), _("Subject"), _("Category"),
            _("Lead department"), _("Citizen"), _("Phone"), _("Registered"), _("Deadline"), _("Deadline state"),
            _("Urges")]


def rows(viewer: User, args: dict, now: datetime, locale: str):
    """One list per order the list shows `viewer` (raises Invalid on bad filters, as the list does)."""
    query, _fields = queries.build_query(viewer, args, now)
    english = locale.startswith("en")
    states = {"green": _("On time"), "yellow": _("Due soon"), "red": _("Overdue")}
    for ticket in db.session.scalars(query.options(selectinload(Ticket.lead_department)).limit(LIMIT)):
        s = schemas.ticket_summary(ticket, viewer, now)
        citizen = s["citizen"] or {}
        hidden = citizen.get("is_hidden")
        category = ticket.category
        dept = ticket.lead_department
        yield [
            ticket.number, TicketStatus(ticket.status).title_for(locale), TicketType(ticket.type).title_for(locale),
            Channel(ticket.channel).title_for(locale), Urgency(ticket.urgency).title_for(locale), ticket.subject,
            f"{category.code} {(category.name_en or category.name) if english else category.name}" if category else "",
            ((dept.name_en or dept.name) if english else dept.name) if dept else "",
            _("Hidden") if hidden else (citizen.get("name") or ""), "" if hidden else (citizen.get("phone") or ""),
            sla.format_local(ticket.created_at),
            sla.format_local(ticket.due_at) if ticket.due_at else "",
            states.get(s["sla"]["state"], "") if s["sla"]["due_at"] else "",
            ticket.urge_count,
        ]
