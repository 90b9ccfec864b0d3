"""Outbound calls (click to dial, notifications) and a supervisor listening, whispering
and barging in, over real SIP through kamailio (SQLite and PostgreSQL)."""
from __future__ import annotations

import audioop
import time

import pytest
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.telephony.models import (Agent, Call, CallLeg, MonitorRequest, OutboundKind, OutboundRequest,
                                      OutboundStatus, Recording)
from tests.telephony.caller import Citizen
from tests.telephony.centre import AGENT_HZ, CITIZEN_HZ, SUPERVISOR_HZ, heard, inbound_call, wait_for
from workflows.acd import AgentState

pytestmark = pytest.mark.telephony


def finished(request_id: int) -> OutboundRequest | None:
    request = db.session.get(OutboundRequest, request_id)
    return request if request.status in (OutboundStatus.DONE, OutboundStatus.FAILED) else None


def test_click_to_dial_rings_the_agent_first_then_the_citizen_and_records_them(worker, baresip_agent, sip_proxy,
                                                                              tmp_path, centre, new_ticket):
    from hotline.tickets.models import Ticket
    agent = baresip_agent("8001", tone=AGENT_HZ)
    citizen = Citizen(sip_proxy, tmp_path / "citizen", talk_seconds=40, voice_hz=CITIZEN_HZ).answer_at_trunk()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == new_ticket()))
    request = OutboundRequest(kind=OutboundKind.CLICK_TO_DIAL, phone="13812345678", ticket_id=ticket.id,
                              agent_user_id=centre.users["call_taker"].id,
                              requested_by_id=centre.users["call_taker"].id)
    db.session.add(request)
    db.session.commit()
    try:
        citizen.wait_connected(timeout=20)  # only after the agent answered
        citizen.wait_for_tone(AGENT_HZ, 5)
        agent_row = db.session.get(Agent, centre.users["call_taker"].id)
        assert agent_row.state is AgentState.ON_CALL  # the queue offers them nothing meanwhile
        time.sleep(1.5)
        agent.hangup()
        assert citizen.wait_ended(15) == 0, citizen.diagnostics()
    finally:
        citizen.close()
    done = wait_for(lambda: finished(request.id), 10, "the click-to-dial request's end")
    assert (done.status, done.result) == (OutboundStatus.DONE, "answered")
    db.session.expire_all()
    assert db.session.get(Agent, centre.users["call_taker"].id).state is AgentState.READY  # as before the call
    legs = db.session.scalars(sa.select(Call).where(Call.ticket_id == ticket.id)).all()
    assert {leg.leg for leg in legs} == {CallLeg.AGENT, CallLeg.OUTBOUND}
    outbound = next(leg for leg in legs if leg.leg is CallLeg.OUTBOUND)
    assert outbound.callee == "13812345678" and outbound.answered_at is not None
    recording = wait_for(lambda: db.session.scalar(sa.select(Recording).where(Recording.call_id == outbound.id)),
                         10, "the recording")
    assert recording.agent_user_id == centre.users["call_taker"].id and recording.seconds > 1
    assert heard(agent.last_recording().heard, CITIZEN_HZ)


def test_a_notification_call_speaks_its_message_and_hangs_up(worker, sip_proxy, tmp_path, centre):
    citizen = Citizen(sip_proxy, tmp_path / "citizen", talk_seconds=40).answer_at_trunk()
    request = OutboundRequest(kind=OutboundKind.NOTIFICATION, phone="13812345678",
                              message="您反映的问题已经办结，感谢您的来电。")
    db.session.add(request)
    db.session.commit()
    try:
        citizen.wait_connected(timeout=15)
        assert citizen.wait_ended(40) == 0, citizen.diagnostics()  # the hotline hung up
    finally:
        citizen.close()
    spoken = citizen.audio()
    assert len(spoken) > 2 * 8000 * 2 and audioop.rms(spoken, 2) > 300  # seconds of speech, not silence
    done = wait_for(lambda: finished(request.id), 10, "the notification's end")
    assert (done.status, done.result) == (OutboundStatus.DONE, "played")


def test_a_supervisor_listens_then_whispers_then_barges_in(worker, baresip_agent, sip_proxy, tmp_path, centre):
    agent = baresip_agent("8001", tone=AGENT_HZ)
    supervisor_user = db.session.get(User, centre.users["supervisor"].id)
    supervisor_user.extension = "8101"
    db.session.commit()
    supervisor = baresip_agent("8101", tone=SUPERVISOR_HZ)
    citizen = Citizen(sip_proxy, tmp_path / "citizen", talk_seconds=22, voice_hz=CITIZEN_HZ).dial()
    try:
        citizen.wait_connected()
        citizen.wait_for_tone(700, 5)
        citizen.press("0")
        citizen.wait_for_tone(AGENT_HZ, 10)
        call = wait_for(inbound_call, 5, "the caller's call record")
        monitor = MonitorRequest(call_id=call.id, supervisor_id=supervisor_user.id, mode="listen")
        db.session.add(monitor)
        db.session.commit()
        wait_for(lambda: db.session.get(MonitorRequest, monitor.id).started_at, 5, "the supervisor's line")
        time.sleep(3)
        listen_end = citizen.heard_seconds()
        db.session.get(MonitorRequest, monitor.id).mode = "whisper"
        db.session.commit()
        time.sleep(3)
        whisper_end = citizen.heard_seconds()
        db.session.get(MonitorRequest, monitor.id).mode = "barge"
        db.session.commit()
        barged = citizen.wait_for_tone(SUPERVISOR_HZ, 5, after=whisper_end)
        assert citizen.wait_ended(30) == 0, citizen.diagnostics()
    finally:
        citizen.close()
    # listening and whispering, the citizen never heard the supervisor; barging, they did
    assert not heard(citizen.audio(0, whisper_end), SUPERVISOR_HZ)
    assert barged > whisper_end
    supervisor_heard = supervisor.last_recording().heard
    assert heard(supervisor_heard, CITIZEN_HZ) and heard(supervisor_heard, AGENT_HZ)
    assert heard(agent.last_recording().heard, SUPERVISOR_HZ)  # whisper and barge reach the agent
    assert listen_end < whisper_end
    ended = wait_for(lambda: db.session.get(MonitorRequest, monitor.id).ended_at, 10, "the monitor's end")
    assert ended is not None
    monitor_leg = db.session.scalar(sa.select(Call).where(Call.parent_id == call.id, Call.leg == CallLeg.MONITOR))
    assert monitor_leg.callee == "8101" and monitor_leg.agent_user_id == supervisor_user.id
    assert monitor_leg.answered_at is not None and monitor_leg.ended_at is not None


def test_a_voice_notice_from_the_outbox_rings_the_duty_phone_and_is_delivered(worker, sip_proxy, tmp_path, centre):
    from hotline.messaging import operations as messages
    from hotline.messaging.models import Message, MessageChannel, MessageState
    from hotline.messaging.tasks import deliver_due
    duty_phone = Citizen(sip_proxy, tmp_path / "duty", talk_seconds=40).answer_at_trunk()
    message = messages.queue_message(
        intent="urge:a1:duty:voice", channel=MessageChannel.VOICE, template="urge", address="02552345678",
        params={"number": "20261002000001", "title": "燃气管道泄漏", "due": "2026-10-03 01:00"}, urgent=True)
    db.session.commit()
    assert deliver_due() == 1                                    # the outbox hands it to the telephony worker
    try:
        duty_phone.wait_connected(timeout=15)
        assert duty_phone.wait_ended(60) == 0, duty_phone.diagnostics()
    finally:
        duty_phone.close()
    spoken = duty_phone.audio()
    assert len(spoken) > 2 * 8000 * 2 and audioop.rms(spoken, 2) > 300   # the notice was spoken
    wait_for(lambda: db.session.get(Message, message.id).state is MessageState.DELIVERED, 10,
             "the voice notice's delivery report")
