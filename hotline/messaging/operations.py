"""Every write to the outbox: queue a message with the change that causes it, claim it for
sending, record what the gateway said, fail what cannot go, send again on the centre's word.

A message is sent at most once per intent: queuing the same intent twice is one row, a
claim is a conditional update only one worker wins, and a claim that outlives its lease
(the worker died while sending) is failed for a person to look at, never sent again blindly.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden
from hotline.extensions import db
from hotline.messaging import permissions, texts
from hotline.messaging.models import Message, MessageChannel, MessageState
from integrations.messaging import Outgoing, Receipt
from workflows.delivery import next_attempt

log = logging.getLogger(__name__)

#: How long a worker may take to hand one message to its gateway.
LEASE = timedelta(minutes=2)
#: The session flag that asks for a delivery run once the transaction has committed.
WAKE = "messaging.wake"


def message_values(*, intent: str, channel: MessageChannel | str, template: str, params: dict,
                   recipient: User | None = None, address: str = "", ticket_id: int | None = None,
                   urgent: bool = False, now: datetime | None = None) -> dict:
    """The row of one notice, its text rendered in the recipient's language."""
    now = now or utcnow()
    subject, body = texts.render(template, params, recipient.locale if recipient else None)
    return dict(intent_key=intent[:200], channel=MessageChannel(channel), template=template, address=address,
                recipient_user_id=recipient.id if recipient else None, ticket_id=ticket_id,
                subject=subject[:200], body=body, is_urgent=urgent, state=MessageState.QUEUED,
                attempts=0, next_attempt_at=now, created_at=now)


def _insert_new():
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(Message.__table__).on_conflict_do_nothing(index_elements=["intent_key"]).returning(
        Message.__table__.c.id)


def queue_message(**notice) -> Message | None:
    """Queue one notice in the caller's transaction; None when this intent was queued before.

    Takes the arguments of `message_values`.
    """
    new_id = db.session.execute(_insert_new(), [message_values(**notice)]).scalar()
    if new_id is None:
        return None
    db.session.info[WAKE] = True
    return db.session.get(Message, new_id)


def queue_messages(rows: list[dict]) -> int:
    """Queue many notices (rows from `message_values`) in few statements; returns how many were new."""
    if not rows:
        return 0
    added = len(db.session.execute(_insert_new(), rows).all())
    if added:
        db.session.info[WAKE] = True
    return added


def fail_interrupted(now: datetime | None = None) -> int:
    """Fail messages whose sender died mid-send: they may have gone out, so they are not resent."""
    now = now or utcnow()
    result = db.session.execute(
        sa.update(Message).where(Message.state == MessageState.SENDING, Message.lease_until < now)
        .values(state=MessageState.FAILED, failed_at=now, lease_until=None, next_attempt_at=None,
                last_error="interrupted while sending: it may have gone out, so it is not sent again "
                           "automatically; send it again from the messages page if it did not arrive"))
    if result.rowcount:
        log.warning("%d message(s) interrupted while sending were failed for review", result.rowcount)
    return result.rowcount


def claim_due(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Take up to `limit` messages due for sending; only one worker wins each (urgent first)."""
    now = now or utcnow()
    candidates = db.session.scalars(
        sa.select(Message.id).where(Message.state == MessageState.QUEUED, Message.next_attempt_at <= now)
        .order_by(Message.is_urgent.desc(), Message.next_attempt_at, Message.id).limit(limit)).all()
    claimed = []
    for message_id in candidates:
        won = db.session.execute(
            sa.update(Message).where(Message.id == message_id, Message.state == MessageState.QUEUED)
            .values(state=MessageState.SENDING, attempts=Message.attempts + 1, lease_until=now + LEASE,
                    next_attempt_at=None)).rowcount
        if won:
            claimed.append(message_id)
    return claimed


def outgoing(message: Message) -> Outgoing:
    """What the channel is handed: plain data."""
    return Outgoing(message_id=message.id, address=message.address, text=message.body, subject=message.subject,
                    urgent=message.is_urgent)


def record_sent(message: Message, receipt: Receipt, now: datetime | None = None) -> Message:
    """The gateway took it (and, for in-app notices and the log sink, that is delivery)."""
    now = now or utcnow()
    message.state = MessageState.DELIVERED if receipt.delivered else MessageState.SENT
    message.sent_at = now
    message.delivered_at = now if receipt.delivered else None
    message.provider_id = receipt.provider_id
    message.lease_until = None
    message.last_error = None
    db.session.flush()
    return message


def record_failure(message: Message, error: str, *, permanent: bool, now: datetime | None = None) -> Message:
    """A failed attempt: queued again after a pause, or failed for good (shown to the centre)."""
    now = now or utcnow()
    limit = current_app.config.get("MESSAGE_MAX_ATTEMPTS")
    retry_at = next_attempt(message.attempts, now, permanent=permanent,
                            **({"max_attempts": limit} if limit else {}))
    message.last_error = error[:2000]
    message.lease_until = None
    if retry_at is None:
        message.state, message.failed_at, message.next_attempt_at = MessageState.FAILED, now, None
        log.warning("message %s to %s failed for good after %d attempt(s): %s", message.id,
                    message.address or message.recipient_user_id, message.attempts, error)
    else:
        message.state, message.next_attempt_at = MessageState.QUEUED, retry_at
    db.session.flush()
    return message


def record_delivery_report(provider_id: str, delivered: bool, detail: str = "",
                           now: datetime | None = None) -> Message | None:
    """A gateway's delivery report; None (and a log line) when it names no message of ours."""
    now = now or utcnow()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == provider_id))
    if message is None:
        log.warning("delivery report for unknown message %r ignored", provider_id)
        return None
    if delivered:
        message.state, message.delivered_at = MessageState.DELIVERED, now
    elif message.state is not MessageState.DELIVERED:
        message.state, message.failed_at = MessageState.FAILED, now
        message.last_error = (detail or "the gateway reports it undelivered")[:2000]
    db.session.flush()
    return message


def send_again(message: Message, actor: User, now: datetime | None = None) -> Message:
    """The centre sends a failed message again (a person decided: this may send it twice)."""
    if not permissions.can_manage_messages(actor):
        raise Forbidden(_("Only the centre may send messages again."))
    if message.state is not MessageState.FAILED:
        raise Conflict(_("Only a failed message can be sent again."), code="not_failed")
    now = now or utcnow()
    message.state, message.next_attempt_at, message.failed_at = MessageState.QUEUED, now, None
    log.info("message %s queued again by %s after: %s", message.id, actor.username, message.last_error)
    db.session.info[WAKE] = True
    db.session.flush()
    return message


def mark_read(user: User, message_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """The user has seen their in-app notices (these, or all); returns how many were unread."""
    now = now or utcnow()
    query = sa.update(Message).where(Message.recipient_user_id == user.id, Message.channel == MessageChannel.INAPP,
                                     Message.read_at.is_(None))
    if message_ids is not None:
        query = query.where(Message.id.in_(message_ids))
    return db.session.execute(query.values(read_at=now)).rowcount
