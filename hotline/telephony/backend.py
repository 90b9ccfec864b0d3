"""The application side of the telephony worker: each method one unit of work.

A translator from the worker's contract (integrations/telephony/contract.py) to the telephony
operations, which do every write; this module only reads (flows, prompts, an order's progress)
and calls them. The worker calls these from its call threads; every call pushes its own
application context, commits at the end or rolls back, so a failing write never leaves a
session half-used for the next call.
"""
from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
import time
from datetime import date, datetime
from functools import wraps
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from hotline.auth.models import User
from hotline.auth.operations import service_user
from hotline.citizens.operations import normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import OperationError
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.telephony.models import (Call, CallbackReason, CallQueue, IvrFlow, MonitorRequest, OutboundRequest,
                                      Prompt, QueueEntry, QueueEvent)
from hotline.telephony.operations import agents, callbacks, calls, monitoring, outbound, recordings, workers
from hotline.telephony.operations import queue as queues
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations.attachments import add_attachment
from hotline.tickets.models import Ticket
from hotline.tickets.operations import NUMBER_SHAPE, register_ticket
from integrations.telephony import prompts as audio
from integrations.telephony.contract import AgentOffer, CallRecord, MonitorJob, OutboundJob, QueueSettings
from workflows import ivr
from workflows.acd import AgentState

log = logging.getLogger("hotline.telephony")

TELEPHONY_USERNAME = "telephony"
TELEPHONY_DISPLAY_NAME = "电话系统 (telephony)"
#: A flow is looked up again after this many seconds, so an edit reaches running workers.
FLOW_TTL = 10.0
#: Survey keys -> the visit recorded.
SURVEY_ANSWERS = {"1": ("satisfied", True), "2": ("basically_satisfied", True), "3": ("dissatisfied", False)}


def unit(fn):
    """Run a backend method in its own application context as one unit of work."""
    @wraps(fn)
    def wrapper(self: "AppBackend", *args, **kwargs):
        with self.app.app_context():
            try:
                result = fn(self, *args, **kwargs)
                db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise
    return wrapper


class AppBackend:
    """Implements integrations.telephony.contract.Backend with the application's operations."""

    def __init__(self, app: Flask):
        self.app = app
        self.cache = audio.PromptCache(app.config.get("PROMPT_CACHE_DIR") or Path(app.instance_path) / "prompts")
        self._flows: dict[str, tuple[float, int, ivr.Flow | None]] = {}
        self._sounds: dict[str, bytes] = {}
        self._prompts: dict[str, tuple[float, str, bytes]] = {}
        self._lock = threading.Lock()

    # -- flows and sounds

    @unit
    def flow(self, number: str) -> ivr.Flow | None:
        cached = self._flows.get(number)
        if cached and time.monotonic() - cached[0] < FLOW_TTL:
            return cached[2]
        row = db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == number))
        if row is None:
            flow = None
        elif cached and cached[1] == row.version:
            flow = cached[2]
        else:
            flow = self._load_flow(row)
        self._flows[number] = (time.monotonic(), row.version if row else 0, flow)
        return flow

    def _load_flow(self, row: IvrFlow) -> ivr.Flow | None:
        prompts = set(db.session.scalars(sa.select(Prompt.code)))
        queues = set(db.session.scalars(sa.select(CallQueue.code).where(CallQueue.is_active)))
        try:
            return ivr.load(json.loads(row.definition), prompts=prompts, queues=queues)
        except (ValueError, ivr.InvalidFlow) as err:  # saved flows are validated; this means a prompt went away
            log.error("IVR flow for %s (version %s) cannot run: %s", row.number, row.version, err)
            return None

    @unit
    def prompt(self, code: str) -> bytes:
        """A prompt's audio: from memory while fresh; the database is asked only for its
        checksum every FLOW_TTL seconds, and for the audio only when that changed."""
        with self._lock:
            cached = self._prompts.get(code)
        if cached and time.monotonic() - cached[0] < FLOW_TTL:
            return cached[2]
        sha = db.session.scalar(sa.select(Prompt.sha256).where(Prompt.code == code))
        if sha is None:
            log.error("prompt %s is missing; playing silence", code)
            return b"\0" * 3200
        if cached and cached[1] == sha:
            pcm = cached[2]
        else:
            row = db.session.scalar(sa.select(Prompt).where(Prompt.code == code))
            pcm = self.cache.uploaded(row.audio) if row.audio else self.cache.spoken(row.text or "", row.voice)
        with self._lock:
            self._prompts[code] = (time.monotonic(), sha, pcm)
        return pcm

    def speech(self, text: str) -> bytes:
        key = audio.text_key(text, "cmn")
        with self._lock:
            pcm = self._sounds.get(key)
        if pcm is None:
            pcm = self.cache.spoken(text, "cmn")
            with self._lock:
                if len(self._sounds) > 500:
                    self._sounds.clear()
                self._sounds[key] = pcm
        return pcm

    def local_now(self) -> datetime:
        with self.app.app_context():
            return utcnow().astimezone(sla.local_tz())

    @unit
    def is_working_day(self, day: date) -> bool:
        return sla.calendar().is_workday(day)

    @unit
    def order_progress(self, number: str, caller: str) -> str:
        """What the IVR says about an order: only to the phone that reported it."""
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number)) \
            if NUMBER_SHAPE.fullmatch(number or "") else None
        phone = normalize_phone(caller)
        if ticket is None or ticket.citizen is None or ticket.citizen.phone != phone:
            return "没有找到与您的电话号码对应的这个工单，请核对后再试。"
        spoken_number = "，".join(number[i:i + 4] for i in range(0, len(number), 4))
        text = f"工单{spoken_number}，当前状态：{ticket.status.zh}。"
        if ticket.due_at and ticket.closed_at is None:
            text += f"办理期限：{sla.format_local(ticket.due_at)}。"
        return text

    # -- call records

    @unit
    def call_started(self, *, sip_call_id: str, leg: str, caller: str, callee: str, worker: str,
                     parent_pk: int | None = None, agent_user_id: int | None = None,
                     ticket_id: int | None = None) -> CallRecord:
        call = calls.start_call(sip_call_id=sip_call_id, leg=leg, caller=caller, callee=callee, worker=worker,
                                parent_pk=parent_pk, agent_user_id=agent_user_id, ticket_id=ticket_id)
        return CallRecord(call.id, call.priority.value, call.citizen_id)

    @unit
    def call_answered(self, call_pk: int) -> None:
        calls.answer_call(db.session.get(Call, call_pk))

    @unit
    def call_ended(self, call_pk: int, *, disposition: str, end_reason: str | None, sip_status: int | None,
                   ivr_path: str | None = None) -> None:
        calls.end_call(db.session.get(Call, call_pk), disposition=disposition, end_reason=end_reason,
                       sip_status=sip_status, ivr_path=ivr_path)

    # -- the queue

    def _entry(self, call_pk: int) -> QueueEntry:
        return db.session.get(QueueEntry, call_pk)

    @unit
    def enqueue(self, call_pk: int, queue: str, worker: str) -> QueueSettings:
        row = db.session.scalar(sa.select(CallQueue).where(CallQueue.code == queue))
        call = db.session.get(Call, call_pk)
        queues.enqueue(call, row, call.priority, worker)
        return QueueSettings(row.code, row.ring_seconds, row.max_wait_seconds, row.announce_seconds, row.hold_prompt)

    @unit
    def queue_position(self, call_pk: int) -> int:
        entry = self._entry(call_pk)
        return queues.position(entry) if entry else 1

    @unit
    def claim_agents(self, call_pk: int) -> list[AgentOffer]:
        entry = self._entry(call_pk)
        if entry is None:
            return []
        offers = agents.claim_agents(entry, db.session.get(Call, call_pk))
        return [AgentOffer(o.user_id, o.extension) for o in offers]

    @unit
    def release_agent(self, call_pk: int, user_id: int, *, missed: bool) -> None:
        call = db.session.get(Call, call_pk)
        agents.release_agent(user_id, call.sip_call_id, missed=missed)
        entry = self._entry(call_pk)
        if entry is not None and entry.offered_user_id == user_id:
            queues.unoffer(entry)

    @unit
    def agent_answered(self, call_pk: int, user_id: int, agent_call_pk: int) -> None:
        agents.agent_answered(self._entry(call_pk), db.session.get(Call, call_pk), user_id)

    @unit
    def leave_queue(self, call_pk: int, *, overflow: bool) -> None:
        entry = self._entry(call_pk)
        if entry is not None:
            queues.leave_queue(entry, QueueEvent.OVERFLOW if overflow else QueueEvent.ABANDONED)

    @unit
    def call_completed(self, call_pk: int, user_id: int, talk_seconds: float) -> None:
        agents.call_completed(db.session.get(Call, call_pk), user_id, talk_seconds)

    @unit
    def agent_places_call(self, user_id: int, sip_call_id: str) -> tuple[str, str | None] | None:
        held = agents.hold_for_outbound(user_id, sip_call_id)
        return None if held is None else (held[0].value, held[1])

    @unit
    def agent_placed_call(self, user_id: int, sip_call_id: str, state: str, reason: str | None) -> None:
        agents.release_after_outbound(user_id, sip_call_id, AgentState(state), reason)

    # -- recordings and voicemail

    def recording_path(self, sip_call_id: str) -> str:
        with self.app.app_context():
            return recordings.new_recording_path(sip_call_id)

    @unit
    def recording_saved(self, call_pk: int, agent_user_id: int | None, *, path: str, seconds: float,
                        size: int, sha256: str) -> None:
        recordings.save_recording(call_pk, agent_user_id, path=path, seconds=seconds, size=size, sha256=sha256)

    @unit
    def voicemail(self, call_pk: int, caller: str, wav: bytes) -> None:
        """The caller's message becomes an order (channel phone) with the audio attached; once."""
        call = db.session.get(Call, call_pk)
        if call.ticket_id is not None:
            return  # delivered before (a retry from the spool after a lost answer)
        actor = service_user(TELEPHONY_USERNAME, TELEPHONY_DISPLAY_NAME)
        phone = normalize_phone(caller)
        when = sla.format_local(call.started_at)
        data = {"type": "help", "channel": "phone", "subject": f"电话留言 {caller}"[:200],
                "content": f"来电 {caller} 于 {when} 留言，录音见附件，请收听后处理。"}
        if phone:
            data["citizen"] = {"phone": phone}
        ticket = register_ticket(actor, data)
        calls.link_order(ticket.id, call.sip_call_id)
        add_attachment(ticket, actor, f"voicemail-{ticket.number}.wav", io.BytesIO(wav))
        callbacks.owe_callback(call, CallbackReason.VOICEMAIL, ticket.id)

    # -- outbound

    @unit
    def next_outbound(self, worker: str) -> OutboundJob | None:
        req = outbound.claim_next(worker)
        if req is None:
            return None
        agent = db.session.get(User, req.agent_user_id) if req.agent_user_id else None
        return OutboundJob(req.id, req.kind.value, req.phone, req.agent_user_id,
                           agent.extension if agent else None, req.message, req.ticket_id)

    @unit
    def outbound_finished(self, job_id: int, *, ok: bool, result: str | None, call_pk: int | None) -> None:
        outbound.finish(job_id, ok=ok, result=result, call_pk=call_pk)

    @unit
    def survey_answered(self, job_id: int, digit: str) -> None:
        req = db.session.get(OutboundRequest, job_id)
        satisfaction, resolved = SURVEY_ANSWERS[digit]
        ticket = db.session.get(Ticket, req.ticket_id)
        actor = db.session.get(User, req.requested_by_id) if req.requested_by_id else None
        if ticket is None or actor is None:
            return
        try:
            perform(ticket, "visit", actor, {"satisfaction": satisfaction, "resolved": resolved,
                                             "note": f"电话自动回访：市民按键 {digit}"})
        except OperationError as err:  # the order moved on meanwhile; the answer is kept on the request
            log.warning("survey answer for %s not recorded: %s", ticket.number, err.message)
            outbound.note_result(req, f"{digit}: {err.code or 'refused'}")

    # -- monitoring

    @unit
    def monitored_calls(self) -> frozenset[int]:
        """Callers' call records with a supervisor's request open (on their leg or the agent's)."""
        asked = sa.select(MonitorRequest.call_id).where(MonitorRequest.ended_at.is_(None))
        rows = db.session.execute(sa.select(Call.id, Call.parent_id).where(Call.id.in_(asked))).all()
        return frozenset(parent or own for own, parent in rows)

    @unit
    def monitor_request(self, call_pk: int) -> MonitorJob | None:
        req = monitoring.open_request_for(call_pk)
        if req is None:
            return None
        supervisor = db.session.get(User, req.supervisor_id)
        return MonitorJob(req.id, supervisor.id, supervisor.extension, req.mode)

    @unit
    def monitor_finished(self, request_id: int) -> None:
        monitoring.monitor_finished(request_id)

    # -- the worker itself

    @unit
    def heartbeat(self, worker: str, active_calls: int) -> None:
        workers.heartbeat(worker, socket.gethostname(), os.getpid(), active_calls)

    @unit
    def housekeeping(self, worker: str) -> None:
        agents.end_after_call_work()
        workers.reap()

    @unit
    def starting(self, worker: str) -> None:
        """A worker (re)starts under its name: what it held before is gone."""
        workers.reap(worker)
