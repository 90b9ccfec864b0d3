"""What the telephony worker writes through the application, on both databases."""
from __future__ import annotations

import wave

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.telephony.backend import AppBackend
from hotline.telephony.operations.configuration import install_defaults
from hotline.telephony.models import (Call, Callback, CallbackReason, CallbackStatus, OutboundKind, OutboundRequest,
                                      OutboundStatus)
from hotline.tickets.models import Attachment, ReturnVisit, Ticket
from integrations.telephony.prompts import tone, wav_bytes
from workflows.states import TicketStatus
from workflows.vocabulary import Channel, Satisfaction


@pytest.fixture
def backend(app, world):
    install_defaults()
    db.session.commit()
    return AppBackend(app)


def test_the_default_flow_loads_and_its_prompts_are_spoken(backend):
    flow = backend.flow("12345")
    assert flow is not None and flow.start == "welcome"
    pcm = backend.prompt("welcome")
    assert len(pcm) > 16000  # more than a second of 8 kHz 16-bit speech
    assert backend.prompt("welcome") is pcm  # converted once, then served from memory
    assert backend.flow("99999") is None


def test_a_voicemail_becomes_a_phone_order_with_its_audio_and_a_callback(backend):
    record = backend.call_started(sip_call_id="vm-1", leg="inbound", caller="13912345678", callee="12345",
                                  worker="w1")
    message = wav_bytes(tone(440, 2.0))
    backend.voicemail(record.call_pk, "13912345678", message)
    backend.call_ended(record.call_pk, disposition="voicemail", end_reason="remote_hangup", sip_status=None)
    ticket = db.session.scalar(sa.select(Ticket).join(Call, Call.ticket_id == Ticket.id).where(Call.sip_call_id == "vm-1"))
    assert ticket.channel is Channel.PHONE and ticket.status is TicketStatus.REGISTERED
    assert ticket.citizen.phone == "13912345678"
    attachment = db.session.scalar(sa.select(Attachment).where(Attachment.ticket_id == ticket.id))
    assert attachment.filename.endswith(".wav") and attachment.size == len(message)
    call = db.session.get(Call, record.call_pk)
    assert call.ticket_id == ticket.id
    callback = db.session.scalar(sa.select(Callback))
    assert (callback.reason, callback.ticket_id, callback.phone) == (CallbackReason.VOICEMAIL, ticket.id,
                                                                     "13912345678")


def test_an_abandoned_call_is_put_on_the_callback_list(backend):
    record = backend.call_started(sip_call_id="ab-1", leg="inbound", caller="13700000001", callee="12345",
                                  worker="w1")
    backend.enqueue(record.call_pk, "general", "w1")
    backend.leave_queue(record.call_pk, overflow=False)
    backend.call_ended(record.call_pk, disposition="abandoned", end_reason="remote_hangup", sip_status=None)
    callback = db.session.scalar(sa.select(Callback))
    assert (callback.phone, callback.reason, callback.status) == ("13700000001", CallbackReason.ABANDONED,
                                                                  CallbackStatus.PENDING)


def test_vip_callers_are_marked_on_their_call(backend, new_ticket):
    new_ticket()
    from hotline.citizens.models import Citizen
    citizen = db.session.scalar(sa.select(Citizen).where(Citizen.phone == "13812345678"))
    citizen.is_vip = True
    db.session.commit()
    record = backend.call_started(sip_call_id="vip-1", leg="inbound", caller="13812345678", callee="12345",
                                  worker="w1")
    assert record.priority == "vip"


def test_order_progress_is_told_only_to_the_phone_that_reported_it(backend, new_ticket):
    number = new_ticket()
    said = backend.order_progress(number, "13812345678")
    assert said.startswith("工单" + "，".join(number[i:i + 4] for i in range(0, 14, 4)))
    assert f"当前状态：{TicketStatus.REGISTERED.zh}" in said
    assert backend.order_progress(number, "13900000000") == backend.order_progress("20990101000001", "13812345678")


def test_a_survey_answer_of_1_records_a_satisfied_visit(backend, api, world, new_ticket):
    number = new_ticket()
    assert api("call_taker").action(number, "answer", {"reply": "已告知办理流程"}).status_code == 200
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    db.session.add(OutboundRequest(kind=OutboundKind.SURVEY, phone="13812345678", ticket_id=ticket.id,
                                   requested_by_id=world.users["reviewer"].id))
    db.session.commit()
    job = backend.next_outbound("w1")
    assert job.kind == "survey" and backend.next_outbound("w2") is None  # claimed once
    backend.survey_answered(job.id, "1")
    backend.outbound_finished(job.id, ok=True, result="1", call_pk=None)
    db.session.expire_all()
    visit = db.session.scalar(sa.select(ReturnVisit).where(ReturnVisit.ticket_id == ticket.id))
    assert visit.satisfaction is Satisfaction.SATISFIED and visit.is_resolved is True
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.CLOSED
    assert db.session.get(OutboundRequest, job.id).status is OutboundStatus.DONE


def test_an_unanswered_survey_call_is_tried_again_later(backend, world, new_ticket):
    db.session.add(OutboundRequest(kind=OutboundKind.SURVEY, phone="13812345678", max_attempts=2,
                                   requested_by_id=world.users["reviewer"].id))
    db.session.commit()
    job = backend.next_outbound("w1")
    backend.outbound_finished(job.id, ok=False, result="no_answer", call_pk=None)
    req = db.session.get(OutboundRequest, job.id)
    db.session.refresh(req)
    assert req.status is OutboundStatus.QUEUED and backend.next_outbound("w1") is None  # not before 5 minutes
    req.not_before = req.created_at
    db.session.commit()
    job = backend.next_outbound("w1")
    backend.outbound_finished(job.id, ok=False, result="no_answer", call_pk=None)
    db.session.refresh(req)
    assert (req.status, req.attempts) == (OutboundStatus.FAILED, 2)


def test_recordings_are_filed_by_day_and_call(backend, app):
    path = backend.recording_path("a1b2@127.0.0.1")
    assert path.endswith("a1b2_127.0.0.1.wav")
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0" * 3200)
    record = backend.call_started(sip_call_id="a1b2@127.0.0.1", leg="inbound", caller="13700000002",
                                  callee="12345", worker="w1")
    backend.recording_saved(record.call_pk, None, path=path, seconds=0.2, size=3244, sha256="0" * 64)
    from hotline.telephony.models import Recording
    rec = db.session.scalar(sa.select(Recording))
    assert not rec.path.startswith("/") and rec.path.endswith("a1b2_127.0.0.1.wav")


def test_a_voicemail_that_could_not_become_an_order_waits_in_the_spool_and_is_delivered_once(backend, tmp_path):
    from integrations.telephony.worker import Settings, Worker
    worker = Worker(backend, Settings(name="w1", spool_dir=str(tmp_path)))
    record = backend.call_started(sip_call_id="vm-spool", leg="inbound", caller="13912345670", callee="12345",
                                  worker="w1")
    message = wav_bytes(tone(440, 1.0))
    lost = worker._spool_voicemail(999999, "13912345670", message)  # no such call: the write fails
    kept = worker._spool_voicemail(record.call_pk, "13912345670", message)
    assert worker.deliver_spooled() == 1  # one still waiting
    assert lost.exists() and not kept.exists()
    ticket = db.session.scalar(sa.select(Ticket).join(Call, Call.ticket_id == Ticket.id)
                            .where(Call.sip_call_id == "vm-spool"))
    assert ticket is not None
    # a second delivery of the same message (say the first answer was lost) adds nothing
    again = worker._spool_voicemail(record.call_pk, "13912345670", message)
    assert worker._deliver_voicemail(again) and not again.exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1  # the lost one made none
