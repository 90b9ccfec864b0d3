"""Test support for real SIP calls: the kamailio proxy, a small SIP client, SIPp UAS
processes, baresip agents and audio analysis.

The proxy is the one `scripts/services` runs (integrations/telephony/kamailio/kamailio.cfg):
UDP on 127.0.0.1, REGISTER challenged without qop, one shared secret, calls to the service
number round-robin over the contacts of the AOR "hotline", 9<number> to the trunk (a SIPp
UAS of the tests on 127.0.0.1), other numbers looked up in the location table.

Everything here is plain Python (no numpy); audio is 8 kHz 16-bit signed mono, as the
telephony code uses it.
"""
from __future__ import annotations

import array
import cmath
import hashlib
import json
import math
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from tests.telephony.ports import sipp_media_port

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "services"
RATE = 8000
BARESIP_MODULES = Path("/usr/lib/baresip/modules")


class ServiceUnavailable(RuntimeError):
    """A program or service the telephony tests need is missing or does not work."""


# ---------------------------------------------------------------------------------------
# The proxy
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SipProxy:
    """Where the test proxy listens and how it is set up (from `scripts/services env`)."""

    host: str
    port: int
    secret: str
    realm: str
    service_number: str
    service_aor: str
    trunk_host: str
    trunk_port: int
    trusted: str
    ctl: str  # kamcmd's -s argument, e.g. unix:/…/.services/kamailio/kamailio.ctl
    log_path: Path

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def uri(self, user: str) -> str:
        """The SIP URI of a number or extension at this proxy."""
        return f"sip:{user}@{self.host}:{self.port}"

    def kamcmd(self, *args: str, timeout: float = 5.0) -> str:
        """Runs one RPC command over the control socket and returns its output. kamcmd
        turns numeric arguments into integers: pass "s:8001" for the string "8001"."""
        kamcmd = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
        try:
            done = subprocess.run([kamcmd, "-s", self.ctl, *args], capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError:
            raise ServiceUnavailable("kamcmd is not installed (Debian package kamailio)") from None
        except subprocess.TimeoutExpired:
            raise ServiceUnavailable(f"kamcmd {' '.join(args)} got no answer from {self.ctl} "
                                     f"within {timeout:g} s") from None
        # kamcmd exits 0 even when the command fails; it prints "error: <code> - <reason>"
        if done.returncode != 0 or done.stdout.startswith("error:"):
            raise ServiceUnavailable(f"kamcmd {' '.join(args)} failed (exit {done.returncode}): "
                                     f"{(done.stderr + done.stdout).strip()}")
        return done.stdout

    def contacts(self, aor: str) -> list[str]:
        """The contact URIs registered under an AOR (user name) right now."""
        try:
            out = self.kamcmd("ul.lookup", "location", f"s:{aor}")
        except ServiceUnavailable as exc:
            if "not found" in str(exc).lower():
                return []
            raise
        return re.findall(r"^\s*Address:\s*(\S+)\s*$", out, flags=re.M)

    def remove_aor(self, aor: str) -> None:
        """Forgets every registration of an AOR (cleanup; ignores an unknown AOR)."""
        try:
            self.kamcmd("ul.rm", "location", f"s:{aor}")
        except ServiceUnavailable:
            pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no log at {self.log_path})"
        return "\n".join(text[-lines:])


def _services_env() -> dict[str, str]:
    """The variables `scripts/services env` prints (its defaults when nothing is set)."""
    try:
        out = subprocess.run([str(SERVICES), "env"], capture_output=True, text=True, timeout=30,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServiceUnavailable(f"`scripts/services env` failed: {exc}") from None
    values = {}
    for line in out.splitlines():
        match = re.match(r"export (\w+)=(.*)$", line.strip())
        if match:
            # %q quoting of simple values: strip one level of quotes/backslashes
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[match.group(1)] = re.sub(r"\\(.)", r"\1", value)
    return values


def proxy_settings(environ: dict[str, str] | None = None) -> SipProxy:
    """The proxy's settings: from HOTLINE_TEST_SIP_* in the environment when
    `eval "$(scripts/services env)"` ran, otherwise straight from `scripts/services env`."""
    env = dict(os.environ if environ is None else environ)
    if "HOTLINE_TEST_SIP_PROXY" not in env:
        env = {**_services_env(), **{k: v for k, v in env.items() if k.startswith("HOTLINE_TEST_SIP_")}}

    def hostport(name: str) -> tuple[str, int]:
        value = env.get(name, "")
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ServiceUnavailable(f"{name}={value!r} is not host:port")
        return host, int(port)

    host, port = hostport("HOTLINE_TEST_SIP_PROXY")
    trunk_host, trunk_port = hostport("HOTLINE_TEST_SIP_TRUNK")
    return SipProxy(
        host=host, port=port,
        secret=env.get("HOTLINE_TEST_SIP_SECRET", "hotline-test-secret"),
        realm=env.get("HOTLINE_TEST_SIP_REALM", "hotline"),
        service_number=env.get("HOTLINE_TEST_SIP_SERVICE_NUMBER", "12345"),
        service_aor=env.get("HOTLINE_TEST_SIP_SERVICE_AOR", "hotline"),
        trunk_host=trunk_host, trunk_port=trunk_port,
        trusted=env.get("HOTLINE_TEST_SIP_TRUSTED", "127.0.0.1/32"),
        ctl=env.get("HOTLINE_TEST_SIP_CTL", f"unix:{REPO / '.services/kamailio' / str(port) / 'kamailio.ctl'}"),
        log_path=Path(env.get("HOTLINE_TEST_SIP_LOG", str(REPO / ".services/kamailio" / str(port) / "kamailio.log"))),
    )


def proxy_problem(proxy: SipProxy) -> str | None:
    """Why the proxy cannot be used, or None when it answers SIP and its control socket."""
    try:
        proxy.kamcmd("core.version", timeout=3)
    except ServiceUnavailable as exc:
        return f"its control socket does not answer ({exc})"
    try:
        with SipClient(proxy) as client:
            reply = client.options(timeout=2.0)
    except OSError as exc:
        return f"sending SIP OPTIONS to {proxy.address} failed: {exc}"
    if reply is None:
        return f"no answer to SIP OPTIONS on {proxy.address} (UDP) within 2 s"
    if reply.status != 200:
        return f"SIP OPTIONS on {proxy.address} answered {reply.status} {reply.reason}"
    return None


def ensure_proxy(start: bool = True) -> SipProxy:
    """The running proxy, brought up to date first with `scripts/services start kamailio`
    (which starts it when it is down and restarts it when its configuration changed; a
    no-op otherwise). A proxy elsewhere than 127.0.0.1 is only checked.

    Raises ServiceUnavailable saying which service failed and why."""
    proxy = proxy_settings()
    if start and proxy.host == "127.0.0.1":
        env = {**os.environ,
               "HOTLINE_TEST_SIP_PORT": str(proxy.port),
               "HOTLINE_TEST_SIP_TRUNK_PORT": str(proxy.trunk_port),
               "HOTLINE_TEST_SIP_SECRET": proxy.secret,
               "HOTLINE_TEST_SIP_SERVICE_NUMBER": proxy.service_number}
        try:
            done = subprocess.run([str(SERVICES), "start", "kamailio"], capture_output=True, text=True,
                                  timeout=600, check=False, env=env)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ServiceUnavailable(f"kamailio (SIP proxy): `scripts/services start kamailio` could not run: "
                                     f"{exc}") from None
        if done.returncode != 0:
            raise ServiceUnavailable(f"kamailio (SIP proxy) on {proxy.address}: `scripts/services start kamailio` "
                                     f"failed (exit {done.returncode}):\n{(done.stdout + done.stderr).strip()}")
    problem = proxy_problem(proxy)
    if problem is not None:
        raise ServiceUnavailable(f"kamailio (SIP proxy) on {proxy.address} is not usable: {problem}\n"
                                 f"last lines of {proxy.log_path}:\n{proxy.log_tail()}")
    return proxy


# ---------------------------------------------------------------------------------------
# SIP messages and a small UDP client (REGISTER, OPTIONS, INVITE/ACK/BYE)
# ---------------------------------------------------------------------------------------

@dataclass
class SipMessage:
    first_line: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    source: tuple[str, int] | None = None

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ", 2)[1]) if self.is_response else 0

    @property
    def reason(self) -> str:
        parts = self.first_line.split(" ", 2)
        return parts[2] if self.is_response and len(parts) > 2 else ""

    @property
    def method(self) -> str:
        if self.is_response:
            return self.header("CSeq", "").split()[-1] if self.header("CSeq") else ""
        return self.first_line.split(" ", 1)[0]

    @property
    def request_uri(self) -> str:
        return "" if self.is_response else self.first_line.split(" ")[1]

    def header(self, name: str, default: str | None = None) -> str | None:
        values = self.header_values(name)
        return values[0] if values else default

    def header_values(self, name: str) -> list[str]:
        names = {name.lower(), _COMPACT.get(name.lower(), name.lower())}
        return [v for n, v in self.headers if n.lower() in names]

    def __str__(self) -> str:
        head = "\r\n".join([self.first_line, *(f"{n}: {v}" for n, v in self.headers)])
        return head + "\r\n\r\n" + self.body.decode(errors="replace")


_COMPACT = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m", "content-length": "l",
            "content-type": "c", "supported": "k", "subject": "s"}
_COMPACT.update({v: k for k, v in list(_COMPACT.items())})


def parse_sip(data: bytes, source: tuple[str, int] | None = None) -> SipMessage:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", errors="replace").split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded header line
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return SipMessage(lines[0], headers, body, source)


def parse_auth_params(header: str) -> dict[str, str]:
    """Digest challenge parameters: 'Digest realm="x", nonce="y"' -> {'realm': 'x', ...}."""
    _, _, rest = header.partition(" ")
    return {k.lower(): (v1 if v1 else v2)
            for k, v1, v2 in re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', rest)}


def digest_response(user: str, password: str, realm: str, nonce: str, method: str, uri: str) -> str:
    """RFC 2617 digest without qop."""
    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest is MD5
    return md5(f"{md5(f'{user}:{realm}:{password}')}:{nonce}:{md5(f'{method}:{uri}')}")


def uri_of(name_addr: str) -> str:
    """'"X" <sip:a@b>;tag=1' -> 'sip:a@b'."""
    match = re.search(r"<([^>]*)>", name_addr)
    return match.group(1) if match else name_addr.split(";")[0].strip()


def _token() -> str:
    return secrets.token_hex(6)


@dataclass
class RegisterResult:
    """The replies to one REGISTER: the challenge (if any) and the final answer."""

    challenge: SipMessage | None
    final: SipMessage

    @property
    def status(self) -> int:
        return self.final.status


@dataclass
class CallResult:
    """What became of an INVITE: every reply in order, the final one, and the dialog."""

    replies: list[SipMessage]
    final: SipMessage | None
    requests: list[SipMessage] = field(default_factory=list)  # requests the far end sent us
    bye_status: int | None = None

    @property
    def status(self) -> int:
        return self.final.status if self.final else 0

    @property
    def provisional(self) -> list[int]:
        return [r.status for r in self.replies if r.status < 200]

    def header(self, name: str) -> str | None:
        return self.final.header(name) if self.final else None


class SipClient:
    """A SIP user agent on one UDP socket, talking to the proxy: enough for REGISTER with
    digest (no qop), OPTIONS, and INVITE -> ACK -> BYE with exact status codes."""

    def __init__(self, proxy: SipProxy, bind_host: str = "127.0.0.1", user: str = "tester"):
        self.proxy = proxy
        self.user = user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind_host, 0))
        self.host, self.port = self.sock.getsockname()
        self._cseq = 0

    def __enter__(self) -> "SipClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    # -- transport -----------------------------------------------------------------------

    def send(self, text: str, body: bytes = b"", to: tuple[str, int] | None = None) -> None:
        lines = text.strip("\n").splitlines()
        head = "\r\n".join(line.strip() for line in lines if line.strip())
        data = (head + f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        self.sock.sendto(data, to or (self.proxy.host, self.proxy.port))

    def receive(self, timeout: float) -> SipMessage | None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, source = self.sock.recvfrom(65535)
        except socket.timeout:
            return None
        if not data.strip():  # keep-alive
            return None
        return parse_sip(data, source)

    def _via(self, branch: str) -> str:
        return f"SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bK{branch};rport"

    def _next_cseq(self) -> int:
        self._cseq += 1
        return self._cseq

    def _transaction(self, build, method: str, timeout: float) -> tuple[list[SipMessage], list[SipMessage]]:
        """Sends build() (retransmitting like UDP SIP does) until a final reply; returns
        (replies, requests received meanwhile). `build` returns (text, body)."""
        text, body = build()
        cseq_match = re.search(r"^\s*CSeq:\s*(\d+)", text, flags=re.M)
        cseq = cseq_match.group(1) if cseq_match else None
        replies: list[SipMessage] = []
        requests: list[SipMessage] = []
        self.send(text, body)
        deadline = time.monotonic() + timeout
        interval, next_resend = 0.5, time.monotonic() + 0.5
        provisional = False
        while time.monotonic() < deadline:
            wait = min(deadline, next_resend) - time.monotonic()
            msg = self.receive(wait)
            if msg is None:
                if time.monotonic() >= next_resend and not provisional:
                    self.send(text, body)
                    interval = min(interval * 2, 4.0)
                    next_resend = time.monotonic() + interval
                elif time.monotonic() >= next_resend:
                    next_resend = time.monotonic() + 4.0
                continue
            if not msg.is_response:
                requests.append(msg)
                self._answer_request(msg)
                continue
            if msg.method != method or (cseq and (msg.header("CSeq") or "").split()[0] != cseq):
                continue  # a late reply to an earlier request
            replies.append(msg)
            if msg.status >= 200:
                return replies, requests
            provisional = True
        return replies, requests

    def _answer_request(self, request: SipMessage) -> None:
        """Answers requests the far end sends (BYE, OPTIONS ...) with 200, ACK with nothing."""
        if request.method == "ACK":
            return
        lines = ["SIP/2.0 200 OK"]
        lines += [f"Via: {v}" for v in request.header_values("Via")]
        for name in ("From", "To", "Call-ID", "CSeq"):
            lines.append(f"{name}: {request.header(name, '')}")
        self.send("\n".join(lines), to=request.source)

    # -- requests --------------------------------------------------------------------------

    def options(self, timeout: float = 2.0) -> SipMessage | None:
        call_id, tag, cseq = _token(), _token(), self._next_cseq()
        target = f"sip:{self.proxy.address}"

        def build():
            return (f"""OPTIONS {target} SIP/2.0
                Via: {self._via(_token())}
                Max-Forwards: 70
                From: <sip:{self.user}@{self.proxy.address}>;tag={tag}
                To: <{target}>
                Call-ID: {call_id}@{self.host}
                CSeq: {cseq} OPTIONS
                Contact: <sip:{self.user}@{self.host}:{self.port}>""", b"")
        replies, _ = self._transaction(build, "OPTIONS", timeout)
        finals = [r for r in replies if r.status >= 200]
        return finals[-1] if finals else None

    def register(self, user: str, contact: str | None = None, password: str | None = None,
                 expires: int = 60, timeout: float = 5.0) -> RegisterResult:
        """REGISTERs `contact` (default: this socket) under AOR `user`, answering one digest
        challenge with `password` (default: the proxy's secret). expires=0 unregisters."""
        password = self.proxy.secret if password is None else password
        contact = contact or f"sip:{user}@{self.host}:{self.port}"
        call_id, tag = _token(), _token()
        target = f"sip:{self.proxy.address}"
        aor = f"sip:{user}@{self.proxy.address}"
        authorization = ""

        def build():
            cseq = self._next_cseq()
            return (f"""REGISTER {target} SIP/2.0
                Via: {self._via(_token())}
                Max-Forwards: 70
                From: <{aor}>;tag={tag}
                To: <{aor}>
                Call-ID: {call_id}@{self.host}
                CSeq: {cseq} REGISTER
                Contact: <{contact}>
                Expires: {expires}
                {authorization}
                User-Agent: hotline-tests""", b"")
        replies, _ = self._transaction(build, "REGISTER", timeout)
        if not replies or replies[-1].status < 200:
            raise AssertionError(f"no final reply to REGISTER {user} from {self.proxy.address} in {timeout:g} s")
        first = replies[-1]
        if first.status != 401:
            return RegisterResult(None, first)
        params = parse_auth_params(first.header("WWW-Authenticate", ""))
        response = digest_response(user, password, params.get("realm", ""), params.get("nonce", ""),
                                   "REGISTER", target)
        authorization = (f'Authorization: Digest username="{user}", realm="{params.get("realm", "")}", '
                         f'nonce="{params.get("nonce", "")}", uri="{target}", response="{response}", '
                         f'algorithm=MD5')
        replies, _ = self._transaction(build, "REGISTER", timeout)
        if not replies or replies[-1].status < 200:
            raise AssertionError(f"no final reply to the authenticated REGISTER {user} in {timeout:g} s")
        return RegisterResult(first, replies[-1])

    def invite(self, number: str, from_user: str = "13800138000", *, hold: float = 0.0,
               timeout: float = 10.0, rtp_port: int = 40000, extra_headers: Sequence[str] = ()) -> CallResult:
        """Calls `number` through the proxy. A 2xx is ACKed, held `hold` seconds and hung up
        with BYE (its status in `bye_status`); a failure is ACKed as RFC 3261 says."""
        call_id, tag, cseq = _token(), _token(), self._next_cseq()
        branch = _token()
        request_uri = self.proxy.uri(number)
        from_hdr = f"<sip:{from_user}@{self.proxy.address}>;tag={tag}"
        to_hdr = f"<{request_uri}>"
        sdp = (f"v=0\r\no=- {cseq} 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\nt=0 0\r\n"
               f"m=audio {rtp_port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
               f"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n").encode()
        extra = "\n".join(extra_headers)

        def build():
            return (f"""INVITE {request_uri} SIP/2.0
                Via: {self._via(branch)}
                Max-Forwards: 70
                From: {from_hdr}
                To: {to_hdr}
                Call-ID: {call_id}@{self.host}
                CSeq: {cseq} INVITE
                Contact: <sip:{from_user}@{self.host}:{self.port}>
                Content-Type: application/sdp
                {extra}
                User-Agent: hotline-tests""", sdp)
        replies, requests = self._transaction(build, "INVITE", timeout)
        finals = [r for r in replies if r.status >= 200]
        result = CallResult(replies, finals[-1] if finals else None, requests)
        if result.final is None:
            return result
        final = result.final
        to_with_tag = final.header("To", to_hdr)
        if final.status >= 300:
            # ACK for a failure: same branch, same Request-URI, hop by hop to the proxy
            self.send(f"""ACK {request_uri} SIP/2.0
                Via: {self._via(branch)}
                Max-Forwards: 70
                From: {from_hdr}
                To: {to_with_tag}
                Call-ID: {call_id}@{self.host}
                CSeq: {cseq} ACK""")
            return result
        # 2xx: ACK and BYE go to the remote target, through the recorded route
        remote_target = uri_of(final.header("Contact", request_uri))
        route_set = list(reversed([r.strip() for h in final.header_values("Record-Route") for r in h.split(",")]))
        routes = "\n".join(f"Route: {r}" for r in route_set)
        self.send(f"""ACK {remote_target} SIP/2.0
            Via: {self._via(_token())}
            Max-Forwards: 70
            {routes}
            From: {from_hdr}
            To: {to_with_tag}
            Call-ID: {call_id}@{self.host}
            CSeq: {cseq} ACK""")
        if hold:
            end = time.monotonic() + hold
            while time.monotonic() < end:
                msg = self.receive(end - time.monotonic())
                if msg is not None and not msg.is_response:
                    result.requests.append(msg)
                    self._answer_request(msg)
        if any(r.method == "BYE" for r in result.requests):
            return result  # the far end hung up
        bye_cseq = cseq + 1

        def build_bye():
            return (f"""BYE {remote_target} SIP/2.0
                Via: {self._via(_token())}
                Max-Forwards: 70
                {routes}
                From: {from_hdr}
                To: {to_with_tag}
                Call-ID: {call_id}@{self.host}
                CSeq: {bye_cseq} BYE""", b"")
        bye_replies, more = self._transaction(build_bye, "BYE", 5.0)
        result.requests.extend(more)
        result.bye_status = bye_replies[-1].status if bye_replies else None
        return result


# ---------------------------------------------------------------------------------------
# SIPp user agent servers
# ---------------------------------------------------------------------------------------

_SIPP_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!-- hotline tests: a UAS that {what}; it tells the caller which number it was asked
     for (X-Called), the start of the request line (X-Request) and who it is (X-Uas). -->
<scenario name="hotline test UAS">
  <recv request="INVITE">
    <action>
      <ereg regexp="^INVITE sip:([^@;&gt; ]*)" search_in="msg" check_it="false" assign_to="request,called"/>
    </action>
  </recv>
{answer}
</scenario>
"""

_SIPP_ANSWER = """  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      X-Called: [$called]
      X-Request: [$request]
      X-Uas: {name}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""

_SIPP_REJECT = """  <send>
    <![CDATA[

      SIP/2.0 {status} {reason}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      X-Called: [$called]
      X-Request: [$request]
      X-Uas: {name}
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
"""


def _udp_port_bound(host: str, port: int) -> bool:
    want = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    wildcard = f"00000000:{port:04X}"
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(line.split()[1] in (want, wildcard) for line in lines if len(line.split()) > 1)


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SippUas:
    """A SIPp process answering INVITEs on 127.0.0.1:port: `status` 200 answers (180, 200
    with SDP, waits for ACK and BYE), anything else is a final failure reply. Every reply
    carries X-Called (the user part of the Request-URI it got) and X-Uas (its name)."""

    def __init__(self, workdir: Path, port: int | None = None, *, status: int = 200,
                 reason: str | None = None, name: str | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_udp_port()
        self.status = status
        self.reason = reason or {200: "OK", 486: "Busy Here", 480: "Temporarily Unavailable",
                                 503: "Service Unavailable", 500: "Server Internal Error"}.get(status, "Failed")
        self.name = name or f"uas{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / f"{self.name}.log"
        self.messages_path = self.workdir / f"{self.name}.messages.log"

    @property
    def contact(self) -> str:
        return f"sip:{self.name}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "SippUas":
        sipp = shutil.which("sipp")
        if not sipp:
            raise ServiceUnavailable("sipp is not installed (Debian package sip-tester)")
        if self.status == 200:
            body = _SIPP_ANSWER.replace("{name}", self.name)
            what = "answers"
        else:
            body = (_SIPP_REJECT.replace("{status}", str(self.status)).replace("{reason}", self.reason)
                    .replace("{name}", self.name))
            what = f"refuses with {self.status}"
        scenario = self.workdir / f"{self.name}.xml"
        scenario.write_text(_SIPP_UAS.replace("{what}", what).replace("{answer}", body))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sipp, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(self.port), "-mp", str(sipp_media_port()),
                 "-nostdin", "-trace_msg", "-message_file", str(self.messages_path),
                 "-trace_err", "-error_file", str(self.workdir / f"{self.name}.errors.log")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while not _udp_port_bound("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise ServiceUnavailable(f"SIPp UAS {self.name} exited at start (exit {self.process.returncode}):\n"
                                         f"{self.log_path.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceUnavailable(f"SIPp UAS {self.name} did not bind 127.0.0.1:{self.port} in {timeout:g} s")
            time.sleep(0.05)
        return self

    def received(self) -> str:
        """Everything SIPp logged as sent and received so far."""
        try:
            return self.messages_path.read_text(errors="replace")
        except OSError:
            return ""

    def invites(self) -> list[str]:
        """The Request-URIs of the INVITEs it received so far (retransmissions included)."""
        return re.findall(r"^INVITE (\S+) SIP/2\.0", self.received(), flags=re.M)

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)


# ---------------------------------------------------------------------------------------
# baresip agents
# ---------------------------------------------------------------------------------------

class BaresipError(RuntimeError):
    pass


class _CtrlConnection:
    """baresip's ctrl_tcp: JSON objects in netstrings ("<len>:<json>,") both ways.
    Responses carry our token; events ({"event": true, "type": ...}) arrive any time."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(0.2)
        self.events: list[dict] = []
        self._responses: "queue.Queue[dict]" = queue.Queue()
        self._cond = threading.Condition()
        self._closed = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._read, name=f"baresip-ctrl-{port}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buf = b""
        try:
            while not self._closed:
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError as exc:
                    if not self._closed:
                        self.error = f"control connection failed: {exc}"
                    return
                if not chunk:
                    self.error = "baresip closed its control connection"
                    return
                buf += chunk
                while True:
                    colon = buf.find(b":")
                    if colon < 0 or not buf[:colon].isdigit():
                        break
                    size = int(buf[:colon])
                    if len(buf) < colon + 1 + size + 1:
                        break
                    payload, buf = buf[colon + 1:colon + 1 + size], buf[colon + 2 + size:]
                    try:
                        message = json.loads(payload)
                    except ValueError:
                        continue
                    if message.get("event"):
                        with self._cond:
                            self.events.append(message)
                            self._cond.notify_all()
                    elif message.get("response"):
                        self._responses.put(message)
        except Exception as exc:  # never let the thread die with an unhandled exception
            self.error = f"control reader crashed: {exc!r}"
        finally:
            with self._cond:
                self._cond.notify_all()

    def command(self, command: str, params: str = "", timeout: float = 5.0) -> dict:
        token = _token()
        data = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data + b",")
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BaresipError(f"no answer to '{command} {params}' within {timeout:g} s"
                                   + (f" ({self.error})" if self.error else ""))
            try:
                response = self._responses.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if response.get("token") == token:
                return response

    def wait_event(self, types: str | Iterable[str], timeout: float, start: int = 0) -> tuple[int, dict] | None:
        wanted = {types} if isinstance(types, str) else set(types)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index in range(start, len(self.events)):
                    if self.events[index].get("type") in wanted:
                        return index, self.events[index]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def close(self) -> None:
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(timeout=2)
        self.sock.close()


@dataclass
class Recording:
    """One call's audio as baresip's sndfile module wrote it (8 kHz 16-bit mono WAV)."""

    heard: Path  # dump-<time>-dec.wav: what arrived from the network (the far end)
    sent: Path   # dump-<time>-enc.wav: what this agent sent (its "microphone")


class BaresipAgent:
    """A baresip process registered at the proxy as one extension: auto-answer, its
    microphone a WAV file (aufile), everything it hears and sends recorded to WAV files
    (sndfile, in `recordings_dir`), controlled over ctrl_tcp on 127.0.0.1.

    Recordings: baresip 1.0's sndfile module writes two files per call into `snd_path`
    (here `recordings_dir`): dump-YYYY-MM-DD-HH-MM-SS-dec.wav (decoded from the network:
    what the agent hears) and ...-enc.wav (what it sends), named after the local time the
    call's audio started (two calls of one agent in the same second share a name). They
    are completed when the call ends; `recordings()` reads them in start order.
    """

    def __init__(self, proxy: SipProxy, extension: str, directory: Path, source: Path, *,
                 password: str | None = None, answermode: str = "auto"):
        self.proxy = proxy
        self.extension = extension
        self.directory = Path(directory)
        self.recordings_dir = self.directory / "recordings"
        self.source = Path(source)
        self.password = proxy.secret if password is None else password
        self.answermode = answermode
        self.sip_port = 0
        self.ctrl_port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = self.directory / "baresip.log"
        self._ctrl: _CtrlConnection | None = None

    # -- life cycle ---------------------------------------------------------------------

    def _write_config(self) -> None:
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        config = f"""# written by tests/telephony/sip_services.py
poll_method		epoll
sip_listen		127.0.0.1:{self.sip_port}
net_interface		127.0.0.1
call_local_timeout	60
call_max_calls		4
audio_source		aufile,{self.source}
audio_player		none,none
audio_alert		none,none
ausrc_srate		{RATE}
auplay_srate		{RATE}
ausrc_channels		1
auplay_channels		1
audio_level		no
rtp_stats		no
module_path		{BARESIP_MODULES}
module			g711.so
module			aufile.so
module			sndfile.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:{self.ctrl_port}
snd_path		{self.recordings_dir}
statmode_default	off
"""
        (self.directory / "config").write_text(config)
        account = (f"<sip:{self.extension}@{self.proxy.address}>;auth_pass={self.password};"
                   f"answermode={self.answermode};audio_codecs=PCMU/8000/1,PCMA/8000/1;"
                   f"regint=60;mwi=no;pubint=0;ptime=20\n")
        (self.directory / "accounts").write_text(account)
        (self.directory / "contacts").write_text("")

    def start(self, register_timeout: float = 10.0) -> "BaresipAgent":
        baresip = shutil.which("baresip")
        if not baresip:
            raise ServiceUnavailable("baresip is not installed (Debian package baresip-core)")
        missing = [m for m in ("g711", "aufile", "sndfile", "ctrl_tcp", "menu", "account")
                   if not (BARESIP_MODULES / f"{m}.so").exists()]
        if missing:
            raise ServiceUnavailable(f"baresip modules missing in {BARESIP_MODULES}: {', '.join(missing)} "
                                     f"(Debian package baresip-core)")
        self.directory.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(4):
            # baresip binds UDP+TCP on the SIP port and TLS on the next one
            self.sip_port = _free_sip_port()
            self.ctrl_port = free_tcp_port()
            self._write_config()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [baresip, "-f", str(self.directory)], stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, cwd=self.directory, start_new_session=True)
            try:
                self._ctrl = self._connect_ctrl()
            except BaresipError as exc:
                last_error = str(exc)
                self._kill()
                if "Address already in use" in self.log_text():
                    continue  # a port was taken in the meantime: try others
                raise BaresipError(f"baresip agent {self.extension} did not start: {last_error}\n"
                                   f"its log ({self.log_path}):\n{self.log_text()[-3000:]}") from None
            break
        else:
            raise BaresipError(f"baresip agent {self.extension} could not bind free ports: {last_error}")
        self.wait_registered(register_timeout)
        return self

    def _connect_ctrl(self, timeout: float = 10.0) -> _CtrlConnection:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise BaresipError(f"baresip exited (exit {self.process.returncode})")
            try:
                return _CtrlConnection(self.ctrl_port)
            except OSError:
                if time.monotonic() > deadline:
                    raise BaresipError(f"no control socket on 127.0.0.1:{self.ctrl_port} after {timeout:g} s") from None
                time.sleep(0.05)

    def registered_contacts(self) -> list[str]:
        return [c for c in self.proxy.contacts(self.extension) if f"127.0.0.1:{self.sip_port}" in c]

    def wait_registered(self, timeout: float = 10.0) -> None:
        """Waits until the proxy's location table holds this agent's contact."""
        deadline = time.monotonic() + timeout
        while not self.registered_contacts():
            if self.process is None or self.process.poll() is not None:
                raise BaresipError(f"baresip agent {self.extension} exited before registering; its log:\n"
                                   f"{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise BaresipError(
                    f"baresip agent {self.extension} (SIP 127.0.0.1:{self.sip_port}) did not register at "
                    f"{self.proxy.address} within {timeout:g} s.\nits log ({self.log_path}):\n"
                    f"{self.log_text()[-2000:]}\nlast lines of kamailio's log ({self.proxy.log_path}):\n"
                    f"{self.proxy.log_tail(10)}")
            time.sleep(0.05)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _kill(self) -> None:
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.wait(timeout=5)

    def stop(self, timeout: float = 5.0) -> None:
        """Quits baresip (it unregisters on the way out); kills it if it lingers, and
        removes its registration from the proxy either way."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            if self._ctrl is not None and self._ctrl.error is None:
                try:
                    self._ctrl.command("quit", timeout=1.0)
                except (BaresipError, OSError):
                    pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
        self._kill()
        try:
            for contact in self.proxy.contacts(self.extension):
                if f"127.0.0.1:{self.sip_port}" in contact:
                    self.proxy.kamcmd("ul.rm_contact", "location", f"s:{self.extension}", f"s:{contact}")
        except ServiceUnavailable:
            pass

    # -- control ------------------------------------------------------------------------

    @property
    def events(self) -> list[dict]:
        return self._ctrl.events if self._ctrl else []

    def command(self, command: str, params: str = "", timeout: float = 5.0) -> str:
        """Runs a baresip command (as on its console) and returns its text output."""
        if self._ctrl is None:
            raise BaresipError(f"baresip agent {self.extension} is not running")
        response = self._ctrl.command(command, params, timeout)
        if not response.get("ok"):
            raise BaresipError(f"baresip agent {self.extension}: '{command} {params}' failed: {response.get('data')}")
        return response.get("data", "")

    def dial(self, number: str) -> int:
        """Calls a number or extension (or a full sip: URI) through the proxy; returns the
        index of the next event, for wait_event(..., start=...)."""
        start = len(self.events)
        target = number if number.startswith("sip:") else self.proxy.uri(number)
        self.command("dial", target)
        return start

    def hangup(self) -> None:
        self.command("hangup")

    def list_calls(self) -> str:
        return self.command("listcalls")

    def wait_event(self, types: str | Iterable[str], timeout: float = 10.0, start: int = 0) -> dict:
        """The first event of one of `types` (CALL_INCOMING, CALL_RINGING, CALL_ESTABLISHED,
        CALL_CLOSED, REGISTER_OK ...) at index >= start; raises if none comes in time."""
        found = self._ctrl.wait_event(types, timeout, start) if self._ctrl else None
        if found is None:
            seen = [e.get("type") for e in self.events[start:]]
            raise BaresipError(f"baresip agent {self.extension}: no {types} event within {timeout:g} s "
                               f"(events seen: {seen}); its log:\n{self.log_text()[-2000:]}")
        return found[1]

    def wait_established(self, timeout: float = 10.0, start: int = 0) -> dict:
        event = self.wait_event(("CALL_ESTABLISHED", "CALL_CLOSED"), timeout, start)
        if event.get("type") != "CALL_ESTABLISHED":
            raise BaresipError(f"baresip agent {self.extension}: call closed before it was established: "
                               f"{event.get('param')}")
        return event

    def wait_closed(self, timeout: float = 10.0, start: int = 0) -> dict:
        return self.wait_event("CALL_CLOSED", timeout, start)

    def recordings(self) -> list[Recording]:
        """Every call's recording so far, oldest first."""
        result = []
        for heard in sorted(self.recordings_dir.glob("dump-*-dec.wav")):
            sent = heard.with_name(heard.name[: -len("-dec.wav")] + "-enc.wav")
            result.append(Recording(heard=heard, sent=sent))
        return result

    def last_recording(self) -> Recording:
        recordings = self.recordings()
        if not recordings:
            raise AssertionError(f"baresip agent {self.extension} recorded nothing in {self.recordings_dir}")
        return recordings[-1]


def _free_sip_port(host: str = "127.0.0.1") -> int:
    """A port P with UDP P, TCP P and TCP P+1 free (baresip binds all three)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        socks = []
        try:
            for kind, p in ((socket.SOCK_DGRAM, port), (socket.SOCK_STREAM, port), (socket.SOCK_STREAM, port + 1)):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind((host, p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise BaresipError("no free port pair for baresip's SIP transports")


# ---------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------

def write_tone_wav(path: Path | str, frequency: float, seconds: float, *, rate: int = RATE,
                   amplitude: float = 0.5) -> Path:
    """A sine tone as an 8 kHz (by default) 16-bit mono WAV; frequency 0 writes silence."""
    path = Path(path)
    n = int(round(seconds * rate))
    peak = int(32767 * amplitude)
    samples = array.array("h", (int(peak * math.sin(2 * math.pi * frequency * i / rate)) for i in range(n)))
    return write_wav(path, samples, rate)


def write_wav(path: Path | str, samples: Sequence[int], rate: int = RATE) -> Path:
    path = Path(path)
    data = samples if isinstance(samples, array.array) else array.array("h", samples)
    if data.itemsize != 2:
        data = array.array("h", data)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(_little_endian(data).tobytes())
    return path


def _little_endian(data: array.array) -> array.array:
    import sys
    if sys.byteorder == "big":
        data = array.array("h", data)
        data.byteswap()
    return data


def read_wav(path: Path | str) -> tuple[int, array.array]:
    """(sample rate, 16-bit samples of the first channel) of a PCM WAV file. Tolerates the
    placeholder sizes of a file still being written (reads whatever data is there)."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path} is not a WAV file")
    pos, rate, channels, bits, data = 12, RATE, 1, 16, None
    while pos + 8 <= len(raw):
        chunk, size = raw[pos:pos + 4], int.from_bytes(raw[pos + 4:pos + 8], "little")
        body = raw[pos + 8:pos + 8 + size] if chunk != b"data" else None
        if chunk == b"fmt ":
            fmt = int.from_bytes(body[0:2], "little")
            channels = int.from_bytes(body[2:4], "little")
            rate = int.from_bytes(body[4:8], "little")
            bits = int.from_bytes(body[14:16], "little")
            if fmt not in (1, 0xFFFE) or bits != 16:
                raise ValueError(f"{path}: only 16-bit PCM WAV is supported (format {fmt}, {bits} bits)")
        elif chunk == b"data":
            end = pos + 8 + size
            if size == 0 or end > len(raw):
                end = len(raw)
            data = raw[pos + 8:end]
            break
        pos += 8 + size + (size & 1)
    if data is None:
        raise ValueError(f"{path} has no data chunk")
    samples = array.array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    samples = _little_endian(samples)
    if channels > 1:
        samples = samples[::channels]
    return rate, samples


def prepare_source(source: Path | str, destination: Path, min_seconds: float) -> Path:
    """A copy of `source` as 8 kHz 16-bit mono WAV, repeated to last at least
    `min_seconds` (baresip's aufile plays a file once)."""
    source = Path(source)
    try:
        rate, samples = read_wav(source)
    except ValueError:
        rate, samples = 0, array.array("h")
    if rate != RATE:
        sox = shutil.which("sox")
        if not sox:
            raise ServiceUnavailable(f"{source} is not 8 kHz 16-bit PCM and sox (Debian package sox) "
                                     f"is not installed to convert it")
        converted = destination.with_suffix(".converted.wav")
        subprocess.run([sox, str(source), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(converted)], check=True, capture_output=True, timeout=60)
        rate, samples = read_wav(converted)
    if not samples:
        raise ValueError(f"{source} has no audio")
    needed = int(min_seconds * RATE)
    looped = array.array("h", samples)
    while len(looped) < needed:
        looped.extend(samples)
    return write_wav(destination, looped, RATE)


def _as_samples(audio, start: float | None, end: float | None, rate: int | None) -> tuple[int, array.array]:
    if isinstance(audio, (str, Path)):
        rate, samples = read_wav(audio)
    elif isinstance(audio, (bytes, bytearray, memoryview)):
        samples = array.array("h")
        raw = bytes(audio)
        samples.frombytes(raw[: len(raw) - len(raw) % 2])
        samples = _little_endian(samples)
    else:
        samples = audio
    rate = rate or RATE
    first = int((start or 0.0) * rate)
    last = len(samples) if end is None else min(len(samples), int(end * rate))
    return rate, samples[first:last]


def goertzel_power(audio, frequency: float, start: float | None = None, end: float | None = None,
                   rate: int | None = None) -> float:
    """The power of one frequency in (a stretch of) audio, relative to full scale: a sine
    of amplitude A (as a fraction of full scale) gives about A**2; silence ~0.

    `audio`: a WAV path, 16-bit little-endian PCM bytes, or a sequence of samples."""
    rate, samples = _as_samples(audio, start, end, rate)
    n = len(samples)
    if n == 0:
        return 0.0
    k = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x / 32768.0 + k * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    return 4 * power / (n * n)


def rms(audio, start: float | None = None, end: float | None = None, rate: int | None = None) -> float:
    """Root mean square level relative to full scale (0..1)."""
    _, samples = _as_samples(audio, start, end, rate)
    if not samples:
        return 0.0
    return math.sqrt(sum((x / 32768.0) ** 2 for x in samples) / len(samples))


def _fft(values: list[complex]) -> list[complex]:
    n = len(values)
    out = list(values)
    j = 0
    for i in range(1, n):  # bit-reversal permutation
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            out[i], out[j] = out[j], out[i]
    size = 2
    while size <= n:
        step = cmath.exp(-2j * math.pi / size)
        half = size // 2
        for begin in range(0, n, size):
            w = 1 + 0j
            for k in range(begin, begin + half):
                t = w * out[k + half]
                out[k + half] = out[k] - t
                out[k] = out[k] + t
                w *= step
        size *= 2
    return out


def dominant_frequency(audio, start: float | None = None, end: float | None = None,
                       rate: int | None = None, min_frequency: float = 50.0) -> float:
    """The strongest frequency (Hz) in (a stretch of) audio: a WAV path, 16-bit PCM bytes
    or samples. Uses up to 8192 samples from the middle of the stretch; 0.0 for silence."""
    rate, samples = _as_samples(audio, start, end, rate)
    if len(samples) < 256:
        return 0.0
    n = 1 << min(13, len(samples).bit_length() - 1)
    offset = (len(samples) - n) // 2
    window = [samples[offset + i] / 32768.0 * (0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1))) for i in range(n)]
    if max(abs(x) for x in window) < 1e-4:
        return 0.0
    spectrum = [abs(c) for c in _fft([complex(x) for x in window])[: n // 2]]
    lowest = max(1, int(min_frequency * n / rate))
    peak = max(range(lowest, n // 2 - 1), key=spectrum.__getitem__)
    # parabolic interpolation between the neighbouring bins
    a, b, c = spectrum[peak - 1], spectrum[peak], spectrum[peak + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) else 0.0
    return (peak + shift) * rate / n
