"""pyVoIP's calls and phone on the media engine: EngineRTPClient, Leg (VoIPCall) and LegPhone (VoIPPhone)."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pyVoIP import RTP, SIP
from pyVoIP.VoIP import VoIP as pv

from .. import media
from .agent import CallSetupError, Dialog, SIPAgent
from .message import Message, body_of, branch_of, display_of, tag_of, uri_of, user_of, without_tag
from .sdp import SessionDescription, build_sdp, parse_sdp
from .transactions import ClientTransaction, TimerHandle

log = logging.getLogger(__name__)

END_REASONS = {486: "busy", 600: "busy", 404: "not_found", 604: "not_found", 484: "not_found",
               403: "rejected", 603: "rejected", 607: "rejected", 608: "rejected",
               480: "unavailable", 503: "unavailable", 408: "no_answer", 487: "cancelled"}


class EngineRTPClient(RTP.RTPClient):
    """pyVoIP's RTPClient (codec choice, encoder dispatch) sending through the engine.

    ``start`` hands the stream its remote address and ``encode_packet``; it never opens
    sockets or threads.  Encoders take 16-bit PCM, so nothing is lost to 8-bit audio.
    """

    def __init__(self, description: SessionDescription, stream: media.Stream) -> None:
        assoc: dict[int, RTP.PayloadType] = {pt: RTP.PayloadType(pt) for pt in description.codecs}
        if description.event_pt is not None:
            assoc[description.event_pt] = RTP.PayloadType.EVENT
        super().__init__(assoc, stream.local_ip, stream.port, description.address, description.port,
                         RTP.TransmitType.SENDRECV)
        self.stream = stream
        self.event_pt = description.event_pt
        self.started = False

    def start(self) -> None:
        if self.started:
            raise RuntimeError("this RTP client is already sending")
        self.started = True
        self.stream.set_remote((self.outIP, self.outPort))
        self.stream.set_codec(int(self.preference), self.encode_packet)
        if self.event_pt is not None:
            self.stream.event_pt = self.event_pt
        self.stream.start_sending()

    def stop(self) -> None:
        self.NSD = False
        self.stream.close(wait=False)

    def encode_pcmu(self, packet: bytes) -> bytes:
        return media.encode_pcmu(packet)

    def encode_pcma(self, packet: bytes) -> bytes:
        return media.encode_pcma(packet)


class LegListener(Protocol):
    def leg_answered(self) -> None: ...

    def leg_ended(self) -> None: ...

@dataclass
class Outbound:
    """What an outgoing INVITE is made of (it is sent again with credentials on 401/407)."""
    target: str
    local_uri: str
    remote_uri: str
    sdp: str
    caller_id: str | None
    cseq: int = 0


class Leg(pv.VoIPCall):
    """One call.  ``VoIPCall.__init__`` is not run: its SDP handling warns about every
    codec it does not know and then resets the process's warning filters; a Leg reads
    SDP with :func:`parse_sdp` and gets its media from the engine instead."""

    phone: LegPhone
    sip: SIPAgent
    request: Message | None  # type: ignore[assignment]
    RTPClients: list[EngineRTPClient]  # type: ignore[assignment]

    def __init__(self, phone: LegPhone, state: pv.CallState, *, call_id: str, request: Message | None,
                 direction: str, stream: media.Stream, local_tag: str, session_id: int) -> None:
        self.phone = phone
        self.sip = phone.sip
        self.state = state
        self.request = request
        self.call_id = call_id
        self.session_id = str(session_id)
        self.myIP = phone.myIP
        self.sendmode = "sendrecv"
        self.RTPClients = []
        self.direction = direction
        self.stream = stream
        self.local_tag = local_tag
        self.sdp_version = 1
        self.dialog: Dialog | None = None
        self.offer: SessionDescription | None = None
        self.invite_branch = ""
        self.last_response: bytes | None = None
        self.outbound: Outbound | None = None
        self.invite: ClientTransaction | None = None
        self.dial_timer: TimerHandle | None = None
        self.end_reason: str | None = None
        self.sip_status: int | None = None
        self.answer_delay: float | None = None
        self.listener: LegListener | None = None

    # -- what the call is ------------------------------------------------------------
    @property
    def codec(self) -> str | None:
        return str(self.RTPClients[0].preference) if self.RTPClients else None

    def parties(self) -> tuple[str, str, str]:
        """(caller, caller name, callee)."""
        if self.outbound is not None:
            caller = self.outbound.caller_id or self.phone.username
            return caller, self.outbound.caller_id or "", user_of(self.outbound.target)
        assert self.request is not None
        origin, dialled = self.request.first("From") or "", self.request.first("To") or ""
        return (user_of(uri_of(origin)), display_of(origin),
                user_of(uri_of(dialled)) or user_of(self.request.request_uri))

    def local_sdp(self, direction: str) -> str:
        codecs = [int(self.RTPClients[0].preference)] if self.RTPClients else [media.PCMU, media.PCMA]
        event_pt = self.RTPClients[0].event_pt if self.RTPClients else media.DEFAULT_EVENT_PT
        return build_sdp(address=self.myIP, port=self.stream.port, session_id=self.session_id,
                         version=self.sdp_version, codecs=codecs, event_pt=event_pt, direction=direction)

    # -- application actions (callers hold self.sip.lock) ----------------------------
    def answer(self) -> None:
        if self.state != pv.CallState.RINGING:
            raise pv.InvalidStateError("Call is not ringing")
        assert self.request is not None and self.offer is not None
        self.RTPClients[0].start()
        direction = self.offer.answer_direction
        if direction not in ("sendrecv", "sendonly"):
            self.stream.stop_sending()
        self.dialog = Dialog(self, self.call_id, without_tag(self.request.first("To") or ""), self.local_tag,
                             without_tag(self.request.first("From") or ""), tag_of(self.request.first("From") or ""),
                             uri_of(self.request.first("Contact") or self.request.first("From") or ""),
                             self.request.values("Record-Route"), 0, self.request.cseq)
        self.sip.dialogs[self.call_id] = self.dialog
        self.last_response = self.sip.send_reliably(
            self.request, 200, to_tag=self.local_tag, body=self.local_sdp(direction),
            on_unacknowledged=self._unacknowledged)
        self.answer_delay = time.monotonic() - self.request.received_at
        self.state = pv.CallState.ANSWERED
        if self.listener is not None:
            self.listener.leg_answered()

    def deny(self, status: int = 486) -> None:
        if self.state != pv.CallState.RINGING:
            raise pv.InvalidStateError("Call is not ringing")
        assert self.request is not None
        self.last_response = self.sip.send_reliably(self.request, status, to_tag=self.local_tag)
        self.end("rejected")

    def hangup(self, reason: str = "local_hangup") -> None:
        """End the call in any state: CANCEL while dialling, 480 while ringing, else BYE."""
        if self.state == pv.CallState.ENDED:
            return
        if self.state == pv.CallState.DIALING:
            if self.invite is not None:
                self.sip.cancel(self.invite)
        elif self.state == pv.CallState.RINGING:
            assert self.request is not None
            self.last_response = self.sip.send_reliably(self.request, 480, to_tag=self.local_tag)
        else:
            self.sip.bye(self.request)
        self.end(reason)

    def give_up(self) -> None:
        """Nobody answered in time."""
        if self.state == pv.CallState.DIALING:
            self.hangup("no_answer")

    # -- SIP events ------------------------------------------------------------------
    def bye(self) -> None:
        self.end("remote_hangup")

    def cancelled(self) -> None:
        self.end("cancelled")

    def answered(self, request: SIP.SIPMessage) -> None:
        """The far end's 200 OK to our INVITE."""
        if self.state != pv.CallState.DIALING:
            return
        assert isinstance(request, Message) and self.outbound is not None and self.request is not None
        if self.dial_timer is not None:
            self.dial_timer.cancel()
        description = parse_sdp(body_of(request))
        self.dialog = Dialog(self, self.call_id, self.outbound.local_uri, self.local_tag,
                             self.outbound.remote_uri, tag_of(request.first("To") or ""),
                             uri_of(request.first("Contact") or self.outbound.target),
                             list(reversed(request.values("Record-Route"))), self.outbound.cseq)
        self.sip.dialogs[self.call_id] = self.dialog
        self.request.headers["Contact"] = request.headers.get("Contact", self.outbound.target)
        self.request.headers["To"]["tag"] = self.dialog.remote_tag
        self.state = pv.CallState.ANSWERED
        if description is None or not description.codecs:
            log.warning("call %s answered without a usable audio codec; hanging up", self.call_id)
            self.sip.call_later(0, lambda: self.hangup("error"))
            return
        self.offer = description
        self.RTPClients = [EngineRTPClient(description, self.stream)]
        self.RTPClients[0].start()
        if description.answer_direction not in ("sendrecv", "sendonly"):
            self.stream.stop_sending()
        if self.listener is not None:
            self.listener.leg_answered()

    def failed(self, status: int) -> None:
        """A final non-2xx answer to our INVITE."""
        if self.state != pv.CallState.ENDED:
            self.sip_status = status
            self.end(END_REASONS.get(status, "error"))

    def end(self, reason: str) -> None:
        if self.state == pv.CallState.ENDED and self.end_reason is not None:
            return
        self.state = pv.CallState.ENDED
        self.end_reason = reason
        if self.dial_timer is not None:
            self.dial_timer.cancel()
        self.stream.close(wait=False)
        self.phone.forget(self)
        if self.listener is not None:
            self.listener.leg_ended()

    def _unacknowledged(self) -> None:
        if self.state == pv.CallState.ANSWERED:
            log.warning("call %s: no ACK for our 200 OK; hanging up", self.call_id)
            self.hangup("error")



class LegPhone(pv.VoIPPhone):
    """pyVoIP's VoIPPhone with an SIPAgent, engine-backed calls and asynchronous dialling."""

    sip: SIPAgent
    calls: dict[str, Leg]  # type: ignore[assignment]

    def __init__(self, *, server: str, port: int, username: str, password: str, my_ip: str,
                 sip_port: int, rtp_ports: tuple[int, int], engine: media.MediaEngine, user_agent: str,
                 on_incoming: Callable[[Leg], None]) -> None:
        super().__init__(server, port, username, password, myIP=my_ip, callCallback=on_incoming,  # type: ignore[arg-type]
                         sipPort=sip_port, rtpPortLow=rtp_ports[0], rtpPortHigh=rtp_ports[1])
        self.engine = engine
        self.rtp_ports = rtp_ports
        self.calls = {}
        self.sip = SIPAgent(server, port, username, password, phone=self, my_ip=my_ip, my_port=sip_port,
                            user_agent=user_agent)

    def _create_Call(self, request: SIP.SIPMessage, sess_id: int) -> Leg:  # type: ignore[override]
        assert isinstance(request, Message)
        description = parse_sdp(body_of(request))
        if description is None or not description.codecs:
            raise CallSetupError(488, "the offer has no PCMU or PCMA audio")
        try:
            stream = self.engine.open_stream(self.myIP, self.rtp_ports)
        except media.NoPortAvailable as err:
            raise CallSetupError(503, str(err)) from err
        call_id = request.headers["Call-ID"]
        leg = Leg(self, pv.CallState.RINGING, call_id=call_id, request=request, direction="inbound",
                  stream=stream, local_tag=self.sip.tagLibrary[call_id], session_id=sess_id)
        leg.offer = description
        leg.invite_branch = branch_of(request.top_via)
        leg.RTPClients = [EngineRTPClient(description, stream)]
        self.calls[call_id] = leg
        return leg

    def call(self, number: str, *, caller_id: str | None = None, timeout: float = 30.0) -> Leg:  # type: ignore[override]
        """Send an INVITE and return at once (the call is DIALING)."""
        sip = self.sip
        with sip.lock:
            stream = self.engine.open_stream(self.myIP, self.rtp_ports)
            call_id = sip.gen_call_id()
            tag = sip.gen_tag()
            sip.tagLibrary[call_id] = tag
            leg = Leg(self, pv.CallState.DIALING, call_id=call_id, request=None, direction="outbound",
                      stream=stream, local_tag=tag, session_id=random.randint(1, 2**31))
            local = f"<sip:{self.username}@{self.server}>"
            leg.outbound = Outbound(target=f"sip:{number}@{self.server}",
                                    local_uri=f'"{caller_id}" {local}' if caller_id else local,
                                    remote_uri=f"<sip:{number}@{self.server}>", sdp=leg.local_sdp("sendrecv"),
                                    caller_id=caller_id)
            self.calls[call_id] = leg
            sip.send_invite(leg)
            leg.dial_timer = sip.call_later(timeout, leg.give_up)
            return leg

    def forget(self, leg: Leg) -> None:
        if self.calls.get(leg.call_id) is leg:
            del self.calls[leg.call_id]
        self.sip.forget(leg)

    def release_ports(self, call: pv.VoIPCall | None = None) -> None:
        """Nothing to do: a call's port is freed when its engine stream closes."""

    def stop(self, failed: bool = False) -> None:
        self._status = pv.PhoneStatus.DEREGISTERING
        with self.sip.lock:
            for leg in list(self.calls.values()):
                leg.hangup()
        self.sip.stop()
        self._status = pv.PhoneStatus.FAILED if failed else pv.PhoneStatus.INACTIVE
