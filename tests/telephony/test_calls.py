"""Real calls through kamailio: a SIPp citizen, a telephony worker, baresip agents.

The worker runs in this process on the test's database (SQLite and PostgreSQL); see
centre.py for the tones that stand for prompts and voices.
"""
from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.telephony.models import (Agent, Call, Callback, CallbackReason, CallDisposition, CallLeg, OutboundKind,
                                      OutboundRequest, OutboundStatus, QueueEvent, QueueLogEntry, Recording)
from hotline.telephony.operations import calls
from hotline.tickets.models import Attachment, ReturnVisit, Ticket
from hotline.tickets.operations import register_ticket
from tests.telephony.caller import Citizen
from tests.telephony.centre import AGENT_HZ, CITIZEN_HZ, heard, inbound_call, wait_for
from tests.telephony.sip_services import dominant_frequency
from workflows.acd import AgentState
from workflows.states import TicketStatus
from workflows.vocabulary import Satisfaction

pytestmark = pytest.mark.telephony


def test_a_citizen_walks_the_menu_reaches_an_agent_and_both_hear_each_other(worker, baresip_agent, sip_proxy,
                                                                           tmp_path, centre):
    agent = baresip_agent("8001", tone=AGENT_HZ)
    citizen = Citizen(sip_proxy, tmp_path / "citizen", talk_seconds=16, voice_hz=CITIZEN_HZ).dial()
    try:
        citizen.wait_connected()
        heard = [citizen.wait_for_tone(500, 5)]
        heard.append(citizen.wait_for_tone(600, 3, after=heard[-1]))
        heard.append(citizen.wait_for_tone(700, 3, after=heard[-1]))
        citizen.press("1")  # consultation: the second level
        heard.append(citizen.wait_for_tone(800, 4, after=heard[-1]))
        citizen.press("2")  # to an agent
        heard.append(citizen.wait_for_tone(900, 4, after=heard[-1]))
        heard.append(citizen.wait_for_tone(AGENT_HZ, 10, after=heard[-1]))  # the agent speaks
        assert heard == sorted(heard)
        # while they talk, the agent registers an order for this call
        call = wait_for(inbound_call, 5, "the caller's call record")
        assert db.session.get(Agent, centre.users["call_taker"].id).current_call_id == call.sip_call_id
        actor = db.session.get(User, centre.users["call_taker"].id)
        ticket = register_ticket(actor, {"type": "consultation", "subject": "咨询公积金提取",
                                         "content": "市民来电咨询公积金提取条件。",
                                         "citizen": {"phone": "13812345678"}})
        calls.link_order(ticket.id, call.sip_call_id)  # as the desk does after registering from the screen-pop
        db.session.commit()
        assert citizen.wait_ended(30) == 0, citizen.diagnostics()
    finally:
        citizen.close()

    call = wait_for(lambda: (c := inbound_call()) and c.ended_at and c, 10, "the call's end")
    assert call.disposition is CallDisposition.ANSWERED
    assert call.ivr_path == "welcome>main>consult>agent"
    assert call.ticket_id == ticket.id and call.agent_user_id == centre.users["call_taker"].id
    events = [e.event for e in db.session.scalars(
        sa.select(QueueLogEntry).where(QueueLogEntry.call_id == call.id).order_by(QueueLogEntry.id))]
    assert events[:4] == [QueueEvent.ENTERED, QueueEvent.OFFERED, QueueEvent.ANSWERED, QueueEvent.COMPLETED]

    recording = wait_for(lambda: db.session.scalar(sa.select(Recording).where(Recording.call_id == call.id)),
                         10, "the recording")
    path = Path(centre and worker.backend.app.config["RECORDING_DIR"]) / recording.path
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == recording.sha256 and recording.size == len(data)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        frames = w.readframes(w.getnframes())
    import audioop
    citizen_side, agent_side = audioop.tomono(frames, 2, 1, 0), audioop.tomono(frames, 2, 0, 1)
    assert abs(dominant_frequency(citizen_side) - CITIZEN_HZ) < 15
    assert abs(dominant_frequency(agent_side) - AGENT_HZ) < 15
    # and the agent's phone heard the citizen
    assert abs(dominant_frequency(agent.last_recording().heard) - CITIZEN_HZ) < 15


def test_a_caller_who_hangs_up_while_queued_is_abandoned_and_owed_a_callback(worker, sip_proxy, tmp_path, centre):
    db.session.execute(sa.update(Agent).values(state=AgentState.NOT_READY))
    db.session.commit()
    citizen = Citizen(sip_proxy, tmp_path / "citizen", caller="13700000001", talk_seconds=9).dial()
    try:
        citizen.wait_connected()
        citizen.wait_for_tone(700, 5)
        citizen.press("0")
        citizen.wait_for_tone(1300, 6)  # waiting music: nobody is ready
        assert citizen.wait_ended(20) == 0, citizen.diagnostics()
    finally:
        citizen.close()
    call = wait_for(lambda: (c := inbound_call()) and c.ended_at and c, 10, "the call's end")
    assert call.disposition is CallDisposition.ABANDONED
    events = [e.event for e in db.session.scalars(sa.select(QueueLogEntry).where(QueueLogEntry.call_id == call.id))]
    assert events == [QueueEvent.ENTERED, QueueEvent.ABANDONED]
    callback = db.session.scalar(sa.select(Callback).where(Callback.call_id == call.id))
    assert (callback.phone, callback.reason) == ("13700000001", CallbackReason.ABANDONED)


def test_an_agent_who_lets_the_phone_ring_out_is_set_not_ready_and_the_caller_waits_on(
        worker, baresip_agent, sip_proxy, tmp_path, centre):
    baresip_agent("8001", tone=AGENT_HZ, answermode="manual")
    citizen = Citizen(sip_proxy, tmp_path / "citizen", caller="13700000002", talk_seconds=18).dial()
    try:
        citizen.wait_connected()
        citizen.wait_for_tone(700, 5)
        citizen.press("0")
        agent_id = centre.users["call_taker"].id
        wait_for(lambda: db.session.get(Agent, agent_id).state is AgentState.RINGING, 8, "the agent's phone ringing")
        # ten seconds of ringing (the queue's ring time), then the desk is marked empty
        wait_for(lambda: db.session.get(Agent, agent_id).state is AgentState.NOT_READY, 15, "the ring-out")
        citizen.wait_for_tone(1300, 3)  # still waiting, with music
        assert citizen.wait_ended(20) == 0, citizen.diagnostics()
    finally:
        citizen.close()
    assert db.session.get(Agent, agent_id).reason == "missed_call"
    call = wait_for(lambda: (c := inbound_call()) and c.ended_at and c, 10, "the call's end")
    assert call.disposition is CallDisposition.ABANDONED
    agent_leg = db.session.scalar(sa.select(Call).where(Call.parent_id == call.id, Call.leg == CallLeg.AGENT))
    assert agent_leg.callee == "8001" and agent_leg.disposition is CallDisposition.NO_ANSWER
    assert agent_leg.answered_at is None


def test_a_voicemail_becomes_an_order_with_the_callers_audio(worker, sip_proxy, tmp_path, centre, app):
    citizen = Citizen(sip_proxy, tmp_path / "citizen", caller="13900000009", talk_seconds=9).dial()
    try:
        citizen.wait_connected()
        citizen.wait_for_tone(700, 5)
        citizen.press("9")
        citizen.wait_for_tone(1500, 4)  # "leave a message after the tone"
        assert citizen.wait_ended(20) == 0, citizen.diagnostics()
    finally:
        citizen.close()
    call = wait_for(lambda: (c := inbound_call()) and c.ended_at and c, 10, "the call's end")
    assert call.disposition is CallDisposition.VOICEMAIL
    ticket = db.session.get(Ticket, call.ticket_id)
    assert ticket.channel.value == "phone" and ticket.citizen.phone == "13900000009"
    attachment = db.session.scalar(sa.select(Attachment).where(Attachment.ticket_id == ticket.id))
    stored = Path(app.config["ATTACHMENT_DIR"])
    wav_path = next(stored.rglob(f"*{attachment.sha256}*"))
    with wave.open(str(wav_path)) as w:
        message = w.readframes(w.getnframes())
    assert len(message) > 2 * 8000 * 2  # seconds of the caller talking
    assert heard(message, CITIZEN_HZ)


def test_a_survey_call_records_the_citizens_digit_1_as_a_satisfied_visit(worker, sip_proxy, tmp_path, centre,
                                                                        api, new_ticket):
    number = new_ticket()
    assert api("call_taker").action(number, "answer", {"reply": "已告知"}).status_code == 200
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    citizen = Citizen(sip_proxy, tmp_path / "citizen", caller="13812345678", talk_seconds=30).answer_at_trunk()
    try:
        db.session.add(OutboundRequest(kind=OutboundKind.SURVEY, phone="13812345678", ticket_id=ticket.id,
                                       requested_by_id=centre.users["reviewer"].id))
        db.session.commit()
        citizen.wait_connected(timeout=15)
        citizen.wait_for_tone(1700, 5)
        citizen.press("1")
        citizen.wait_for_tone(1900, 5)
        assert citizen.wait_ended(20) == 0, citizen.diagnostics()
    finally:
        citizen.close()
    visit = wait_for(lambda: db.session.scalar(sa.select(ReturnVisit).where(ReturnVisit.ticket_id == ticket.id)),
                     10, "the return visit")
    assert visit.satisfaction is Satisfaction.SATISFIED
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.CLOSED
    request = db.session.scalar(sa.select(OutboundRequest))
    assert (request.status, request.result) == (OutboundStatus.DONE, "1")
