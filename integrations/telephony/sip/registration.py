"""REGISTER: registering with digest auth, refreshing before expiry, unregistering when stopped."""
from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .auth import AuthError, digest_authorization, parse_challenge
from .message import ALLOW, Message, build_request, reason_phrase, uri_of
from .transactions import TimerHandle, TransactionLayer

if TYPE_CHECKING:
    from .legs import LegPhone

log = logging.getLogger(__name__)

REGISTER_EXPIRES = 300
REGISTER_RETRY = 30.0


class RegistrationLayer(TransactionLayer):
    """The transport that registers its user with the server and keeps the registration fresh."""

    def __init__(self, server: str, port: int, username: str, password: str, *, phone: LegPhone, my_ip: str,
                 my_port: int, user_agent: str) -> None:
        super().__init__(server, port, username, password, phone=phone, my_ip=my_ip, my_port=my_port,
                         user_agent=user_agent)
        self.registered = False
        self._register_call_id = self.gen_call_id()
        self._register_cseq = itertools.count(1)
        self._register_expires = REGISTER_EXPIRES
        self._refresh: TimerHandle | None = None

    def stop(self) -> None:
        """Let requests just sent be answered, unregister, then close the socket and the thread."""
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
