"""The SIP agent pyVoIP's phone drives: dialogs, calls in and out, and the dispatch of every message."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyVoIP import SIP
from pyVoIP.VoIP import VoIP as pv

from .auth import AuthError
from .message import ALLOW, Message, branch_of, build_request, reply_address, tag_of, uri_of
from .registration import RegistrationLayer
from .transactions import ClientTransaction

if TYPE_CHECKING:
    from .legs import Leg, LegPhone

log = logging.getLogger(__name__)


class CallSetupError(Exception):
    """An INVITE we cannot take; ``status`` is the final response to send."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class Dialog:
    leg: Leg
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


class SIPAgent(RegistrationLayer):
    """pyVoIP's SIPClient with dialogs and calls, on the one-thread transport that registers."""

    def __init__(self, server: str, port: int, username: str, password: str, *, phone: LegPhone, my_ip: str,
                 my_port: int, user_agent: str) -> None:
        super().__init__(server, port, username, password, phone=phone, my_ip=my_ip, my_port=my_port,
                         user_agent=user_agent)
        self.phone: LegPhone = phone
        self.dialogs: dict[str, Dialog] = {}

    def forget(self, leg: Leg) -> None:
        if leg.dialog is not None and self.dialogs.get(leg.call_id) is leg.dialog:
            del self.dialogs[leg.call_id]
        self.tagLibrary.pop(leg.call_id, None)
        for key in [k for k, p in self._awaiting_ack.items() if k[0] == leg.call_id and p.status < 300]:
            del self._awaiting_ack[key]

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
