"""Attachments of an order: checked and kept by hotline.core.files, recorded on the order."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core import files
from hotline.core.base import utcnow
from hotline.core.errors import Forbidden, Invalid
from hotline.extensions import db
from hotline.tickets import permissions
from hotline.tickets.models import Attachment, Ticket
from hotline.tickets.operations import record_event
from workflows.states import CENTRE, FINAL, STAFF


def add_attachment(ticket: Ticket, actor: User, filename: str, stream, *, at: datetime | None = None,
                   confidential: bool = False) -> Attachment:
    """Store an uploaded file and link it to the order."""
    if actor.role not in STAFF or not permissions.can_view(actor, ticket):
        raise Forbidden(_("You may not add files to this order."))
    if confidential and actor.role not in CENTRE:
        raise Forbidden(_("Only the centre marks files confidential."))
    if ticket.status in FINAL:
        raise Invalid(_("The order is closed; files can no longer be added."), fields={"file": _("Closed order.")})
    at = at or utcnow()
    stored = files.store(filename, stream)
    row = Attachment(ticket_id=ticket.id, filename=stored.name, content_type=stored.content_type, size=stored.size,
                     sha256=stored.sha256, uploaded_by_id=actor.id, created_at=at, is_confidential=confidential)
    db.session.add(row)
    db.session.flush()
    record_event(ticket, actor, "attach", at=at, note=stored.name, data={"attachment": row.id, "size": stored.size})
    return row
