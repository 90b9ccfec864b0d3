"""The telephony worker: answers calls, walks the IVR, queues callers, rings agents and
bridges them, records, takes voicemail, and places outbound calls.

It reaches the application only through a `Backend` (implemented in
hotline/telephony/backend.py with the application's operations), so this module never
imports the web application.  One thread runs each call's script; the media engine
(one thread for all calls) does the audio.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from integrations.telephony.contract import AgentOffer, Backend, CallRecord, MonitorJob, OutboundJob, QueueSettings
from integrations.telephony.phone import Call, CallGone, CallState, Phone
from integrations.telephony.prompts import tone, wav_bytes
from workflows import ivr

log = logging.getLogger("hotline.telephony")

FRAME_BYTES = 320
#: Pause between two looks at the shared queue while a caller waits.
QUEUE_POLL_SECONDS = 0.25
#: How often outbound requests and supervisors' monitor requests are looked for.
POLL_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 2.0
#: Digits typed after a prompt: the first must come within the node's timeout, the next within this.
INTER_DIGIT_SECONDS = 3.0
SURVEY_ATTEMPTS = 2


@dataclass
class Settings:
    name: str
    #: Prefix that sends a number to the trunk (the proxy strips it).
    trunk_prefix: str = "9"
    #: Append each finished call leg's media figures here as JSON lines (benchmarks).
    stats_path: str | None = None
    #: Voicemails wait here until their order is written (kept across restarts).
    spool_dir: str = "instance/telephony-spool"


# ------------------------------------------------------------------------------ the worker


@dataclass
class Worker:
    backend: Backend
    settings: Settings
    phone: Phone | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _active: set[str] = field(default_factory=set)
    #: Callers' call records a supervisor asked to listen to (refreshed every second).
    _monitored: frozenset[int] = frozenset()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- life

    def attach(self, phone: Phone) -> None:
        self.phone = phone

    def _watch(self, call: Call) -> Call:
        """Every leg this worker handles: its media figures are kept when it ends (if asked)."""
        if self.settings.stats_path:
            call.on_end(self._write_stats)
        return call

    def _write_stats(self, call: Call) -> None:
        line = json.dumps({"worker": self.settings.name, "call": call.id, "direction": call.direction,
                           "end_reason": call.end_reason, **dataclasses.asdict(call.stats())})
        with self._lock, open(self.settings.stats_path, "a", encoding="utf-8") as out:
            out.write(line + "\n")

    def _dial(self, number: str, *, caller_id: str | None = None, timeout: float = 30) -> Call:
        return self._watch(self.phone.dial(number, caller_id=caller_id, timeout=timeout))

    def start_loops(self) -> None:
        for target in (self._housekeeping_loop, self._outbound_loop):
            thread = threading.Thread(target=target, name=target.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def active_calls(self) -> int:
        with self._lock:
            return len(self._active)

    def _run(self, name: str, target: Callable, *args) -> None:
        threading.Thread(target=self._guard, args=(target, *args), name=name, daemon=True).start()

    def _guard(self, target: Callable, *args) -> None:
        try:
            target(*args)
        except Exception:  # one call's failure must never take the worker down
            log.exception("call script failed")

    def _housekeeping_loop(self) -> None:
        while not self.stopping.wait(HOUSEKEEPING_SECONDS):
            try:
                self.backend.heartbeat(self.settings.name, self.active_calls)
                self.backend.housekeeping(self.settings.name)
                self.deliver_spooled()
            except Exception:
                log.exception("housekeeping failed")

    def _outbound_loop(self) -> None:
        """Once a second: calls to place, and which calls supervisors want to join (one query
        for the whole worker, not one per call)."""
        while not self.stopping.wait(POLL_SECONDS):
            try:
                self._monitored = self.backend.monitored_calls()
                while (job := self.backend.next_outbound(self.settings.name)) is not None:
                    self._run(f"outbound-{job.id}", self.outbound, job)
            except Exception:
                log.exception("outbound polling failed")

    # -- inbound

    def on_incoming(self, call: Call) -> None:
        """Called by the phone for each new INVITE; the script runs in its own thread."""
        if self.stopping.is_set():
            call.reject(503)
            return
        self._run(f"call-{call.id[:12]}", self.inbound, self._watch(call))

    def inbound(self, call: Call) -> None:
        try:
            flow = self.backend.flow(call.callee)
        except Exception:  # the database is unreachable: let the proxy try another worker
            log.exception("no flow for %s; refusing the call", call.callee)
            call.reject(503)
            return
        if flow is None:
            call.reject(404)
            return
        try:
            call.answer()
        except CallGone:
            return
        with self._lock:
            self._active.add(call.id)
        record: CallRecord | None = None
        session = ivr.Session(flow, now=self.backend.local_now, is_working_day=self.backend.is_working_day)
        disposition = "self_service"
        try:
            record = self.backend.call_started(sip_call_id=call.id, leg="inbound", caller=call.caller,
                                               callee=call.callee, worker=self.settings.name)
            disposition = self._walk(call, record, session) or disposition
        except CallGone:
            pass
        finally:  # whatever failed, the caller is never left on a dead line
            with self._lock:
                self._active.discard(call.id)
            call.hangup()
            call.wait_ended(2)
            if record is not None:
                self.backend.call_ended(record.call_pk, disposition=disposition, end_reason=call.end_reason,
                                        sip_status=call.sip_status, ivr_path=">".join(session.path)[:400])

    def _walk(self, call: Call, record: CallRecord, session: ivr.Session) -> str | None:
        step = session.start()
        while True:
            self._alive(call)
            if isinstance(step, ivr.Play):
                step = self._play_and_collect(call, step, session)
            elif isinstance(step, ivr.Lookup):
                self._say(call, [self.backend.speech(self.backend.order_progress(step.number, call.caller))])
                step = session.done()
            elif isinstance(step, ivr.Enqueue):
                self._say(call, [self.backend.prompt(p) for p in step.prompts])
                return self._queue(call, record, step.queue)
            elif isinstance(step, ivr.Voicemail):
                return self._voicemail(call, record, step.prompts, step.max_seconds)
            else:
                self._say(call, [self.backend.prompt(p) for p in step.prompts])
                return None

    @staticmethod
    def _alive(call: Call) -> None:
        if call.state is CallState.ENDED:
            raise CallGone(call.id)

    def _say(self, call: Call, sounds: list[bytes], *, interrupt: bool = False) -> bool:
        """Play sounds one after the other; True if a digit interrupted them."""
        for pcm in sounds:
            playback = call.play(pcm, interrupt_on_digit=interrupt)
            while not playback.done.wait(0.05):
                self._alive(call)
            if playback.interrupted:  # the rest is skipped; the digit stays queued for the menu
                return True
        return False

    def _play_and_collect(self, call: Call, step: ivr.Play, session: ivr.Session) -> ivr.Instruction:
        collect = step.collect
        self._say(call, [self.backend.prompt(p) for p in step.prompts], interrupt=collect is not None)
        if collect is None:
            return session.done()
        keyed = ""
        wait = float(collect.timeout)
        while len(keyed) < collect.max_digits:
            digit = call.read_digit(wait)
            self._alive(call)
            if digit is None:
                break
            if collect.terminator and digit == collect.terminator:
                keyed += digit
                break
            keyed += digit
            wait = INTER_DIGIT_SECONDS
        return session.digits(keyed) if keyed else session.timeout()

    # -- queue and agents

    def _queue(self, call: Call, record: CallRecord, queue_code: str) -> str:
        settings = self.backend.enqueue(record.call_pk, queue_code, self.settings.name)
        entered = time.monotonic()
        next_announcement = entered + settings.announce_seconds
        hold = self.backend.prompt(settings.hold_prompt) if settings.hold_prompt else tone(425, 1.0, 2000)
        call.play(hold, loop=True)
        try:
            while True:
                if call.state is CallState.ENDED:
                    self.backend.leave_queue(record.call_pk, overflow=False)
                    return "abandoned"
                if time.monotonic() - entered >= settings.max_wait_seconds:
                    self.backend.leave_queue(record.call_pk, overflow=True)
                    call.stop_playback()
                    return self._voicemail(call, record, ("leave_message",), 120)
                offers = self.backend.claim_agents(record.call_pk)
                if offers:
                    outcome = self._offer(call, record, settings, offers)
                    if outcome is not None:
                        return outcome
                    call.play(hold, loop=True)
                elif time.monotonic() >= next_announcement:
                    position = self.backend.queue_position(record.call_pk)
                    self._say(call, [self.backend.speech(f"您前面还有{position - 1}位来电在等待。")])
                    call.play(hold, loop=True)
                    next_announcement = time.monotonic() + settings.announce_seconds
                time.sleep(QUEUE_POLL_SECONDS)
        except CallGone:
            self.backend.leave_queue(record.call_pk, overflow=False)
            return "abandoned"

    def _offer(self, call: Call, record: CallRecord, settings: QueueSettings,
               offers: list[AgentOffer]) -> str | None:
        """Ring the offered agents; bridge the first who answers. None: nobody did, keep waiting."""
        legs: dict[Call, tuple[AgentOffer, CallRecord]] = {}
        for offer in offers:
            leg = self._dial(offer.extension, caller_id=call.caller, timeout=settings.ring_seconds)
            legs[leg] = (offer, self.backend.call_started(
                sip_call_id=leg.id, leg="agent", caller=call.caller, callee=offer.extension,
                worker=self.settings.name, parent_pk=record.call_pk, agent_user_id=offer.user_id))
        deadline = time.monotonic() + settings.ring_seconds
        answered: Call | None = None
        while answered is None and time.monotonic() < deadline and call.state is not CallState.ENDED:
            answered = next((leg for leg in legs if leg.state is CallState.ANSWERED), None)
            if all(leg.state is CallState.ENDED for leg in legs):
                break
            time.sleep(0.02)
        if answered is not None and call.state is CallState.ENDED:
            answered = None  # the caller gave up while the agent picked up
        for leg, (offer, leg_record) in legs.items():
            if leg is not answered:
                self._drop_offer(call, record, leg, offer, leg_record)
        if answered is None:
            if call.state is CallState.ENDED:
                self.backend.leave_queue(record.call_pk, overflow=False)
                return "abandoned"
            return None
        offer, agent_record = legs[answered]
        self.backend.call_answered(agent_record.call_pk)
        self.backend.agent_answered(record.call_pk, offer.user_id, agent_record.call_pk)
        talk = self._talk(call, answered, record, offer.user_id)
        self.backend.call_completed(record.call_pk, offer.user_id, talk)
        self.backend.call_ended(agent_record.call_pk, disposition="answered", end_reason=answered.end_reason,
                                sip_status=answered.sip_status)
        return "answered"

    def _drop_offer(self, call: Call, record: CallRecord, leg: Call, offer: AgentOffer,
                    leg_record: CallRecord) -> None:
        """An agent leg that will not be bridged: hang it up, free the agent, close its record.

        An agent whose phone rang out (not busy, and the caller still waiting) is set
        not ready, so the next caller is not offered to an empty desk."""
        picked_up = leg.state is CallState.ANSWERED
        leg.hangup()
        leg.wait_ended(2)
        rang_out = not picked_up and leg.end_reason != "busy"
        self.backend.release_agent(record.call_pk, offer.user_id,
                                   missed=rang_out and call.state is not CallState.ENDED)
        if picked_up:
            self.backend.call_answered(leg_record.call_pk)
        disposition = "answered" if picked_up else self._failure(leg)
        self.backend.call_ended(leg_record.call_pk, disposition=disposition, end_reason=leg.end_reason,
                                sip_status=leg.sip_status)

    def _talk(self, caller: Call, agent: Call, record: CallRecord, agent_user_id: int | None) -> float:
        """Bridge two answered legs, recording both, until either hangs up. Returns the talk time."""
        caller.stop_playback()
        started = time.monotonic()
        bridge = caller.bridge(agent, recorder_path=self.backend.recording_path(caller.id))
        monitor: tuple[MonitorJob, Call, CallRecord] | None = None
        ended = threading.Event()
        for leg in (caller, agent):
            leg.on_end(lambda _leg: ended.set())
        while not ended.wait(POLL_SECONDS):
            # the database is asked about this call only when a supervisor wants it
            if monitor is not None or record.call_pk in self._monitored:
                monitor = self._follow_monitor(record, bridge, monitor)
        talk = time.monotonic() - started
        if monitor:
            self._end_monitor(monitor)
        info = bridge.stop()
        caller.hangup()
        agent.hangup()
        if info is not None:
            self.backend.recording_saved(record.call_pk, agent_user_id, path=info.path, seconds=info.seconds,
                                         size=info.bytes, sha256=info.sha256)
        return talk

    def _end_monitor(self, monitor: tuple[MonitorJob, Call, CallRecord]) -> None:
        job, leg, leg_record = monitor
        self._finish_leg(leg, leg_record, "answered")
        self.backend.monitor_finished(job.id)

    def _follow_monitor(self, record: CallRecord, bridge, current: tuple[MonitorJob, Call, CallRecord] | None):
        """Start, change or end a supervisor's listening, as their latest request says."""
        job = self.backend.monitor_request(record.call_pk)
        if current and (job is None or job.id != current[0].id or job.mode == "stop"):
            self._end_monitor(current)
            current = None
        if job is None or job.mode == "stop":
            return current
        if current is None:
            leg = self._dial(job.extension, timeout=20)
            leg_record = self.backend.call_started(
                sip_call_id=leg.id, leg="monitor", caller=self.settings.name, callee=job.extension,
                worker=self.settings.name, parent_pk=record.call_pk, agent_user_id=job.user_id)
            if not leg.wait_answered(20):
                self._finish_leg(leg, leg_record, self._failure(leg))
                self.backend.monitor_finished(job.id)
                return None
            self.backend.call_answered(leg_record.call_pk)
            current = (job, leg, leg_record)
        current[1].monitor(bridge, job.mode)
        return (job, current[1], current[2])

    # -- voicemail

    def _voicemail(self, call: Call, record: CallRecord, prompts, max_seconds: int) -> str:
        self._say(call, [self.backend.prompt(p) for p in prompts] + [tone(1000, 0.4)])
        capture = call.start_capture(max_seconds)
        started = time.monotonic()
        while call.state is not CallState.ENDED and time.monotonic() - started < max_seconds:
            if time.monotonic() - started > 3 and capture.silence_seconds() > 8:
                break
            time.sleep(0.1)
        pcm = capture.stop()
        if len(pcm) < FRAME_BYTES * 25:  # under half a second: nothing was said
            return "abandoned"
        # spooled first: if the order cannot be written now, housekeeping writes it later
        spooled = self._spool_voicemail(record.call_pk, call.caller, wav_bytes(pcm))
        self._deliver_voicemail(spooled)
        return "voicemail"

    def _spool_voicemail(self, call_pk: int, caller: str, wav: bytes) -> Path:
        directory = Path(self.settings.spool_dir)
        directory.mkdir(parents=True, exist_ok=True)
        safe = "".join(c for c in caller if c.isalnum() or c == "+")[:40] or "anonymous"
        path = directory / f"voicemail-{call_pk}-{safe}.wav"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(wav)
        os.replace(tmp, path)
        return path

    def _deliver_voicemail(self, path: Path) -> bool:
        _, call_pk, caller = path.stem.split("-", 2)
        try:
            self.backend.voicemail(int(call_pk), "" if caller == "anonymous" else caller, path.read_bytes())
        except Exception:
            log.exception("voicemail %s kept in the spool; it becomes an order when the database is back", path)
            return False
        path.unlink(missing_ok=True)
        return True

    def deliver_spooled(self) -> int:
        """Orders for voicemails whose first delivery failed; returns how many are still waiting."""
        waiting = sorted(Path(self.settings.spool_dir).glob("voicemail-*.wav"))
        return sum(not self._deliver_voicemail(path) for path in waiting)

    # -- outbound

    def outbound(self, job: OutboundJob) -> None:
        call_pk = None
        try:
            if job.kind in ("click_to_dial", "callback"):
                ok, result, call_pk = self._agent_first(job)
            elif job.kind == "survey":
                ok, result, call_pk = self._survey(job)
            else:
                ok, result, call_pk = self._notify(job)
        except CallGone:
            ok, result = False, "hung_up"
        except Exception:  # the request is finished (or tried again), never left dialling
            log.exception("outbound call %s failed", job.id)
            ok, result = False, "failed"
        self.backend.outbound_finished(job.id, ok=ok, result=result, call_pk=call_pk)

    def _dial_citizen(self, job: OutboundJob, parent_pk: int | None = None) -> tuple[Call, CallRecord]:
        leg = self._dial(self.settings.trunk_prefix + job.phone, timeout=40)
        record = self.backend.call_started(sip_call_id=leg.id, leg="outbound", caller=self.settings.name,
                                           callee=job.phone, worker=self.settings.name, parent_pk=parent_pk,
                                           ticket_id=job.ticket_id, agent_user_id=job.agent_user_id)
        return leg, record

    def _finish_leg(self, leg: Call, record: CallRecord, disposition: str) -> None:
        leg.hangup()
        leg.wait_ended(2)
        self.backend.call_ended(record.call_pk, disposition=disposition, end_reason=leg.end_reason,
                                sip_status=leg.sip_status)

    @staticmethod
    def _failure(leg: Call) -> str:
        """The disposition of a leg that was never answered."""
        return {"busy": "busy", "no_answer": "no_answer", "local_hangup": "no_answer",
                "cancelled": "no_answer"}.get(leg.end_reason or "", "failed")

    def _agent_first(self, job: OutboundJob) -> tuple[bool, str | None, int | None]:
        if not job.agent_extension:
            return False, "no_extension", None
        # the agent is held first, so the queue offers them nothing while their phone rings
        hold = f"outbound-{job.id}-{job.agent_user_id}"
        before = self.backend.agent_places_call(job.agent_user_id, hold)
        if before is None:  # on a queue call right now: never two calls at once
            return False, "agent_busy", None
        try:
            return self._agent_then_citizen(job, self._dial(job.agent_extension, timeout=30))
        finally:
            self.backend.agent_placed_call(job.agent_user_id, hold, *before)

    def _agent_then_citizen(self, job: OutboundJob, agent: Call) -> tuple[bool, str | None, int | None]:
        agent_record = self.backend.call_started(sip_call_id=agent.id, leg="agent", caller=job.phone,
                                                 callee=job.agent_extension, worker=self.settings.name,
                                                 agent_user_id=job.agent_user_id, ticket_id=job.ticket_id)
        if not agent.wait_answered(30):
            self._finish_leg(agent, agent_record, self._failure(agent))
            return False, "agent_no_answer", agent_record.call_pk
        self.backend.call_answered(agent_record.call_pk)
        agent.play(tone(425, 1.0, 2000), loop=True)  # ring-back while the citizen's phone rings
        citizen, record = self._dial_citizen(job, parent_pk=agent_record.call_pk)
        if not citizen.wait_answered(40) or agent.state is CallState.ENDED:
            outcome = self._failure(citizen) if agent.state is not CallState.ENDED else "agent_hung_up"
            self._finish_leg(citizen, record, self._failure(citizen))
            self._finish_leg(agent, agent_record, "answered")
            return False, outcome, record.call_pk
        self.backend.call_answered(record.call_pk)
        self._talk(citizen, agent, record, job.agent_user_id)
        self._finish_leg(citizen, record, "answered")
        self._finish_leg(agent, agent_record, "answered")
        return True, "answered", record.call_pk

    def _survey(self, job: OutboundJob) -> tuple[bool, str | None, int | None]:
        leg, record = self._dial_citizen(job)
        if not leg.wait_answered(40):
            self._finish_leg(leg, record, self._failure(leg))
            return False, self._failure(leg), record.call_pk
        self.backend.call_answered(record.call_pk)
        digit = None
        for _ in range(SURVEY_ATTEMPTS):
            self._say(leg, [self.backend.prompt("survey")], interrupt=True)
            digit = leg.read_digit(8)
            if digit in ("1", "2", "3"):
                break
            digit = None
        if digit:
            self.backend.survey_answered(job.id, digit)
            self._say(leg, [self.backend.prompt("survey_thanks")])
        self._finish_leg(leg, record, "answered")
        return digit is not None, digit or "no_digit", record.call_pk

    def _notify(self, job: OutboundJob) -> tuple[bool, str | None, int | None]:
        leg, record = self._dial_citizen(job)
        if not leg.wait_answered(40):
            self._finish_leg(leg, record, self._failure(leg))
            return False, self._failure(leg), record.call_pk
        self.backend.call_answered(record.call_pk)
        speech = self.backend.speech(job.message or "")
        self._say(leg, [speech, tone(0, 0.8), speech])
        self._finish_leg(leg, record, "answered")
        return True, "played", record.call_pk
