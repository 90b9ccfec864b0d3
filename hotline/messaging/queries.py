"""Reads of the outbox for the centre's page and the API."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import get_locale

from hotline.core.recent import Recent
from hotline.extensions import db
from hotline.messaging.models import Message, MessageChannel, MessageState
from hotline.tickets.models import Ticket

PER_PAGE = 50


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def message_row(message: Message, number: str | None = None) -> dict:
    """One message as the API answers it and the page shows it."""
    locale = str(get_locale() or "zh")
    return {
        "id": message.id,
        "ticket": number,
        "channel": message.channel.value,
        "channel_title": message.channel.title_for(locale),
        "template": message.template,
        "recipient": message.recipient.display_name if message.recipient else None,
        "address": message.address or None,
        "subject": message.subject,
        "body": message.body,
        "is_urgent": message.is_urgent,
        "state": message.state.value,
        "state_title": message.state.title_for(locale),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "created_at": _iso(message.created_at),
        "next_attempt_at": _iso(message.next_attempt_at),
        "sent_at": _iso(message.sent_at),
        "delivered_at": _iso(message.delivered_at),
        "failed_at": _iso(message.failed_at),
    }


def ticket_messages(ticket: Ticket) -> list[dict]:
    """Every message sent about one order, oldest first."""
    rows = db.session.scalars(sa.select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id))
    return [message_row(m, ticket.number) for m in rows]


def outbox(states: list[MessageState], page: int) -> tuple[list[dict], int]:
    """Messages in `states` (newest first) with the order numbers they belong to, and their count."""
    where = Message.state.in_(states)
    total = db.session.scalar(sa.select(sa.func.count(Message.id)).where(where)) or 0
    rows = db.session.execute(
        sa.select(Message, Ticket.number).outerjoin(Ticket, Ticket.id == Message.ticket_id).where(where)
        .order_by(Message.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return [message_row(m, number) for m, number in rows], total


def counts() -> dict[str, int]:
    """How many messages are in each state now (failed and queued are the centre's worry)."""
    rows = db.session.execute(sa.select(Message.state, sa.func.count(Message.id)).group_by(Message.state)).all()
    found = {state.value: 0 for state in MessageState}
    found.update({state.value: n for state, n in rows})
    return found


def notices_of(user_id: int, page: int) -> tuple[list[dict], int]:
    """A user's in-app notices, newest first, with how many there are."""
    where = sa.and_(Message.recipient_user_id == user_id, Message.channel == MessageChannel.INAPP)
    total = db.session.scalar(sa.select(sa.func.count(Message.id)).where(where)) or 0
    rows = db.session.execute(
        sa.select(Message, Ticket.number).outerjoin(Ticket, Ticket.id == Message.ticket_id).where(where)
        .order_by(Message.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return [{**message_row(m, number), "is_unread": m.read_at is None} for m, number in rows], total


def unread_notices(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Message.id)).where(
        Message.recipient_user_id == user_id, Message.channel == MessageChannel.INAPP,
        Message.read_at.is_(None))) or 0


#: The header's unread count per user, kept a few seconds (RECENT_ROWS_SECONDS): every page draws it, and
#: the live stream moves the bell itself as notices arrive; reading or writing a notice here forgets it.
_unread_recent = Recent(Message)


def unread_notices_recent(user_id: int) -> int:
    """`unread_notices`, as counted at most RECENT_ROWS_SECONDS ago in this process (the page header)."""
    return _unread_recent.get(user_id, lambda: unread_notices(user_id))
