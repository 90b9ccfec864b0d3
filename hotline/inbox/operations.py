"""Department writes that the lifecycle steps alone do not cover; they never commit."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Invalid
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations.attachments import add_attachment
from hotline.tickets.models import Attachment, Ticket
from workflows.states import Action


def reply_with_photos(ticket: Ticket, actor: User, data: dict, photos: list, *,
                      at: datetime | None = None) -> list[Attachment]:
    """Reply on the department's assignment and attach the photos taken for it, all or nothing.

    `photos` are uploaded files (anything with .filename and .stream); empty file inputs are
    skipped. A photo that cannot be stored raises Invalid naming it under the field "photos",
    so the caller's rollback undoes the reply too.
    """
    at = at or utcnow()
    perform(ticket, Action.REPLY.value, actor, data, at=at)
    stored = []
    for photo in photos:
        if photo is None or not (photo.filename or "").strip():
            continue
        try:
            stored.append(add_attachment(ticket, actor, photo.filename, photo.stream, at=at))
        except Invalid as err:
            raise Invalid(err.message, fields={
                "photos": _("%(name)s: %(problem)s", name=photo.filename, problem=err.message)}) from None
    return stored
