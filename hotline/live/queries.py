"""Reads for live pages: what a person's bell says, and the events that tell them of new notices."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from hotline.auth.models import User
from hotline.extensions import db
from hotline.messaging.models import Message, MessageChannel
from hotline.messaging.queries import unread_notices
from hotline.messaging.texts import ALERTING
from hotline.tickets.models import Ticket
from workflows.states import DEPARTMENT

#: How many notices the bell's list shows.
BELL_SIZE = 5
#: Longest notice text an event carries (the page links to the whole).
BODY_CHARS = 200
_CHUNK = 500


def order_url(number: str | None, role) -> str | None:
    """Where a person opens an order: department staff in their workspace, the centre on the order page."""
    if not number:
        return None
    endpoint = "inbox.detail" if role in DEPARTMENT else "tickets.detail"
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build(endpoint, {"number": number})


def _latest(message_id: int, subject, body: str, template: str, urgent: bool, number, role) -> dict:
    return {"id": message_id, "subject": subject, "body": body[:BODY_CHARS], "template": template,
            "alert": template in ALERTING, "urgent": bool(urgent), "ticket": number, "url": order_url(number, role)}


def bell(user: User) -> dict:
    """The bell of one person: their unread count and newest unread notices."""
    rows = db.session.execute(
        sa.select(Message.id, Message.subject, Message.body, Message.template, Message.is_urgent, Ticket.number,
                  Message.created_at)
        .outerjoin(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.recipient_user_id == user.id, Message.channel == MessageChannel.INAPP,
               Message.read_at.is_(None))
        .order_by(Message.id.desc()).limit(BELL_SIZE)).all()
    latest = [{**_latest(*row[:6], user.role), "created_at": row.created_at} for row in rows]
    return {"count": unread_notices(user.id), "latest": latest}


def notice_events(newest: dict[int, int]) -> dict[int, dict]:
    """{user id: event} for people with new notices ({user id: their newest message id}).

    Read on a connection of its own: it runs after the commit that wrote the notices.
    """
    messages, tickets, users = Message.__table__, Ticket.__table__, User.__table__
    events: dict[int, dict] = {}
    items = list(newest.items())
    with db.engine.connect() as conn:
        for start in range(0, len(items), _CHUNK):
            chunk = dict(items[start:start + _CHUNK])
            counts = dict(conn.execute(
                sa.select(messages.c.recipient_user_id, sa.func.count(messages.c.id))
                .where(messages.c.recipient_user_id.in_(list(chunk)), messages.c.channel == MessageChannel.INAPP,
                       messages.c.read_at.is_(None))
                .group_by(messages.c.recipient_user_id)).all())
            rows = conn.execute(
                sa.select(messages.c.id, messages.c.recipient_user_id, messages.c.subject, messages.c.body,
                          messages.c.template, messages.c.is_urgent, tickets.c.number, users.c.role)
                .select_from(messages.outerjoin(tickets, tickets.c.id == messages.c.ticket_id)
                             .join(users, users.c.id == messages.c.recipient_user_id))
                .where(messages.c.id.in_(list(chunk.values())))).all()
            for row in rows:
                events[row.recipient_user_id] = {
                    "type": "notice", "count": counts.get(row.recipient_user_id, 0),
                    "latest": _latest(row.id, row.subject, row.body, row.template, row.is_urgent, row.number,
                                      row.role)}
    return events


def newest_notices_since(after_id: int, limit: int = 5000) -> tuple[dict[int, int], int]:
    """In-app notices written after message `after_id`: ({user id: newest message id}, the newest id seen)."""
    messages = Message.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(messages.c.id, messages.c.recipient_user_id)
            .where(messages.c.id > after_id, messages.c.channel == MessageChannel.INAPP)
            .order_by(messages.c.id).limit(limit)).all()
    newest: dict[int, int] = {}
    for row in rows:
        if row.recipient_user_id is not None:
            newest[row.recipient_user_id] = row.id
    return newest, (rows[-1].id if rows else after_id)


def newest_message_id() -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(Message.__table__.c.id))).scalar() or 0
