"""The named fixes, one per defect of pyVoIP 1.6.8 (shared/design/TELEPHONY.md), and install(without=...)."""
from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyVoIP
from pyVoIP import RTP, SIP
from pyVoIP.VoIP import VoIP as pv

from .agent import SIPAgent
from .legs import EngineRTPClient, Leg, LegPhone
from .message import Message, body_of, branch_of, build_request, canonical_name, split_list, unfold, uri_of
from .sdp import SessionDescription, parse_sdp
from .transactions import ClientTransaction

PYVOIP_VERSION = "1.6.8"


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
