"""Real calls through kamailio: a SIPp citizen, a telephony worker, baresip agents.

The worker runs in this process on the test's database (SQLite and PostgreSQL). Prompts
are tones of known pitch, so what the citizen heard can be checked in order; voices are
tones too (citizen 440 Hz, agent 1000 Hz), so who heard whom is checked in the audio
each side received and in the worker's two-channel recording.
"""
from __future__ import annotations

import hashlib
import json
import time
import wave
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.telephony.backend import AppBackend
from hotline.telephony.defaults import install_defaults
from hotline.telephony.models import (Agent, Call, Callback, CallbackReason, CallDisposition, CallQueue, IvrFlow,
                                      OutboundKind, OutboundRequest, OutboundStatus, Prompt, QueueEvent,
                                      QueueLogEntry, QueueMember, Recording)
from hotline.tickets.models import Attachment, ReturnVisit, Ticket
from hotline.tickets.operations import register_ticket
from integrations.telephony.phone import Phone
from integrations.telephony.prompts import audio_key, tone, wav_bytes
from integrations.telephony.worker import Settings, Worker
from tests.telephony.caller import Citizen
from tests.telephony.sip_services import dominant_frequency, free_udp_port, goertzel_power
from workflows.acd import AgentState
from workflows.states import TicketStatus
from workflows.vocabulary import Satisfaction

pytestmark = pytest.mark.telephony

#: Each prompt a tone of its own pitch (Hz) and length (s).
TONES = {"welcome": (500, 0.6), "policy_notice": (600, 0.6), "main_menu": (700, 1.0),
         "consult_menu": (800, 1.0), "please_hold": (900, 0.6), "queue_hold": (1300, 2.0),
         "invalid_choice": (300, 0.4), "leave_message": (1500, 0.6), "survey": (1700, 1.0),
         "survey_thanks": (1900, 0.5), "goodbye": (2100, 0.4), "closed": (2300, 0.4), "enter_order": (2500, 0.5)}
CITIZEN_HZ, AGENT_HZ = 440, 1000

FLOW = {
    "start": "welcome",
    "nodes": {
        "welcome": {"type": "play", "prompts": ["welcome", "policy_notice"], "next": "main"},
        "main": {"type": "menu", "prompts": ["main_menu"], "options": {"1": "consult", "0": "agent", "9": "vm"},
                 "timeout": 5, "retries": 1, "invalid": ["invalid_choice"], "fail": "bye"},
        "consult": {"type": "menu", "prompts": ["consult_menu"], "options": {"2": "agent"},
                    "timeout": 5, "retries": 1, "fail": "bye"},
        "agent": {"type": "queue", "queue": "general", "prompts": ["please_hold"]},
        "vm": {"type": "voicemail", "prompts": ["leave_message"], "max_seconds": 20},
        "bye": {"type": "hangup", "prompts": ["goodbye"]},
    },
}


@pytest.fixture
def centre(app, world, tmp_path):
    """Prompts as tones, the test flow on 12345, the call taker as agent 8001 in `general`."""
    install_defaults()
    for code, (hz, seconds) in TONES.items():
        prompt = db.session.scalar(sa.select(Prompt).where(Prompt.code == code))
        wav = wav_bytes(tone(hz, seconds))
        prompt.audio, prompt.sha256 = wav, audio_key(wav)
    flow = db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == "12345"))
    flow.definition, flow.version = json.dumps(FLOW), flow.version + 1
    queue = db.session.scalar(sa.select(CallQueue).where(CallQueue.code == "general"))
    queue.ring_seconds, queue.wrap_up_seconds, queue.announce_seconds = 10, 2, 600
    agent_user = db.session.get(User, world.users["call_taker"].id)
    agent_user.extension = "8001"
    db.session.add(Agent(user_id=agent_user.id, state=AgentState.READY))
    db.session.add(QueueMember(queue_id=queue.id, user_id=agent_user.id, level=1))
    db.session.commit()
    app.config["RECORDING_DIR"] = str(tmp_path / "recordings")
    return world


@pytest.fixture
def worker(app, centre, sip_proxy):
    """One telephony worker registered at the proxy as the service AOR."""
    backend = AppBackend(app)
    name = f"test-{free_udp_port()}"
    backend.starting(name)
    hotline = Worker(backend, Settings(name=name))
    low = free_udp_port() // 2 * 2
    phone = Phone(server=sip_proxy.host, port=sip_proxy.port, username=sip_proxy.service_aor,
                  password=sip_proxy.secret, local_ip="127.0.0.1", sip_port=free_udp_port(),
                  rtp_ports=(low, low + 200), on_incoming=hotline.on_incoming)
    hotline.attach(phone)
    phone.start()
    hotline.start_loops()
    yield hotline
    hotline.stop()
    phone.stop()
    sip_proxy.remove_aor(sip_proxy.service_aor)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see the worker's commits
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout:g} s")


def inbound_call() -> Call:
    return db.session.scalar(sa.select(Call).where(Call.leg == "inbound").order_by(Call.id.desc()).limit(1))


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
                                         "citizen": {"phone": "13812345678"}}, call_id=call.sip_call_id)
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
    assert goertzel_power(message, CITIZEN_HZ, rate=8000) > 0.01


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
