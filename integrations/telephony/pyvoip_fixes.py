"""The one module that changes pyVoIP 1.6.8's behaviour.

pyVoIP itself is never modified.  Two kinds of change live here:

* **Adapter subclasses** through which ``phone.py`` drives pyVoIP: :class:`Message`
  (``SIPMessage`` that keeps raw header lines and reads any method and status code),
  :class:`EngineRTPClient` (``RTPClient`` whose audio goes through the process's media
  engine, so pyVoIP's three threads and 10 ms polling per call never run),
  :class:`Leg` (``VoIPCall``), :class:`LegPhone` (``VoIPPhone``) and :class:`SIPAgent`
  (``SIPClient`` with one event-driven thread: client and server transactions with
  retransmission, dialogs matched by Call-ID and tags, responses sent where the top Via
  says, registration with digest auth (401 and 407, with and without ``qop=auth``),
  outgoing calls that return at once and offer PCMU, PCMA and telephone-event).
* **FIXES**: one named entry per defect recorded in shared/design/TELEPHONY.md.  Each
  replaces the one pyVoIP method that carries the defect, on the adapter subclass.
  :func:`install` applies them; ``install(without={"name"})`` leaves one out, so each
  regression test in tests/telephony/pyvoip/ can show its defect coming back.
"""
from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import random
import re
import secrets
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyVoIP
from pyVoIP.VoIP import VoIP as pv  # first: importing pyVoIP.SIP first is a circular import
from pyVoIP import RTP, SIP  # isort: skip

from . import media

log = logging.getLogger(__name__)

PYVOIP_VERSION = "1.6.8"

# Every method a SIP peer may send us; pyVoIP alone refuses to parse anything but four.
METHODS = ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "PRACK", "REFER",
           "NOTIFY", "SUBSCRIBE", "MESSAGE", "REGISTER", "PUBLISH"]
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS"

T1 = 0.5
T2 = 4.0
TRANSACTION_TIMEOUT = 64 * T1
REGISTER_EXPIRES = 300
REGISTER_RETRY = 30.0

COMPACT_NAMES = {"i": "Call-ID", "f": "From", "t": "To", "v": "Via", "m": "Contact",
                 "l": "Content-Length", "c": "Content-Type", "k": "Supported", "e": "Content-Encoding"}
KNOWN_NAMES = {name.lower(): name for name in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type", "Route",
    "Record-Route", "WWW-Authenticate", "Proxy-Authenticate", "Authorization", "Proxy-Authorization",
    "Supported", "Allow", "Expires", "Min-Expires", "Max-Forwards", "User-Agent", "Server", "Require",
    "Content-Encoding")}
LIST_HEADERS = {"Via", "Route", "Record-Route", "Contact"}

END_REASONS = {486: "busy", 600: "busy", 404: "not_found", 604: "not_found", 484: "not_found",
               403: "rejected", 603: "rejected", 607: "rejected", 608: "rejected",
               480: "unavailable", 503: "unavailable", 408: "no_answer", 487: "cancelled"}


class CallSetupError(Exception):
    """An INVITE we cannot take; ``status`` is the final response to send."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AuthError(Exception):
    pass


# ------------------------------------------------------------------------------------
# SIP text
# ------------------------------------------------------------------------------------
def canonical_name(name: str) -> str:
    lower = name.strip().lower()
    return COMPACT_NAMES.get(lower) or KNOWN_NAMES.get(lower) or name.strip()


def unfold(lines: Iterable[str]) -> list[str]:
    """Join header continuation lines (starting with white space) to the line above."""
    joined: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and joined:
            joined[-1] = f"{joined[-1]} {line.strip()}"
        else:
            joined.append(line)
    return joined


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value; commas in quotes or <...> do not count."""
    items: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth -= 1
        elif char == "," and not quoted and depth == 0:
            items.append(value[start:index].strip())
            start = index + 1
    items.append(value[start:].strip())
    return [item for item in items if item]


def header_lines(raw: bytes) -> list[tuple[str, str]]:
    """(canonical name, value) of every header field, list headers split into values."""
    head = raw.partition(b"\r\n\r\n")[0].decode("utf-8", "replace")
    fields: list[tuple[str, str]] = []
    for line in unfold(head.split("\r\n")[1:]):
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = canonical_name(name)
        values = split_list(value) if name in LIST_HEADERS else [value.strip()]
        fields.extend((name, item) for item in values)
    return fields


def body_of(message: SIP.SIPMessage) -> bytes:
    return message.raw.partition(b"\r\n\r\n")[2]


def uri_of(name_addr: str) -> str:
    if "<" in name_addr:
        return name_addr[name_addr.index("<") + 1:name_addr.index(">")]
    return name_addr.split(";")[0].strip()


def user_of(uri: str) -> str:
    """The user part of a sip:/sips: URI, the number of a tel: URI."""
    scheme, _, address = uri.partition(":")
    if "@" in address:
        return address.split("@")[0].split(";")[0]
    return address.split(";")[0] if scheme.lower() == "tel" else ""


def display_of(name_addr: str) -> str:
    return name_addr.split("<")[0].strip().strip('"') if "<" in name_addr else ""


def tag_of(name_addr: str) -> str:
    params = name_addr[name_addr.index(">") + 1:] if ">" in name_addr else name_addr
    match = re.search(r";\s*tag=([^;\s]+)", params, re.IGNORECASE)
    return match.group(1) if match else ""


def without_tag(name_addr: str) -> str:
    if ">" not in name_addr:
        return re.sub(r";\s*tag=[^;\s]+", "", name_addr, flags=re.IGNORECASE)
    end = name_addr.index(">") + 1
    return name_addr[:end] + re.sub(r";\s*tag=[^;\s]+", "", name_addr[end:], flags=re.IGNORECASE)


def via_parts(via: str) -> tuple[str, int | None, dict[str, str]]:
    """Host, port and parameters of one Via value."""
    sent_by, *params = via.split(None, 1)[1].split(";")
    host, _, port = sent_by.strip().partition(":")
    values = {}
    for param in params:
        name, _, value = param.strip().partition("=")
        values[name.lower()] = value
    return host, int(port) if port else None, values


def branch_of(via: str) -> str:
    return via_parts(via)[2].get("branch", "")


def reply_address(via: str) -> tuple[str, int]:
    """Where responses go (RFC 3261 18.2.2, RFC 3581): received and rport win."""
    host, port, params = via_parts(via)
    rport = params.get("rport")
    return params.get("received") or host, int(rport) if rport else port or 5060


def reason_phrase(status: int) -> str:
    try:
        return SIP.SIPStatus(status).phrase
    except ValueError:
        return "Unknown"


def build_request(method: str, uri: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    payload = body.encode()
    lines = [f"{method} {uri} SIP/2.0", *(f"{name}: {value}" for name, value in headers),
             f"Content-Length: {len(payload)}", "", ""]
    return "\r\n".join(lines).encode() + payload


class Message(SIP.SIPMessage):
    """pyVoIP's SIPMessage with its raw header lines kept (``lines``); any method or
    status code is read, and an SDP line pyVoIP cannot read no longer drops the message."""

    def __init__(self, data: bytes) -> None:
        self.lines = header_lines(data)
        self.status_code = 0
        self.received_at = time.monotonic()
        super().__init__(data)

    def first(self, name: str) -> str | None:
        return next((value for key, value in self.lines if key == name), None)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.lines if key == name]

    @property
    def top_via(self) -> str:
        return self.values("Via")[0]

    @property
    def request_uri(self) -> str:
        return self.heading.split(b" ")[1].decode()

    @property
    def cseq(self) -> int:
        return int(self.headers["CSeq"]["check"])

    def parse(self, data: bytes) -> None:
        self.SIPCompatibleMethods = METHODS
        super().parse(data)

    def parse_sip_response(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.heading = lines.pop(0)
        version, code = self.heading.split(b" ")[:2]
        self.version = version.decode()
        if self.version not in self.SIPCompatibleVersions:
            raise SIP.SIPParseError(f"SIP Version {self.version} not compatible.")
        self.status_code = int(code)
        try:
            self.status = SIP.SIPStatus(self.status_code)
        except ValueError:
            self.status = SIP.SIPStatus(self.status_code // 100 * 100)
        self.parse_raw_header(lines, self.parse_header)
        self.parse_raw_body(body, self.parse_body)

    def parse_sip_message(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.heading = lines.pop(0)
        method, _, version = self.heading.split(b" ")[:3]
        self.version = version.decode()
        if self.version not in self.SIPCompatibleVersions:
            raise SIP.SIPParseError(f"SIP Version {self.version} not compatible.")
        self.method = method.decode()
        self.parse_raw_header(lines, self.parse_header)
        self.parse_raw_body(body, self.parse_body)

    @staticmethod
    def parse_raw_body(body: bytes, handle: Callable[[str, str], None]) -> None:
        for line in body.decode("utf-8", "replace").split("\r\n"):
            kind, equals, value = line.partition("=")
            if equals:
                handle(kind, value)

    def parse_header(self, header: str, data: Any) -> None:
        """pyVoIP reads only sip: URIs in From and To; a tel: or sips: caller is kept too."""
        if header in ("From", "To") and not re.search(r"<?sip:", data):
            raw, _, tag = data.partition(";tag=")
            address = uri_of(raw).split(":", 1)[-1]
            self.headers[header] = {"raw": raw, "tag": tag, "address": address, "number": address.split("@")[0],
                                    "caller": display_of(raw), "host": address.partition("@")[2]}
            return
        super().parse_header(header, data)

    def parse_body(self, header: str, data: str) -> None:
        try:
            super().parse_body(header, data)
        except (ValueError, KeyError, IndexError, UnboundLocalError):
            log.debug("SDP line %s=%s not understood by pyVoIP", header, data)


# ------------------------------------------------------------------------------------
# Digest authentication (RFC 2617 / 3261 22): MD5, with or without qop=auth
# ------------------------------------------------------------------------------------
def parse_challenge(value: str) -> dict[str, str]:
    scheme, _, params = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise AuthError(f"unsupported authentication scheme {scheme!r}")
    return {name.lower(): raw.strip('"') for name, raw in re.findall(r'([\w-]+)\s*=\s*("[^"]*"|[^\s,]+)', params)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_authorization(challenge: dict[str, str], *, username: str, password: str, method: str,
                         uri: str) -> str:
    algorithm = challenge.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise AuthError(f"unsupported digest algorithm {algorithm}")
    realm, nonce = challenge["realm"], challenge["nonce"]
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    qops = [qop.strip() for qop in challenge.get("qop", "").split(",") if qop.strip()]
    if "auth" in qops:
        cnonce, count = secrets.token_hex(8), "00000001"
        fields += [f'response="{_md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")}"', "qop=auth",
                   f"nc={count}", f'cnonce="{cnonce}"']
    elif qops:
        raise AuthError(f"unsupported qop {challenge['qop']}")
    else:
        fields.append(f'response="{_md5(f"{ha1}:{nonce}:{ha2}")}"')
    fields.append("algorithm=MD5")
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)


# ------------------------------------------------------------------------------------
# SDP
# ------------------------------------------------------------------------------------
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
                    "inactive": "inactive"}
STATIC_CODECS = {0: "PCMU", 8: "PCMA"}


@dataclass(frozen=True)
class SessionDescription:
    """The first audio stream of a remote SDP, reduced to what we can use."""
    address: str
    port: int
    codecs: tuple[int, ...]    # PCMU (0) / PCMA (8), in the remote's order of preference
    event_pt: int | None       # telephone-event/8000
    direction: str

    @property
    def answer_direction(self) -> str:
        if self.port == 0 or self.address == "0.0.0.0":
            return "recvonly" if self.direction != "inactive" else "inactive"
        return ANSWER_DIRECTION[self.direction]


def parse_sdp(body: bytes) -> SessionDescription | None:
    session: dict[str, Any] = {"address": None, "direction": "sendrecv"}
    audio: dict[str, Any] | None = None
    section: dict[str, Any] | None = session
    for line in body.decode("utf-8", "replace").splitlines():
        kind, _, value = line.strip().partition("=")
        if kind == "m":
            fields = value.split()
            section = None
            if audio is None and len(fields) >= 3 and fields[0] == "audio":
                audio = section = {"port": int(fields[1].split("/")[0]), "address": None, "direction": None,
                                   "pts": [int(pt) for pt in fields[3:] if pt.isdigit()], "rtpmap": {}}
        elif section is None:
            continue
        elif kind == "c" and len(value.split()) >= 3:
            section["address"] = value.split()[2].split("/")[0]
        elif kind == "a" and value in DIRECTIONS:
            section["direction"] = value
        elif kind == "a" and value.startswith("rtpmap:") and section is audio:
            number, _, encoding = value[7:].partition(" ")
            if number.isdigit():
                section["rtpmap"][int(number)] = encoding.strip().lower()
    if audio is None or not (audio["address"] or session["address"]):
        return None
    codecs = tuple(pt for pt in audio["pts"]
                   if pt in STATIC_CODECS and audio["rtpmap"].get(pt, f"{STATIC_CODECS[pt]}/8000".lower())
                   .startswith(STATIC_CODECS[pt].lower()))
    events = [pt for pt in audio["pts"] if audio["rtpmap"].get(pt) == "telephone-event/8000"]
    return SessionDescription(audio["address"] or session["address"], audio["port"], codecs,
                              events[0] if events else None,
                              audio["direction"] or session["direction"])


def build_sdp(*, address: str, port: int, session_id: str, version: int, codecs: Iterable[int],
              event_pt: int | None, direction: str) -> str:
    codecs = list(codecs)
    payload_types = [*codecs, *([event_pt] if event_pt is not None else [])]
    lines = ["v=0", f"o=hotline {session_id} {version} IN IP4 {address}", "s=hotline",
             f"c=IN IP4 {address}", "t=0 0", f"m=audio {port} RTP/AVP {' '.join(map(str, payload_types))}"]
    lines += [f"a=rtpmap:{pt} {STATIC_CODECS[pt]}/8000" for pt in codecs]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-15"]
    lines += ["a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"


# ------------------------------------------------------------------------------------
# Media: pyVoIP's RTPClient on the engine
# ------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------
# Calls
# ------------------------------------------------------------------------------------
class LegListener(Protocol):
    def leg_answered(self) -> None: ...

    def leg_ended(self) -> None: ...


@dataclass(eq=False)
class Dialog:
    leg: "Leg"
    call_id: str
    local_uri: str
    local_tag: str
    remote_uri: str
    remote_tag: str
    remote_target: str
    route_set: list[str]
    local_cseq: int
    remote_cseq: int = 0
    last_response: bytes | None = None

    def next_cseq(self) -> int:
        self.local_cseq += 1
        return self.local_cseq

    def matches(self, request: Message) -> bool:
        return (tag_of(request.first("From") or "") == self.remote_tag
                and tag_of(request.first("To") or "") == self.local_tag)


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

    phone: "LegPhone"
    sip: "SIPAgent"
    request: Message | None  # type: ignore[assignment]
    RTPClients: list[EngineRTPClient]  # type: ignore[assignment]

    def __init__(self, phone: "LegPhone", state: pv.CallState, *, call_id: str, request: Message | None,
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


# ------------------------------------------------------------------------------------
# The phone
# ------------------------------------------------------------------------------------
class LegPhone(pv.VoIPPhone):
    """pyVoIP's VoIPPhone with an SIPAgent, engine-backed calls and asynchronous dialling."""

    sip: "SIPAgent"
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


# ------------------------------------------------------------------------------------
# The SIP agent
# ------------------------------------------------------------------------------------
@dataclass(eq=False)
class TimerHandle:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(eq=False)
class ClientTransaction:
    method: str
    branch: str
    request: Message
    destination: tuple[str, int]
    on_final: Callable[[Message], None]
    on_timeout: Callable[[], None]
    on_provisional: Callable[[Message], None] | None = None
    authenticated: bool = False
    started: float = field(default_factory=time.monotonic)
    interval: float = T1
    proceeding: bool = False
    completed: bool = False
    timer: TimerHandle | None = None
    ack: bytes | None = None


@dataclass(eq=False)
class PendingResponse:
    """A final response to an INVITE, sent again until the ACK comes."""
    status: int
    data: bytes
    destination: tuple[str, int]
    on_unacknowledged: Callable[[], None] | None
    started: float = field(default_factory=time.monotonic)
    interval: float = T1
    timer: TimerHandle | None = None


class SIPAgent(SIP.SIPClient):
    """pyVoIP's SIPClient driven by one thread: a selector on the socket plus timers."""

    def __init__(self, server: str, port: int, username: str, password: str, *, phone: LegPhone, my_ip: str,
                 my_port: int, user_agent: str) -> None:
        super().__init__(server, port, username, password, phone, myIP=my_ip, myPort=my_port,
                         callCallback=phone.callback, fatalCallback=phone.fatal)
        self.phone: LegPhone = phone
        self.user_agent = user_agent
        self.lock = threading.RLock()
        self.dialogs: dict[str, Dialog] = {}
        self.registered = False
        self._transactions: dict[tuple[str, str], ClientTransaction] = {}
        self._awaiting_ack: dict[tuple[str, int], PendingResponse] = {}
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._timer_order = itertools.count()
        self._register_call_id = self.gen_call_id()
        self._register_cseq = itertools.count(1)
        self._register_expires = REGISTER_EXPIRES
        self._refresh: TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None

    # -- identifiers (pyVoIP keeps every tag ever made in a list, and derives Call-IDs
    #    from a counter, so they repeat after a restart) ------------------------------
    def gen_tag(self) -> str:
        return secrets.token_hex(6)

    def gen_call_id(self) -> str:
        return f"{secrets.token_hex(16)}@{self.myIP}"

    @property
    def contact(self) -> str:
        return f"<sip:{self.username}@{self.myIP}:{self.myPort}>"

    def via(self, branch: str) -> str:
        return f"SIP/2.0/UDP {self.myIP}:{self.myPort};branch={branch};rport"

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self.NSD:
            raise RuntimeError("Attempted to start already started SIPClient")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.myIP, self.myPort))
        sock.setblocking(False)
        self.s = self.out = sock
        self._wake_in, self._wake_out = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ, "sip")
        self._selector.register(self._wake_in, selectors.EVENT_READ, "wake")
        self.NSD = True
        self._thread = threading.Thread(target=self._loop, name=f"sip-{self.username}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if not self.NSD:
            return
        self._wait_for_requests(1.0)
        if self.registered:
            self.register(timeout=2.0, expires=0)
        with self.lock:
            self.NSD = False
            if self._refresh is not None:
                self._refresh.cancel()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        assert self._selector is not None
        self._selector.close()
        self.s.close()
        self._wake_in.close()
        self._wake_out.close()

    def _wait_for_requests(self, timeout: float) -> None:
        """Give BYEs and CANCELs just sent a moment to be answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(t.completed for t in self._transactions.values() if t.method != "INVITE"):
                    return
            time.sleep(0.02)

    # -- the thread ------------------------------------------------------------------
    def _loop(self) -> None:
        assert self._selector is not None
        while self.NSD:
            with self.lock:
                delay = self._next_delay()
            for key, _ in self._selector.select(delay):
                if key.data == "wake":
                    self._wake_in.recv(4096)
                else:
                    self._receive_all()
            self._run_due_timers()

    def _wake(self) -> None:
        if self._selector is None:
            return
        try:
            self._wake_out.send(b"x")
        except OSError:
            pass

    def _receive_all(self) -> None:
        while True:
            try:
                data, source = self.s.recvfrom(65535, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if data.strip():
                self._handle(data, source)

    def _handle(self, data: bytes, source: tuple[str, int]) -> None:
        try:
            message = Message(data)
        except Exception as err:
            log.warning("dropped a SIP message from %s:%s that could not be parsed (%s): %r",
                        *source, err, data[:200])
            return
        with self.lock:
            try:
                self.parse_message(message)
            except Exception:
                log.exception("error handling SIP message from %s:%s: %r", *source, data[:200])

    # -- timers ----------------------------------------------------------------------
    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        with self.lock:
            handle = TimerHandle(time.monotonic() + delay, callback)
            heapq.heappush(self._timers, (handle.due, next(self._timer_order), handle))
        if threading.current_thread() is not self._thread:
            self._wake()
        return handle

    def _next_delay(self) -> float | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return max(0.0, self._timers[0][0] - time.monotonic()) if self._timers else None

    def _run_due_timers(self) -> None:
        with self.lock:
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                handle = heapq.heappop(self._timers)[2]
                if handle.cancelled:
                    continue
                try:
                    handle.callback()
                except Exception:
                    log.exception("SIP timer failed")

    # -- sending ---------------------------------------------------------------------
    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        try:
            self.s.sendto(data, destination)
        except OSError as err:
            log.warning("could not send SIP to %s:%s: %s", *destination, err)

    def send_to_server(self, data: bytes | str) -> None:
        self.send(data.encode() if isinstance(data, str) else data, (self.server, self.port))

    def respond(self, request: Message, status: int, *, to_tag: str | None = None,
                headers: Iterable[tuple[str, str]] = (), body: str = "") -> bytes:
        """Answer ``request`` at the address its top Via names."""
        to = request.first("To") or ""
        if to_tag and not tag_of(to):
            to = f"{to};tag={to_tag}"
        fields = [("Via", via) for via in request.values("Via")]
        fields += [("From", request.first("From") or ""), ("To", to), ("Call-ID", request.first("Call-ID") or ""),
                   ("CSeq", request.first("CSeq") or ""), ("Server", self.user_agent)]
        if request.method == "INVITE" and 100 < status < 300:  # RFC 3261 12.1.1
            fields += [("Record-Route", route) for route in request.values("Record-Route")]
            fields += [("Contact", self.contact), ("Allow", ALLOW)]
        fields += list(headers)
        if body:
            fields.append(("Content-Type", "application/sdp"))
        payload = body.encode()
        lines = [f"SIP/2.0 {status} {reason_phrase(status)}", *(f"{n}: {v}" for n, v in fields),
                 f"Content-Length: {len(payload)}", "", ""]
        data = "\r\n".join(lines).encode() + payload
        self.send(data, reply_address(request.top_via))
        return data

    def send_reliably(self, request: Message, status: int, *, to_tag: str, body: str = "",
                      on_unacknowledged: Callable[[], None] | None = None) -> bytes:
        """A final response to an INVITE, retransmitted until its ACK arrives."""
        data = self.respond(request, status, to_tag=to_tag, body=body)
        pending = PendingResponse(status, data, reply_address(request.top_via), on_unacknowledged)
        key = (request.headers["Call-ID"], request.cseq)
        self._awaiting_ack[key] = pending
        pending.timer = self.call_later(pending.interval, lambda: self._resend_response(key, pending))
        return data

    def _resend_response(self, key: tuple[str, int], pending: PendingResponse) -> None:
        if self._awaiting_ack.get(key) is not pending:
            return
        if time.monotonic() - pending.started >= TRANSACTION_TIMEOUT:
            del self._awaiting_ack[key]
            if pending.on_unacknowledged is not None:
                pending.on_unacknowledged()
            return
        self.send(pending.data, pending.destination)
        pending.interval = min(2 * pending.interval, T2)
        pending.timer = self.call_later(pending.interval, lambda: self._resend_response(key, pending))

    def send_request(self, request: Message, *, destination: tuple[str, int] | None = None,
                     on_final: Callable[[Message], None], on_timeout: Callable[[], None],
                     on_provisional: Callable[[Message], None] | None = None,
                     authenticated: bool = False) -> ClientTransaction:
        """Start a client transaction: send, retransmit until answered, time out at 32 s."""
        txn = ClientTransaction(request.method, branch_of(request.top_via), request,
                                destination or (self.server, self.port), on_final, on_timeout,
                                on_provisional, authenticated)
        self._transactions[(txn.branch, txn.method)] = txn
        self.send(request.raw, txn.destination)
        txn.timer = self.call_later(txn.interval, lambda: self._retransmit(txn))
        return txn

    def _retransmit(self, txn: ClientTransaction) -> None:
        if txn.completed or (txn.method == "INVITE" and txn.proceeding):
            return
        if time.monotonic() - txn.started >= TRANSACTION_TIMEOUT:
            txn.completed = True
            self._transactions.pop((txn.branch, txn.method), None)
            txn.on_timeout()
            return
        self.send(txn.request.raw, txn.destination)
        txn.interval = 2 * txn.interval if txn.method == "INVITE" else min(2 * txn.interval, T2)
        txn.timer = self.call_later(txn.interval, lambda: self._retransmit(txn))

    def _forget_later(self, txn: ClientTransaction) -> None:
        """Keep a finished transaction a while, to absorb retransmitted responses."""
        key = (txn.branch, txn.method)
        def forget() -> None:
            if self._transactions.get(key) is txn:
                del self._transactions[key]

        self.call_later(TRANSACTION_TIMEOUT, forget)

    def forget(self, leg: Leg) -> None:
        if leg.dialog is not None and self.dialogs.get(leg.call_id) is leg.dialog:
            del self.dialogs[leg.call_id]
        self.tagLibrary.pop(leg.call_id, None)
        for key in [k for k, p in self._awaiting_ack.items() if k[0] == leg.call_id and p.status < 300]:
            del self._awaiting_ack[key]

    # -- registration ----------------------------------------------------------------
    def register(self, timeout: float = 10.0, expires: int = REGISTER_EXPIRES) -> tuple[int | None, str]:  # type: ignore[override]
        """Register (``expires=0``: unregister) and wait; returns (status or None, reason)."""
        done = threading.Event()
        outcome: list[tuple[int | None, str]] = []

        def finished(status: int | None, reason: str) -> None:
            outcome.append((status, reason))
            done.set()

        with self.lock:
            self._register_expires = expires or self._register_expires
            self._send_register(expires, finished)
        if not done.wait(timeout):
            return None, f"no answer from {self.server}:{self.port} within {timeout:g} s"
        return outcome[0]

    def _send_register(self, expires: int, on_done: Callable[[int | None, str], None],
                       authorization: tuple[str, str] | None = None, attempt: int = 1) -> None:
        """REGISTER; a challenge is answered (again, up to 3 times, if only the nonce was stale)."""
        uri = f"sip:{self.server}"
        address = f"<sip:{self.username}@{self.server}>"
        headers = [("Via", self.via(self.gen_branch())), ("Max-Forwards", "70"),
                   ("From", f"{address};tag={self.tagLibrary['register']}"), ("To", address),
                   ("Call-ID", self._register_call_id), ("CSeq", f"{next(self._register_cseq)} REGISTER"),
                   ("Contact", self.contact), ("Expires", str(expires)), ("Allow", ALLOW),
                   ("User-Agent", self.user_agent), *([authorization] if authorization else [])]
        self.send_request(Message(build_request("REGISTER", uri, headers)),
                          on_final=lambda r: self._register_answered(r, expires, on_done, authorization, attempt),
                          on_timeout=lambda: on_done(None, f"no answer from {self.server}:{self.port}"))

    def _register_answered(self, response: Message, expires: int, on_done: Callable[[int | None, str], None],
                           sent: tuple[str, str] | None, attempt: int) -> None:
        status = response.status_code
        if status in (401, 407) and attempt <= 3 and (sent is None or self._stale(response, sent)):
            try:
                authorization = self.authorization(response, "REGISTER", f"sip:{self.server}")
            except (AuthError, KeyError) as err:
                on_done(status, f"{status} {reason_phrase(status)}: {err}")
                return
            self._send_register(expires, on_done, authorization, attempt + 1)
            return
        if status == 423 and response.first("Min-Expires"):
            self._send_register(int(response.first("Min-Expires") or expires), on_done)
            return
        if 200 <= status < 300:
            self.registered = expires > 0
            if self.registered:
                self._schedule_refresh(0.8 * self._granted(response, expires))
        elif status in (401, 407):
            on_done(status, f"{status} {reason_phrase(status)}: the credentials were refused")
            return
        on_done(status, f"{status} {reason_phrase(status)}")

    def _granted(self, response: Message, requested: int) -> float:
        ours = f"sip:{self.username}@{self.myIP}:{self.myPort}"
        for contact in response.values("Contact"):
            match = re.search(r";\s*expires=(\d+)", contact, re.IGNORECASE)
            if match and uri_of(contact).split(";")[0] == ours:
                return int(match.group(1))
        expires = response.first("Expires")
        return int(expires) if expires and expires.isdigit() else requested

    def _schedule_refresh(self, delay: float) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
        self._refresh = self.call_later(max(delay, 5.0), self._refresh_registration)

    def _refresh_registration(self) -> None:
        def refreshed(status: int | None, reason: str) -> None:
            if status is None or not 200 <= status < 300:
                log.warning("re-registering %s at %s:%s failed (%s); retrying in %g s",
                            self.username, self.server, self.port, reason, REGISTER_RETRY)
                self.registered = False
                self._schedule_refresh(REGISTER_RETRY)

        self._send_register(self._register_expires, refreshed)

    @staticmethod
    def _stale(challenge: Message, sent: tuple[str, str]) -> bool:
        """A challenge saying only that the nonce we used has expired (a new one is offered)."""
        offered = challenge.first("Proxy-Authenticate" if challenge.status_code == 407 else "WWW-Authenticate")
        try:
            fresh = parse_challenge(offered or "")
        except AuthError:
            return False
        return fresh.get("stale", "").lower() == "true" and f'nonce="{fresh.get("nonce")}"' not in sent[1]

    def authorization(self, challenge: Message, method: str, uri: str) -> tuple[str, str]:
        """The header answering a 401 (Authorization) or 407 (Proxy-Authorization)."""
        proxy = challenge.status_code == 407
        offered = challenge.first("Proxy-Authenticate" if proxy else "WWW-Authenticate")
        if offered is None:
            raise AuthError("the challenge carries no authenticate header")
        value = digest_authorization(parse_challenge(offered), username=self.username,
                                     password=self.password, method=method, uri=uri)
        return ("Proxy-Authorization" if proxy else "Authorization"), value

    # -- outgoing calls --------------------------------------------------------------
    def send_invite(self, leg: Leg, authorization: tuple[str, str] | None = None) -> None:
        outbound = leg.outbound
        assert outbound is not None
        outbound.cseq += 1
        headers = [("Via", self.via(self.gen_branch())), ("Max-Forwards", "70"),
                   ("From", f"{outbound.local_uri};tag={leg.local_tag}"), ("To", outbound.remote_uri),
                   ("Call-ID", leg.call_id), ("CSeq", f"{outbound.cseq} INVITE"), ("Contact", self.contact),
                   ("Allow", ALLOW), ("User-Agent", self.user_agent), ("Content-Type", "application/sdp")]
        if outbound.caller_id:
            headers.append(("P-Asserted-Identity", f"<sip:{outbound.caller_id}@{self.server}>"))
        if authorization:
            headers.append(authorization)
        leg.request = Message(build_request("INVITE", outbound.target, headers, outbound.sdp))
        leg.invite = self.send_request(leg.request, on_final=lambda r: self._invite_answered(leg, r),
                                       on_timeout=lambda: leg.end("error"),
                                       authenticated=authorization is not None)

    def _invite_answered(self, leg: Leg, response: Message) -> None:
        txn = leg.invite
        assert txn is not None
        if response.status_code < 300:
            self._invite_succeeded(leg, txn, response)
            return
        self._forget_later(txn)
        if response.status_code in (401, 407) and not txn.authenticated and leg.state == pv.CallState.DIALING:
            txn.ack = self.non2xx_ack(txn, response)
            self.send(txn.ack, txn.destination)
            try:
                authorization = self.authorization(response, "INVITE", txn.request.request_uri)
            except (AuthError, KeyError) as err:
                log.warning("call %s: cannot authenticate: %s", leg.call_id, err)
                leg.failed(response.status_code)
                return
            self.send_invite(leg, authorization)
            return
        self.on_invite_failure(leg, txn, response)

    def _invite_succeeded(self, leg: Leg, txn: ClientTransaction, response: Message) -> None:
        self._forget_later(txn)
        if leg.state == pv.CallState.DIALING:
            leg.answered(response)
            txn.ack = self.gen_ack(response).encode()
            self.send_to_server(txn.ack)
            return
        # we hung up (CANCEL) while the far end answered: acknowledge, then end it
        txn.ack = self.gen_ack(response).encode()
        self.send_to_server(txn.ack)
        assert leg.outbound is not None
        leg.dialog = Dialog(leg, leg.call_id, leg.outbound.local_uri, leg.local_tag, leg.outbound.remote_uri,
                            tag_of(response.first("To") or ""),
                            uri_of(response.first("Contact") or leg.outbound.target),
                            list(reversed(response.values("Record-Route"))), leg.outbound.cseq)
        self.dialogs[leg.call_id] = leg.dialog
        self.tagLibrary[leg.call_id] = leg.local_tag
        self.bye(leg.request)
        self.forget(leg)

    def non2xx_ack(self, txn: ClientTransaction, response: Message) -> bytes:
        """The ACK of a final non-2xx response: part of the INVITE transaction (same branch)."""
        invite = txn.request
        headers = [("Via", invite.top_via), ("Max-Forwards", "70"), ("From", invite.first("From") or ""),
                   ("To", response.first("To") or ""), ("Call-ID", invite.headers["Call-ID"]),
                   ("CSeq", f"{invite.cseq} ACK"), ("User-Agent", self.user_agent)]
        return build_request("ACK", invite.request_uri, headers)

    def cancel(self, txn: ClientTransaction) -> None:
        if txn.completed:
            return
        invite = txn.request
        headers = [("Via", invite.top_via), ("Max-Forwards", "70"), ("From", invite.first("From") or ""),
                   ("To", invite.first("To") or ""), ("Call-ID", invite.headers["Call-ID"]),
                   ("CSeq", f"{invite.cseq} CANCEL"), ("User-Agent", self.user_agent)]
        self.send_request(Message(build_request("CANCEL", invite.request_uri, headers)),
                          on_final=lambda r: None, on_timeout=lambda: None)
        self._forget_later(txn)

    def bye(self, request: SIP.SIPMessage | None) -> None:
        assert request is not None
        data = self.gen_bye(request).encode()
        self.send_request(Message(data), on_final=lambda r: None, on_timeout=lambda: None)

    # -- dispatch --------------------------------------------------------------------
    def parse_message(self, message: SIP.SIPMessage) -> None:
        assert isinstance(message, Message)
        if message.type == SIP.SIPMessageType.RESPONSE:
            self._on_response(message)
            return
        handlers = {"INVITE": self._on_invite, "ACK": self._on_ack, "BYE": self._on_bye,
                    "CANCEL": self.on_cancel, "OPTIONS": self._on_options}
        handlers.get(message.method, self._on_unsupported)(message)

    def _on_response(self, response: Message) -> None:
        key = (branch_of(response.top_via), response.headers["CSeq"]["method"])
        txn = self._transactions.get(key)
        if txn is None:
            log.debug("response to no transaction of ours: %s", response.heading)
            return
        if response.status_code < 200:
            txn.proceeding = True
            if txn.on_provisional is not None:
                txn.on_provisional(response)
            return
        if txn.completed:  # a retransmitted final response: our ACK was lost
            if txn.ack is not None:
                self.send(txn.ack, txn.destination)
            return
        txn.completed = True
        if txn.timer is not None:
            txn.timer.cancel()
        if txn.method != "INVITE":
            self._transactions.pop(key, None)
        txn.on_final(response)

    def _on_invite(self, request: Message) -> None:
        call_id = request.headers["Call-ID"]
        if tag_of(request.first("To") or ""):
            self._on_reinvite(request)
            return
        existing = self.phone.calls.get(call_id)
        finished = self._awaiting_ack.get((call_id, request.cseq))
        if finished is not None:  # retransmitted; our final response may have been lost
            self.send(finished.data, finished.destination)
            return
        if existing is not None:
            if existing.invite_branch == branch_of(request.top_via):
                if existing.last_response is not None:
                    self.send(existing.last_response, reply_address(request.top_via))
            else:
                self.respond(request, 482)
            return
        self.respond(request, 100)
        try:
            self.phone._callback_MSG_Invite(request)
        except CallSetupError as err:
            log.info("refused call %s: %s", call_id, err)
            self.send_reliably(request, err.status, to_tag=self.tagLibrary.pop(call_id, "") or self.gen_tag())
        except Exception:
            log.exception("could not take call %s", call_id)
            self.send_reliably(request, 500, to_tag=self.tagLibrary.pop(call_id, "") or self.gen_tag())

    def _on_reinvite(self, request: Message) -> None:
        dialog = self.dialogs.get(request.headers["Call-ID"])
        if dialog is None or not dialog.matches(request):
            self.respond(request, 481)
            return
        if request.cseq <= dialog.remote_cseq:
            if dialog.last_response is not None:
                self.send(dialog.last_response, reply_address(request.top_via))
            return
        dialog.remote_cseq = request.cseq
        dialog.leg.renegotiate(request)

    def _on_ack(self, request: Message) -> None:
        pending = self._awaiting_ack.pop((request.headers["Call-ID"], request.cseq), None)
        if pending is not None and pending.timer is not None:
            pending.timer.cancel()

    def _on_bye(self, request: Message) -> None:
        dialog = self.dialogs.get(request.headers["Call-ID"])
        if dialog is None or not dialog.matches(request):
            self.respond(request, 481)
            return
        self.respond(request, 200)
        dialog.leg.bye()

    def _on_options(self, request: Message) -> None:
        self.respond(request, 200, headers=[("Allow", ALLOW), ("Accept", "application/sdp")])

    def _on_unsupported(self, request: Message) -> None:
        self.respond(request, 501)

    # -- hooks that FIXES replace; as defined here they are pyVoIP's own behaviour -------
    def on_cancel(self, message: Message) -> None:
        SIP.SIPClient.parse_message(self, message)

    def on_invite_failure(self, leg: Leg, txn: ClientTransaction, response: Message) -> None:
        SIP.SIPClient.parse_message(self, response)


# ------------------------------------------------------------------------------------
# FIXES: one per defect of pyVoIP 1.6.8 (shared/design/TELEPHONY.md)
# ------------------------------------------------------------------------------------
def _encode_negotiated(self: EngineRTPClient, payload: bytes) -> bytes:
    """Defect 1: ``encode_packet`` sent µ-law whatever codec was negotiated."""
    if self.preference == RTP.PayloadType.PCMA:
        return self.encode_pcma(payload)
    if self.preference == RTP.PayloadType.PCMU:
        return self.encode_pcmu(payload)
    raise RTP.RTPParseError(f"Unsupported codec (encode): {self.preference}")


def _ack_for_2xx(self: SIPAgent, request: SIP.SIPMessage) -> str:
    """Defect 2: the ACK of a 200 OK is a request of the dialog (RFC 3261 13.2.2.4):
    sent to the remote target (Contact) through the route set (Record-Route reversed),
    with the To-tag of the 200, the INVITE's CSeq number and a new Via branch."""
    assert isinstance(request, Message)
    headers = [("Via", self.via(self.gen_branch())), ("Max-Forwards", "70")]
    routes = list(reversed(request.values("Record-Route")))
    if routes:
        headers.append(("Route", ", ".join(routes)))
    headers += [("From", request.first("From") or ""), ("To", request.first("To") or ""),
                ("Call-ID", request.headers["Call-ID"]), ("CSeq", f"{request.cseq} ACK"),
                ("User-Agent", self.user_agent)]
    target = uri_of(request.first("Contact") or request.first("To") or "")
    return build_request("ACK", target, headers).decode()


def _bye_in_dialog(self: SIPAgent, request: SIP.SIPMessage | None) -> str:
    """Defect 3: a BYE is a new transaction of the dialog: new Via branch, the next local
    CSeq, the remote target and route set, our tag in From and the remote tag in To."""
    assert request is not None
    dialog = self.dialogs[request.headers["Call-ID"]]
    headers = [("Via", self.via(self.gen_branch())), ("Max-Forwards", "70")]
    if dialog.route_set:
        headers.append(("Route", ", ".join(dialog.route_set)))
    headers += [("From", f"{dialog.local_uri};tag={dialog.local_tag}"),
                ("To", f"{dialog.remote_uri};tag={dialog.remote_tag}"), ("Call-ID", dialog.call_id),
                ("CSeq", f"{dialog.next_cseq()} BYE"), ("User-Agent", self.user_agent)]
    return build_request("BYE", dialog.remote_target, headers).decode()


def _cancel_ringing_call(self: SIPAgent, message: Message) -> None:
    """Defect 4: CANCEL was answered 200 and otherwise ignored, so the application
    answered an abandoned call.  Now: 200 to the CANCEL, 487 to the INVITE, call ended."""
    leg = self.phone.calls.get(message.headers["Call-ID"])
    if leg is None or leg.direction != "inbound" or leg.invite_branch != branch_of(message.top_via):
        self.respond(message, 481)
        return
    self.respond(message, 200, to_tag=leg.local_tag)
    if leg.state == pv.CallState.RINGING:
        assert leg.request is not None
        leg.last_response = self.send_reliably(leg.request, 487, to_tag=leg.local_tag)
        leg.cancelled()


def _renegotiate(self: Leg, request: SIP.SIPMessage) -> None:
    """Defect 5: ``renegotiate`` starts the call's RTP clients again: pyVoIP's own
    RTPClient then runs a second sender (double speed); an EngineRTPClient refuses to
    start twice, so the re-INVITE would go unanswered and the media stay where it was.
    Now the running stream takes the new address, codec and direction (hold), and the
    200 OK carries our SDP with the next session version."""
    assert isinstance(request, Message) and self.dialog is not None
    contact = request.first("Contact")
    if contact:
        self.dialog.remote_target = uri_of(contact)
    description = parse_sdp(body_of(request))
    if description is not None and not description.codecs:
        self.dialog.last_response = self.sip.send_reliably(request, 488, to_tag=self.local_tag)
        return
    if description is not None:
        _apply_description(self, description)
    current = description or self.offer
    assert current is not None
    direction = current.answer_direction
    self.sdp_version += 1
    self.dialog.last_response = self.sip.send_reliably(request, 200, to_tag=self.local_tag,
                                                       body=self.local_sdp(direction))


def _apply_description(leg: Leg, description: SessionDescription) -> None:
    client = leg.RTPClients[0]
    client.outIP, client.outPort = description.address, description.port
    if int(client.preference) not in description.codecs:
        client.preference = RTP.PayloadType(description.codecs[0])
    leg.stream.set_codec(int(client.preference), client.encode_packet)
    leg.stream.set_remote((description.address, description.port))
    if description.event_pt is not None:
        leg.stream.event_pt = description.event_pt
    leg.offer = description
    if description.answer_direction in ("sendrecv", "sendonly"):
        leg.stream.start_sending()
    else:
        leg.stream.stop_sending()


def _end_failed_invite(self: SIPAgent, leg: Leg, txn: ClientTransaction, response: Message) -> None:
    """Defect 6: a final 3xx-6xx answer (486, 404, 603, 480 ...) left the call dialling
    forever or raised KeyError.  Now it is ACKed (same branch as the INVITE) and the call
    ends with its end reason and SIP status."""
    txn.ack = self.non2xx_ack(txn, response)
    self.send(txn.ack, txn.destination)
    leg.failed(response.status_code)


def _parse_raw_header(headers_raw: list[bytes], handle: Callable[[str, str], None]) -> None:
    """Defect 7: a header with an empty value (baresip sends ``Supported:``) raised
    IndexError and dropped the whole message.  Empty headers are now skipped; compact
    and lower-case names are read, and values containing ": " are kept whole."""
    headers: dict[str, Any] = {"Via": []}
    for line in unfold(raw.decode("utf-8", "replace") for raw in headers_raw):
        name, colon, value = line.partition(":")
        name, value = canonical_name(name), value.strip()
        if not colon or not value:
            continue
        if name == "Via":
            headers["Via"].extend(split_list(value))
        elif name not in headers:
            headers[name] = value
    for name, value in headers.items():
        handle(name, value)


def _offer_call_at_once(self: LegPhone, request: SIP.SIPMessage) -> None:
    """pyVoIP waits a fixed second (``Timer(1, ...)``) before the application sees an
    incoming call.  Now it rings (180 to the top Via) and is handed over at once."""
    assert isinstance(request, Message)
    call_id = request.headers["Call-ID"]
    self.sip.tagLibrary[call_id] = self.sip.gen_tag()
    leg = self._create_Call(request, random.randint(1, 2**31))
    leg.last_response = self.sip.respond(request, 180, to_tag=leg.local_tag)
    assert self.callCallback is not None
    self.callCallback(leg)


@dataclass(frozen=True)
class Fix:
    defect: str
    patches: tuple[tuple[type, str, Any], ...]


FIXES: dict[str, Fix] = {
    "pcma_encoding": Fix("PCMA negotiated but µ-law sent",
                         ((EngineRTPClient, "encode_packet", _encode_negotiated),)),
    "ack_for_2xx": Fix("malformed ACK for an outgoing call's 200 OK; the far end drops the call",
                       ((SIPAgent, "gen_ack", _ack_for_2xx),)),
    "bye_new_branch": Fix("BYE reuses the INVITE's Via branch", ((SIPAgent, "gen_bye", _bye_in_dialog),)),
    "cancel": Fix("CANCEL ignored: abandoned calls are answered", ((SIPAgent, "on_cancel", _cancel_ringing_call),)),
    "reinvite": Fix("re-INVITE starts a second sender", ((Leg, "renegotiate", _renegotiate),)),
    "final_response": Fix("final non-2xx answer leaves an outgoing call dialling (or raises KeyError)",
                          ((SIPAgent, "on_invite_failure", _end_failed_invite),)),
    "empty_header": Fix("an empty header drops the whole message",
                        ((Message, "parse_raw_header", staticmethod(_parse_raw_header)),)),
    "immediate_incoming": Fix("incoming calls reach the application one second late",
                              ((LegPhone, "_callback_MSG_Invite", _offer_call_at_once),)),
}

_installed: frozenset[str] | None = None
_install_lock = threading.Lock()


def install(without: Iterable[str] = ()) -> None:
    """Apply every fix but those named in ``without``.  Idempotent; a different
    selection after the first install is refused."""
    global _installed
    excluded = frozenset(without)
    unknown = excluded - FIXES.keys()
    if unknown:
        raise ValueError(f"no such pyVoIP fix: {', '.join(sorted(unknown))}")
    if pyVoIP.__version__ != PYVOIP_VERSION:
        raise RuntimeError(f"these fixes are for pyVoIP {PYVOIP_VERSION}, found {pyVoIP.__version__}")
    selected = frozenset(FIXES) - excluded
    with _install_lock:
        if _installed is not None:
            if _installed != selected:
                raise RuntimeError(f"pyVoIP fixes already installed without {sorted(FIXES.keys() - _installed)}")
            return
        for name in sorted(selected):
            for owner, attribute, replacement in FIXES[name].patches:
                setattr(owner, attribute, replacement)
        _installed = selected


def installed() -> frozenset[str] | None:
    """The names of the fixes in place, or None before :func:`install`."""
    return _installed
