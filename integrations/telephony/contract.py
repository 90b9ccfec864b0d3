"""What the telephony worker needs from the application, and what it hands over.

The worker (worker.py) calls a `Backend`; hotline/telephony/backend.py implements it with
the application's operations.  Only plain data crosses: ids, numbers, strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from workflows import ivr


@dataclass(frozen=True)
class CallRecord:
    """What the application knows about a caller when their call starts."""

    call_pk: int
    priority: str
    citizen_id: int | None = None


@dataclass(frozen=True)
class QueueSettings:
    code: str
    ring_seconds: int
    max_wait_seconds: int
    announce_seconds: int
    hold_prompt: str | None


@dataclass(frozen=True)
class AgentOffer:
    user_id: int
    extension: str


@dataclass(frozen=True)
class OutboundJob:
    id: int
    kind: str  # click_to_dial, callback, survey, notification
    phone: str
    agent_user_id: int | None
    agent_extension: str | None
    message: str | None
    ticket_id: int | None


@dataclass(frozen=True)
class MonitorJob:
    id: int
    #: The supervisor, and the phone the worker rings to bring them in.
    user_id: int
    extension: str
    mode: str  # listen, whisper, barge; "stop" once the supervisor ended it


class Backend(Protocol):
    """The application as the worker sees it; every method is one unit of work."""

    def flow(self, number: str) -> ivr.Flow | None: ...
    def prompt(self, code: str) -> bytes: ...
    def speech(self, text: str) -> bytes: ...
    def local_now(self) -> datetime: ...
    def is_working_day(self, day: date) -> bool: ...
    def order_progress(self, number: str, caller: str) -> str: ...

    def call_started(self, *, sip_call_id: str, leg: str, caller: str, callee: str, worker: str,
                     parent_pk: int | None = None, agent_user_id: int | None = None,
                     ticket_id: int | None = None) -> CallRecord: ...
    def call_answered(self, call_pk: int) -> None: ...
    def call_ended(self, call_pk: int, *, disposition: str, end_reason: str | None, sip_status: int | None,
                   ivr_path: str | None = None) -> None: ...

    def enqueue(self, call_pk: int, queue: str, worker: str) -> QueueSettings: ...
    def queue_position(self, call_pk: int) -> int: ...
    def claim_agents(self, call_pk: int) -> list[AgentOffer]: ...
    def release_agent(self, call_pk: int, user_id: int, *, missed: bool) -> None: ...
    def agent_answered(self, call_pk: int, user_id: int, agent_call_pk: int) -> None: ...
    def leave_queue(self, call_pk: int, *, overflow: bool) -> None: ...
    def call_completed(self, call_pk: int, user_id: int, talk_seconds: float) -> None: ...
    def agent_places_call(self, user_id: int, sip_call_id: str) -> tuple[str, str | None] | None: ...
    def agent_placed_call(self, user_id: int, sip_call_id: str, state: str, reason: str | None) -> None: ...
    def recording_saved(self, call_pk: int, agent_user_id: int | None, *, path: str, seconds: float,
                        size: int, sha256: str) -> None: ...
    def recording_path(self, sip_call_id: str) -> str: ...
    def voicemail(self, call_pk: int, caller: str, wav: bytes) -> None: ...

    def next_outbound(self, worker: str) -> OutboundJob | None: ...
    def outbound_finished(self, job_id: int, *, ok: bool, result: str | None, call_pk: int | None) -> None: ...
    def survey_answered(self, job_id: int, digit: str) -> None: ...
    def monitored_calls(self) -> frozenset[int]: ...
    def monitor_request(self, call_pk: int) -> MonitorJob | None: ...
    def monitor_finished(self, request_id: int) -> None: ...

    def heartbeat(self, worker: str, active_calls: int) -> None: ...
    def housekeeping(self, worker: str) -> None: ...
