"""A call centre for real-call tests: tone prompts, a two-level flow, an agent, a worker.

Prompts are tones of known pitch, so what a caller heard can be checked in order; voices
are tones too (citizen 440 Hz, agent 1000 Hz, supervisor 2000 Hz), so who heard whom is
checked in the audio each side received and in the worker's two-channel recording.
"""
from __future__ import annotations

import json
import tempfile
import time

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.telephony.backend import AppBackend
from hotline.telephony.operations.configuration import install_defaults
from hotline.telephony.models import Agent, Call, CallQueue, IvrFlow, Prompt, QueueMember
from integrations.telephony.phone import Phone
from integrations.telephony.prompts import audio_key, tone, wav_bytes
from integrations.telephony.worker import Settings, Worker
from tests.telephony.ports import udp_block
from tests.telephony.sip_services import SipProxy, free_udp_port
from workflows.acd import AgentState

#: Each prompt a tone of its own pitch (Hz) and length (s).
TONES = {"welcome": (500, 0.6), "policy_notice": (600, 0.6), "main_menu": (700, 1.0),
         "consult_menu": (800, 1.0), "please_hold": (900, 0.6), "queue_hold": (1300, 2.0),
         "invalid_choice": (300, 0.4), "leave_message": (1500, 0.6), "survey": (1700, 1.0),
         "survey_thanks": (1900, 0.5), "goodbye": (2100, 0.4), "closed": (2300, 0.4), "enter_order": (2500, 0.5)}
CITIZEN_HZ, AGENT_HZ, SUPERVISOR_HZ = 440, 1000, 2000

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


def loudest(audio, hz: float, window: float = 0.5) -> float:
    """The strongest power of one frequency in any half second of `audio` (a WAV path or PCM).

    Windowed, because a tone that crossed a jitter buffer has small phase jumps that a
    single transform over a whole call would average away."""
    from tests.telephony.sip_services import goertzel_power, read_wav
    if not isinstance(audio, (bytes, bytearray)):
        audio = read_wav(audio)[1].tobytes()
    step = int(8000 * window) * 2
    return max((goertzel_power(audio[i:i + step], hz, rate=8000) for i in range(0, len(audio) - step + 1, step)),
               default=0.0)


def heard(audio, hz: float) -> bool:
    return loudest(audio, hz) > 0.005


def set_up_centre(app, world, tmp_path):
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


def start_worker(app, sip_proxy: SipProxy) -> tuple[Worker, Phone]:
    """One telephony worker registered at the proxy as the service AOR."""
    backend = AppBackend(app)
    name = f"test-{free_udp_port()}"
    backend.starting(name)
    hotline = Worker(backend, Settings(name=name, spool_dir=tempfile.mkdtemp(prefix="telephony-spool-")))
    low = udp_block(200)
    phone = Phone(server=sip_proxy.host, port=sip_proxy.port, username=sip_proxy.service_aor,
                  password=sip_proxy.secret, local_ip="127.0.0.1", sip_port=free_udp_port(),
                  rtp_ports=(low, low + 200), on_incoming=hotline.on_incoming)
    hotline.attach(phone)
    phone.start()
    hotline.start_loops()
    return hotline, phone


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
