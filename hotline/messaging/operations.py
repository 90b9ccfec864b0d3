"""Every write to the outbox: queue a message with the change that causes it, claim it for
sending, record what the gateway said, fail what cannot go, send again on the centre's word.

A message is sent at most once per intent: queuing the same intent twice is one row, a
claim of one message just before its send is a conditional update only one worker wins,
its outcome is written only while the claim is still ours, and a claim that outlives its
lease (the worker died while sending it) is failed for a person to look at, never sent again
blindly.
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
from hotline.messaging.models import Message, MessageChannel, MessagePart, MessageState, PartState
from integrations.messaging import Outgoing, Receipt
from hotline.sla.service import local_tz
from workflows import notify
from workflows.delivery import next_attempt

log = logging.getLogger(__name__)

#: The session flag that asks for a delivery run once the transaction has committed.
WAKE = "messaging.wake"
#: In-app notices written in this transaction, {recipient user id: newest message id}: live pages
#: are told once it has committed (hotline/live).
NOTICED = "messaging.noticed"


def message_values(*, intent: str, channel: MessageChannel | str, template: str, params: dict,
                   recipient: User | None = None, address: str = "", ticket_id: int | None = None,
                   urgent: bool = False, now: datetime | None = None, send_at: datetime | None = None) -> dict:
    """The row of one notice, its text rendered in the recipient's language; sent from `send_at` (now)."""
    now = now or utcnow()
    subject, body = texts.render(template, params, recipient.locale if recipient else None)
    channel = MessageChannel(channel)
    if channel is MessageChannel.SMS:
        body = sms_text(body)
    values = dict(intent_key=intent[:200], channel=channel, template=template, address=address,
                  recipient_user_id=recipient.id if recipient else None, ticket_id=ticket_id,
                  subject=subject[:200], body=body, is_urgent=urgent, state=MessageState.QUEUED,
                  attempts=0, next_attempt_at=send_at or now, created_at=now, sent_at=None, delivered_at=None)
    if channel is MessageChannel.INAPP:   # the row is the notice: it is there once the change commits
        values.update(state=MessageState.DELIVERED, next_attempt_at=None, sent_at=now, delivered_at=now)
    return values


def sms_text(text: str) -> str:
    """A text message as the citizen's phone shows it: the sender's signature first (【12345】)."""
    signature = current_app.config.get("SMS_SIGNATURE") or ""
    return text if text.startswith(signature) else signature + text


def notice_rows(*, intent: str, template: str, params: dict, recipient: User, ticket_id: int | None,
                urgent: bool, after_call: bool = False) -> list[dict]:
    """One notice to one person: in-app at once, and a text message where workflows/notify says so
    (`after_call`: a duty call went first, the text message follows it)."""
    now = utcnow()
    rows = [message_values(intent=f"{intent}:u{recipient.id}:inapp", channel=MessageChannel.INAPP, template=template,
                           params=params, recipient=recipient, ticket_id=ticket_id, urgent=urgent, now=now)]
    sms_at = notify.sms_at(urgent=urgent, wants_sms=recipient.wants_sms, has_mobile=bool(recipient.mobile),
                           local_now=now.astimezone(local_tz()), after_call=after_call)
    if sms_at is not None:
        rows.append(message_values(intent=f"{intent}:u{recipient.id}:sms", channel=MessageChannel.SMS,
                                   template=template, params=params, recipient=recipient, address=recipient.mobile,
                                   ticket_id=ticket_id, urgent=urgent, now=now, send_at=sms_at))
    return rows


def department_notice_rows(*, intent: str, template: str, params: dict, recipients: list[User],
                           duty_phone: str | None, ticket_id: int | None, urgent: bool) -> list[dict]:
    """One notice to a department's people; for an urgent order at night (workflows/notify.duty_call)
    a voice call to the department's duty phone goes first and their text messages follow it."""
    now = utcnow()
    call = notify.duty_call(template=template, urgent=urgent, has_duty_phone=bool(duty_phone),
                            local_now=now.astimezone(local_tz()))
    rows = [message_values(intent=f"{intent}:duty:voice", channel=MessageChannel.VOICE, template=template,
                           params=params, address=duty_phone, ticket_id=ticket_id, urgent=True, now=now)] if call else []
    for user in recipients:
        rows.extend(notice_rows(intent=intent, template=template, params=params, recipient=user,
                                ticket_id=ticket_id, urgent=urgent, after_call=call))
    return rows


def _insert_new():
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    columns = Message.__table__.c
    return insert(Message.__table__).on_conflict_do_nothing(index_elements=["intent_key"]).returning(
        columns.id, columns.recipient_user_id, columns.channel)


def _note_noticed(rows) -> None:
    """Remember whom this transaction's new in-app notices are for (see NOTICED)."""
    noticed = db.session.info.setdefault(NOTICED, {})
    for row in rows:
        if row.recipient_user_id is not None and MessageChannel(row.channel) is MessageChannel.INAPP:
            noticed[row.recipient_user_id] = max(row.id, noticed.get(row.recipient_user_id, 0))


def queue_message(**notice) -> Message | None:
    """Queue one notice in the caller's transaction; None when this intent was queued before.

    Takes the arguments of `message_values`.
    """
    new = db.session.execute(_insert_new(), [message_values(**notice)]).first()
    if new is None:
        return None
    db.session.info[WAKE] = True
    _note_noticed([new])
    return db.session.get(Message, new.id)


def queue_messages(rows: list[dict]) -> int:
    """Queue many notices (rows from `message_values`) in few statements; returns how many were new."""
    if not rows:
        return 0
    new = db.session.execute(_insert_new(), rows).all()
    if new:
        db.session.info[WAKE] = True
        _note_noticed(new)
    return len(new)


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


def due_ids(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Messages waiting to be sent now, urgent first then oldest (a worker claims each in turn)."""
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(Message.id).where(Message.state == MessageState.QUEUED, Message.next_attempt_at <= now)
        .order_by(Message.is_urgent.desc(), Message.next_attempt_at, Message.id).limit(limit)))


def claim(message_id: int, now: datetime | None = None) -> Message | None:
    """Take one message for sending now, for one lease; None when another worker took it first."""
    now = now or utcnow()
    won = db.session.execute(
        sa.update(Message).where(Message.id == message_id, Message.state == MessageState.QUEUED)
        .values(state=MessageState.SENDING, attempts=Message.attempts + 1, lease_until=now + timedelta(seconds=current_app.config["MESSAGE_LEASE_SECONDS"]),
                next_attempt_at=None).execution_options(synchronize_session=False)).rowcount
    if not won:
        return None
    message = db.session.get(Message, message_id)
    db.session.refresh(message)
    return message


def outgoing(message: Message) -> Outgoing:
    """What the channel is handed: plain data."""
    return Outgoing(message_id=message.id, address=message.address, text=message.body, subject=message.subject,
                    urgent=message.is_urgent,
                    extra={"ticket_id": str(message.ticket_id)} if message.ticket_id else {})


def _settle(message: Message, lease: datetime, **values) -> bool:
    """Write the outcome of our attempt, if the message is still ours (our lease, still sending)."""
    done = db.session.execute(
        sa.update(Message).where(Message.id == message.id, Message.state == MessageState.SENDING,
                                 Message.lease_until == lease)
        .values(lease_until=None, **values).execution_options(synchronize_session=False)).rowcount
    if not done:
        log.warning("message %s was no longer ours when its attempt ended; its state is left as it is", message.id)
    db.session.expire(message)
    return bool(done)


def record_sent(message: Message, receipt: Receipt, now: datetime | None = None) -> bool:
    """The gateway took it (and, for in-app notices and the log sink, that is delivery)."""
    now = now or utcnow()
    # a delivery report may have come back before this outcome was written (a fast network): it wins,
    # and of two (the parts of a long message) the one of failure
    state = sa.case((Message.failed_at.is_not(None), MessageState.FAILED.value),
                    (Message.delivered_at.is_not(None), MessageState.DELIVERED.value),
                    else_=(MessageState.DELIVERED if receipt.delivered else MessageState.SENT).value)
    settled = _settle(message, message.lease_until, state=state, sent_at=now,
                      delivered_at=sa.func.coalesce(Message.delivered_at, now if receipt.delivered else None),
                      provider_id=receipt.provider_id,
                      last_error=sa.case((Message.failed_at.is_not(None), Message.last_error), else_=None))
    if settled:
        _record_parts(message.id, receipt, now)
    return settled


def _record_parts(message_id: int, receipt: Receipt, now: datetime) -> None:
    """The parts of a long SMS as this send made them, replacing those of an earlier send."""
    db.session.execute(sa.delete(MessagePart).where(MessagePart.message_id == message_id)
                       .execution_options(synchronize_session=False))
    if len(receipt.part_ids) > 1 and not receipt.delivered:
        db.session.execute(sa.insert(MessagePart), [
            dict(message_id=message_id, number=n, provider_id=part_id, state=PartState.SENT, updated_at=now)
            for n, part_id in enumerate(receipt.part_ids, 1)])


def record_failure(message: Message, error: str, *, permanent: bool, now: datetime | None = None) -> bool:
    """A failed attempt: queued again after a pause, or failed for good (shown to the centre)."""
    now = now or utcnow()
    retry_at = next_attempt(message.attempts, now, permanent=permanent,
                            max_attempts=current_app.config["MESSAGE_MAX_ATTEMPTS"])
    if retry_at is None:
        log.warning("message %s to %s failed for good after %d attempt(s): %s", message.id,
                    message.address or message.recipient_user_id, message.attempts, error)
        return _settle(message, message.lease_until, state=MessageState.FAILED, failed_at=now,
                       next_attempt_at=None, last_error=error[:2000])
    return _settle(message, message.lease_until, state=MessageState.QUEUED, next_attempt_at=retry_at,
                   last_error=error[:2000])


def record_delivery_report(provider_id: str, delivered: bool, detail: str = "",
                           now: datetime | None = None, *, message_id: int | None = None) -> Message | None:
    """A gateway's delivery report; None (and a log line) when it names no message of ours.

    `provider_id` names a message or one part of a long one (SMPP: the centre's id of the part).
    A message with parts is delivered once every part is and failed as soon as one part fails.
    A gateway that reports on a long message's parts under the message's own id (Kannel) cannot
    say which part: the message is delivered at its first report of delivery, and failed by any
    report of failure, even after one of delivery (a part failed), except where the message was
    failed before it was known sent (interrupted while sending: the report shows it went out).

    A gateway that carries our own id back (`message_id`) may report before the sending worker has
    written the gateway's acceptance: the outcome is kept on the message and `record_sent` honours it.
    """
    now = now or utcnow()
    part = db.session.scalar(sa.select(MessagePart).where(MessagePart.provider_id == provider_id).limit(1))
    message = part.message if part is not None else \
        db.session.scalar(sa.select(Message).where(Message.provider_id == provider_id))
    if message is None and message_id is not None:
        message = db.session.get(Message, message_id)
    if message is None:
        log.warning("delivery report for unknown message %r ignored", provider_id)
        return None
    if part is not None:
        return _part_report(message, part, delivered, detail, now)
    # Each outcome is one conditional UPDATE, never a read then a write: the sending worker may write the
    # gateway's acceptance between the two (a report read "sending", then kept only a time on a message
    # left "sent" for ever), and two reports on one message may arrive at once.
    error = (detail or "the gateway reports it undelivered")[:2000]
    outcome = dict(delivered_at=now) if delivered else dict(failed_at=now, last_error=error)
    row = sa.update(Message).where(Message.id == message.id).execution_options(synchronize_session=False)
    if not db.session.execute(row.where(Message.state == MessageState.SENDING).values(**outcome)).rowcount:
        # the report came after the acceptance (or the acceptance was written while it was on its way)
        if delivered:      # not over a failure of a sent message: a part of it failed (Kannel's reports)
            db.session.execute(row.where(sa.or_(Message.state != MessageState.FAILED, Message.sent_at.is_(None)))
                               .values(state=MessageState.DELIVERED, **outcome))
        else:
            db.session.execute(row.where(Message.state != MessageState.FAILED)
                               .values(state=MessageState.FAILED, **outcome))
    db.session.refresh(message)
    return message


def _part_report(message: Message, part: MessagePart, delivered: bool, detail: str, now: datetime) -> Message:
    """A report on one part of a long message, and what it makes of the message."""
    if delivered:
        part.state, part.error = PartState.DELIVERED, None
    elif part.state is not PartState.DELIVERED:
        part.state, part.error = PartState.FAILED, (detail or "the gateway reports it undelivered")[:2000]
    part.updated_at = now
    if message.state not in (MessageState.SENT, MessageState.DELIVERED, MessageState.FAILED):
        db.session.flush()                          # a part of an earlier send: the message is being sent again
        return message
    parts = message.parts
    failed = next((p for p in parts if p.state is PartState.FAILED), None)
    if failed is not None:
        if message.state is not MessageState.FAILED:
            message.state, message.failed_at = MessageState.FAILED, now
            message.last_error = f"part {failed.number}/{len(parts)}: {failed.error}"[:2000]
    elif all(p.state is PartState.DELIVERED for p in parts):
        message.state, message.delivered_at = MessageState.DELIVERED, now
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
    message.attempts = 0          # a full round of tries again, with the pauses
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
