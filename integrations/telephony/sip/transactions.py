"""The SIP transport on one thread: timers, client transactions, and final responses resent until ACKed."""
from __future__ import annotations

import heapq
import itertools
import logging
import secrets
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyVoIP import SIP

from .message import ALLOW, Message, branch_of, reason_phrase, reply_address, tag_of

if TYPE_CHECKING:
    from .legs import LegPhone

log = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
TRANSACTION_TIMEOUT = 64 * T1


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


class TransactionLayer(SIP.SIPClient):
    """pyVoIP's SIPClient driven by one thread: a selector on the socket plus timers."""

    def __init__(self, server: str, port: int, username: str, password: str, *, phone: LegPhone, my_ip: str,
                 my_port: int, user_agent: str) -> None:
        super().__init__(server, port, username, password, phone, myIP=my_ip, myPort=my_port,
                         callCallback=phone.callback, fatalCallback=phone.fatal)
        self.user_agent = user_agent
        self.lock = threading.RLock()
        self._transactions: dict[tuple[str, str], ClientTransaction] = {}
        self._awaiting_ack: dict[tuple[str, int], PendingResponse] = {}
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._timer_order = itertools.count()
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
