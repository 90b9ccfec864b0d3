"""The voice channel: a voice notice in the outbox becomes a call the telephony worker places, and
the call's end is the message's delivery report (the real call: tests/telephony)."""
from __future__ import annotations

import sqlalchemy as sa

from hotline.extensions import db
from hotline.messaging import operations
from hotline.messaging.models import Message, MessageChannel, MessageState
from hotline.messaging.tasks import deliver_due
from hotline.telephony.models import OutboundKind, OutboundRequest, OutboundStatus
from hotline.telephony.operations import outbound
from tests.hotline.messaging.test_outbox import sms_log  # noqa: F401


def duty_call(ticket_id=None, phone="025-52345678") -> Message:
    message = operations.queue_message(
        intent="urge:a7:duty:voice", channel=MessageChannel.VOICE, template="urge", address=phone,
        params={"number": "20261002000001", "title": "燃气管道泄漏", "due": "2026-10-03 01:00"},
        ticket_id=ticket_id, urgent=True)
    db.session.commit()
    return message


def placed() -> OutboundRequest:
    return db.session.scalar(sa.select(OutboundRequest))


def test_a_voice_notice_asks_the_worker_to_call_and_is_delivered_when_answered(world, sms_log, new_ticket):
    from hotline.tickets.models import Ticket
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == new_ticket()))
    message = duty_call(ticket.id)
    assert deliver_due() == 1
    request = placed()
    assert (request.kind, request.status, request.phone) == (OutboundKind.NOTIFICATION, OutboundStatus.QUEUED,
                                                            "02552345678")
    assert request.requested_by_id is None and request.ticket_id == ticket.id
    assert request.message == "催办：工单20261002000001（燃气管道泄漏）已于2026-10-03 01:00到期，请立即办理。"
    message = db.session.get(Message, message.id)
    assert message.state is MessageState.SENT and message.provider_id == f"call-{request.id}"
    assert deliver_due() == 0                                       # handed over once, not again

    outbound.finish(request.id, ok=True, result="played", call_pk=None)   # as the worker reports it
    db.session.commit()
    assert db.session.get(Message, message.id).state is MessageState.DELIVERED


def test_a_duty_phone_that_never_answers_fails_the_message_for_the_centre(world, sms_log):
    message = duty_call()
    deliver_due()
    request = placed()
    for attempt in range(1, request.max_attempts + 1):
        request.attempts = attempt
        outbound.finish(request.id, ok=False, result="no_answer", call_pk=None)
        db.session.commit()
        expected = OutboundStatus.FAILED if attempt == request.max_attempts else OutboundStatus.QUEUED
        assert placed().status is expected                         # tried again after a pause, then given up
    message = db.session.get(Message, message.id)
    assert message.state is MessageState.FAILED
    assert message.last_error == "the call was not answered (no_answer) after 3 attempt(s)"


def test_a_duty_phone_that_is_no_number_fails_at_once(world, sms_log):
    message = duty_call(phone="值班室")
    deliver_due()
    message = db.session.get(Message, message.id)
    assert message.state is MessageState.FAILED and "not a phone number" in message.last_error
    assert placed() is None


def test_a_centre_that_places_no_voice_calls_says_so(app, world, sms_log, monkeypatch):
    monkeypatch.setitem(app.config, "VOICE_GATEWAY", "")
    message = duty_call()
    deliver_due()
    message = db.session.get(Message, message.id)
    assert message.state is MessageState.FAILED and message.last_error == "no gateway is configured for Voice call messages"
