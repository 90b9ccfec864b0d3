"""Phone and Call: what the telephony worker uses.

A :class:`Phone` registers one extension at the SIP proxy, hands every incoming call to
``on_incoming`` at once (in a thread of its own) and dials out.  A :class:`Call` is
answered, rejected or hung up, plays and captures audio, reads digits, and is bridged to
another call (optionally recorded, optionally monitored by a supervisor's call).

Audio here is 8 kHz signed 16-bit little-endian mono PCM (20 ms = 320 bytes).  SIP goes
through pyVoIP with this platform's fixes (:mod:`.sip`); media through the
process's :class:`~.media.MediaEngine`.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from pyVoIP.VoIP import VoIP as pv

from . import media
from .media import Bridge, Capture, MonitorMode, Playback, RecordingInfo
from .sip import fixes
from .sip.legs import Leg, LegPhone

__all__ = ["Bridge", "Call", "CallGone", "CallState", "CallStats", "Capture", "MonitorMode", "Phone",
           "Playback", "RecordingInfo", "RegistrationError", "TelephonyError"]

log = logging.getLogger(__name__)


class TelephonyError(Exception):
    pass


class RegistrationError(TelephonyError):
    pass


class CallGone(TelephonyError):
    """The call ended (the caller cancelled or hung up) before the action."""


class CallState(str, Enum):
    RINGING = "ringing"
    DIALLING = "dialling"
    ANSWERED = "answered"
    ENDED = "ended"


_STATES = {pv.CallState.RINGING: CallState.RINGING, pv.CallState.DIALING: CallState.DIALLING,
           pv.CallState.ANSWERED: CallState.ANSWERED, pv.CallState.ENDED: CallState.ENDED}


@dataclass(frozen=True)
class CallStats:
    packets_sent: int
    packets_received: int
    send_errors: int
    gap_max_ms: float
    gap_p50_ms: float
    gap_p99_ms: float
    gap_p999_ms: float
    answer_delay_ms: float | None  # inbound: INVITE received -> 200 OK sent


def _spawn(name: str, target: Callable[[], None]) -> None:
    threading.Thread(target=target, name=name, daemon=True).start()


class Call:
    """One call; created by :class:`Phone` (incoming) or :meth:`Phone.dial`."""

    def __init__(self, phone: "Phone", leg: Leg) -> None:
        self._phone = phone
        self._leg = leg
        self._lock = leg.sip.lock
        self.id = leg.call_id
        self.direction = leg.direction
        self.caller, self.caller_name, self.callee = leg.parties()
        self._answered = threading.Event()
        self._settled = threading.Event()
        self._ended = threading.Event()
        self._end_lock = threading.Lock()
        self._end_callbacks: list[Callable[[Call], None]] = []
        self._end_dispatched = False
        self._bridges: list[Bridge] = []
        self._monitoring: Bridge | None = None
        leg.listener = self

    def __repr__(self) -> str:
        return f"<Call {self.direction} {self.caller}->{self.callee} {self.state.value} {self.id}>"

    # -- state -----------------------------------------------------------------------
    @property
    def state(self) -> CallState:
        return _STATES[self._leg.state]

    @property
    def end_reason(self) -> str | None:
        return self._leg.end_reason

    @property
    def sip_status(self) -> int | None:
        return self._leg.sip_status

    @property
    def codec(self) -> str | None:
        return self._leg.codec

    def wait_answered(self, timeout: float | None = None) -> bool:
        """True once answered; False if the call ended first or ``timeout`` passed."""
        self._settled.wait(timeout)
        return self._answered.is_set()

    def wait_ended(self, timeout: float | None = None) -> bool:
        return self._ended.wait(timeout)

    def on_end(self, callback: Callable[["Call"], None]) -> None:
        """Call ``callback(call)`` once when the call ends, in a thread of its own."""
        with self._end_lock:
            if not self._end_dispatched:
                self._end_callbacks.append(callback)
                return
        _spawn(f"call-end-{self.id}", lambda: self._run_end_callback(callback))

    # -- signalling ------------------------------------------------------------------
    def answer(self) -> None:
        with self._lock:
            if self._leg.state == pv.CallState.ENDED:
                raise CallGone(f"call {self.id} has ended ({self._leg.end_reason})")
            try:
                self._leg.answer()
            except pv.InvalidStateError as err:
                raise TelephonyError(f"call {self.id} is {self.state.value}: it cannot be answered") from err

    def reject(self, status: int = 486) -> None:
        """Refuse a ringing call with a final ``status`` (4xx-6xx); nothing if it has ended."""
        if not 400 <= status < 700:
            raise ValueError(f"a rejection needs a 4xx-6xx status, not {status}")
        with self._lock:
            if self._leg.state == pv.CallState.ENDED:
                return
            try:
                self._leg.deny(status)
            except pv.InvalidStateError as err:
                raise TelephonyError(f"call {self.id} is {self.state.value}: it cannot be rejected") from err

    def hangup(self) -> None:
        """End the call in any state (CANCEL while dialling, BYE when answered); idempotent."""
        with self._lock:
            self._leg.hangup()

    # -- media -----------------------------------------------------------------------
    @property
    def _stream(self) -> media.Stream:
        return self._leg.stream

    def play(self, pcm: bytes, *, loop: bool = False, interrupt_on_digit: bool = False,
             queue: bool = False) -> Playback:
        """Play ``pcm``, replacing the current playback (with ``queue``: after it, gapless);
        ``interrupt_on_digit`` stops it at a key press."""
        return self._stream.play(pcm, loop=loop, interrupt_on_digit=interrupt_on_digit, queue=queue)

    def stop_playback(self) -> None:
        self._stream.stop_playback()

    def read_digit(self, timeout: float | None) -> str | None:
        """The next key pressed (kept even while a prompt played), or None after ``timeout``."""
        return self._stream.read_digit(timeout)

    def clear_digits(self) -> None:
        self._stream.clear_digits()

    def start_capture(self, max_seconds: float) -> Capture:
        return self._stream.start_capture(max_seconds)

    def bridge(self, other: "Call", recorder_path: str | None = None) -> Bridge:
        """Connect this call (the caller: left channel) with ``other`` (the agent: right).

        The bridge ends when either call ends; its recording is then finished before the
        calls' ``on_end`` callbacks run.
        """
        for call in (self, other):
            if call.state is CallState.ENDED:
                raise CallGone(f"{call!r} has ended")
            if call.state is not CallState.ANSWERED:
                raise TelephonyError(f"{call!r} is not answered")
        try:
            bridge = self._phone._engine.bridge(self._stream, other._stream, recorder_path)
        except media.MediaError as err:
            raise TelephonyError(f"cannot bridge {self!r} and {other!r}: {err}") from err
        for call in (self, other):
            call._keep_bridge(bridge)
        if self._ended.is_set() or other._ended.is_set():
            bridge.stop()
        return bridge

    def monitor(self, bridge: Bridge, mode: MonitorMode | str) -> None:
        """Let this call (a supervisor's) listen to, whisper to or barge into ``bridge``."""
        if self.state is not CallState.ANSWERED:
            raise TelephonyError(f"{self!r} is not answered")
        if self._monitoring is not None and self._monitoring is not bridge:
            self.stop_monitor()
        try:
            bridge.monitor(self._stream, mode)
        except media.MediaError as err:
            raise TelephonyError(f"{self!r} cannot monitor that bridge: {err}") from err
        self._monitoring = bridge

    def stop_monitor(self) -> None:
        bridge, self._monitoring = self._monitoring, None
        if bridge is not None:
            bridge.unmonitor(self._stream)

    def stats(self) -> CallStats:
        stream = self._stream.stats()
        delay = self._leg.answer_delay
        return CallStats(stream.packets_sent, stream.packets_received, stream.send_errors, stream.gap_max_ms,
                         stream.gap_p50_ms, stream.gap_p99_ms, stream.gap_p999_ms,
                         None if delay is None else round(delay * 1000.0, 3))

    # -- events from the leg (SIP thread, under the agent lock) -----------------------
    def leg_answered(self) -> None:
        self._answered.set()
        self._settled.set()

    def leg_ended(self) -> None:
        self._ended.set()
        self._settled.set()
        self._phone._forget(self)
        _spawn(f"call-end-{self.id}", self._finish)

    def _keep_bridge(self, bridge: Bridge) -> None:
        with self._end_lock:
            self._bridges = [b for b in self._bridges if not b.stopped] + [bridge]

    def _finish(self) -> None:
        with self._end_lock:
            bridges, self._bridges = self._bridges, []
        for bridge in bridges:
            bridge.stop()
        self._monitoring = None
        with self._end_lock:
            callbacks, self._end_callbacks = self._end_callbacks, []
            self._end_dispatched = True
        for callback in callbacks:
            self._run_end_callback(callback)

    def _run_end_callback(self, callback: Callable[["Call"], None]) -> None:
        try:
            callback(self)
        except Exception:
            log.exception("on_end callback of %r failed", self)


class Phone:
    """One registered extension."""

    def __init__(self, *, server: str, port: int, username: str, password: str, local_ip: str, sip_port: int,
                 rtp_ports: tuple[int, int], on_incoming: Callable[[Call], None],
                 engine: media.MediaEngine | None = None, user_agent: str = "hotline") -> None:
        if fixes.installed() is None:
            fixes.install()
        self._engine = engine or media.default_engine()
        self._on_incoming = on_incoming
        self._calls: dict[Leg, Call] = {}
        self._core = LegPhone(server=server, port=port, username=username, password=password,
                              my_ip=local_ip, sip_port=sip_port, rtp_ports=rtp_ports,
                              engine=self._engine, user_agent=user_agent, on_incoming=self._incoming)
        self._lock = self._core.sip.lock
        self.username = username

    def __repr__(self) -> str:
        return f"<Phone {self.username}@{self._core.server}:{self._core.port}>"

    @property
    def calls(self) -> tuple[Call, ...]:
        with self._lock:
            return tuple(self._calls.values())

    @property
    def registered(self) -> bool:
        return self._core.sip.registered

    def start(self, *, timeout: float = 10.0) -> None:
        """Open the SIP socket and register; raises RegistrationError if that fails."""
        self._core.start()
        status, reason = self._core.sip.register(timeout)
        if status is None or not 200 <= status < 300:
            self._core.stop()
            raise RegistrationError(f"registering {self.username} at {self._core.server}:{self._core.port} "
                                    f"failed: {reason}")

    def stop(self) -> None:
        """Hang up every call, unregister, close the SIP socket."""
        self._core.stop()

    def dial(self, number: str, *, caller_id: str | None = None, timeout: float = 30) -> Call:
        """Call ``number`` at the proxy; returns at once with the call DIALLING."""
        with self._lock:
            try:
                leg = self._core.call(number, caller_id=caller_id, timeout=timeout)
            except media.MediaError as err:
                raise TelephonyError(f"cannot call {number}: {err}") from err
            call = Call(self, leg)
            self._calls[leg] = call
            return call

    def _incoming(self, leg: Leg) -> None:
        with self._lock:  # not held when pyVoIP's own one-second timer delivers the call
            call = Call(self, leg)
            if leg.state == pv.CallState.ENDED:
                call.leg_ended()
            else:
                self._calls[leg] = call
        _spawn(f"call-{leg.call_id}", lambda: self._offer(call))

    def _offer(self, call: Call) -> None:
        try:
            self._on_incoming(call)
        except Exception:
            log.exception("on_incoming failed for %r; hanging up", call)
            call.hangup()

    def _forget(self, call: Call) -> None:
        self._calls.pop(call._leg, None)
