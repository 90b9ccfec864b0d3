"""Run SIPp scenarios from Python, and talk RTP to the phone under test.

    with RtpSink() as sink:
        run = Sipp("inbound_call.xml", tmp_path, variables={"rtp_port": sink.port, ...}).start()
        ...
        result = run.wait()
        assert result.returncode == 0, result.describe()

Scenarios are XML strings or file names under tests/telephony/pyvoip/scenarios/.  SIPp
runs on 127.0.0.1 with its own free port, logs every message it sends and receives
(``result.messages``) and its errors (``result.errors``).  ``-set name value`` variables
are declared in the scenarios with ``<Global variables="..."/>``.  An :class:`RtpSink`
is a UDP socket whose port goes into a scenario's SDP: it records the RTP packets it
receives (with arrival times) and can send G.711 audio and RFC 2833 digits back.

If SIPp is missing the test fails naming the program and its Debian package.
"""
from __future__ import annotations

import math
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.telephony.ports import udp_block

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import audioop

SCENARIOS = Path(__file__).parent / "pyvoip" / "scenarios"
LOCALHOST = "127.0.0.1"
SAMPLE_RATE = 8000
EVENT_CODES = {digit: code for code, digit in enumerate("0123456789*#ABCD")}


def require_program(program: str, package: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"`{program}` is not installed: install the Debian package {package} "
                    f"(apt-get install {package})", pytrace=False)
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def free_udp_range(count: int) -> tuple[int, int]:
    """``count`` consecutive free UDP ports (the first even), as (low, high), outside the ephemeral range."""
    low = udp_block(count)
    return low, low + count - 1


# ------------------------------------------------------------------------------ audio
def tone(hz: float, seconds: float, amplitude: int = 8000) -> bytes:
    count = int(SAMPLE_RATE * seconds)
    return struct.pack(f"<{count}h", *(int(amplitude * math.sin(2 * math.pi * hz * i / SAMPLE_RATE))
                                       for i in range(count)))


def samples(pcm: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(pcm) // 2}h", pcm))


def tone_share(pcm: bytes, hz: float) -> float:
    """Share of the signal's power at ``hz`` (Goertzel); 1.0 for a pure tone."""
    values = samples(pcm)
    if not values:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * hz / SAMPLE_RATE)
    previous = before = 0.0
    for value in values:
        previous, before = value + coefficient * previous - before, previous
    power = previous * previous + before * before - coefficient * previous * before
    total = sum(v * v for v in values) * len(values) / 2
    return power / total if total else 0.0


def rms(pcm: bytes) -> float:
    return float(audioop.rms(pcm, 2)) if pcm else 0.0


def voiced(pcm: bytes) -> bytes:
    """The 20 ms frames of ``pcm`` that are not silent (a loaded machine leaves gaps)."""
    return b"".join(frame for frame in (pcm[i:i + 320] for i in range(0, len(pcm), 320)) if rms(frame) > 100)


DECODE = {0: lambda payload: audioop.ulaw2lin(payload, 2), 8: lambda payload: audioop.alaw2lin(payload, 2)}
ENCODE = {0: lambda pcm: audioop.lin2ulaw(pcm, 2), 8: lambda pcm: audioop.lin2alaw(pcm, 2)}


# ------------------------------------------------------------------------------ RTP
@dataclass(frozen=True)
class RtpPacket:
    arrived: float
    source: tuple[str, int]
    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


class RtpSink:
    """A UDP socket on 127.0.0.1 recording the RTP it receives; it can also send RTP."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOCALHOST, 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.packets: list[RtpPacket] = []
        self._closing = False
        self._thread = threading.Thread(target=self._receive, name=f"rtp-sink-{self.port}", daemon=True)
        self._thread.start()
        self.ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)

    def __enter__(self) -> "RtpSink":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing = True
        self._thread.join()
        self._sock.close()

    def _receive(self) -> None:
        while not self._closing:
            try:
                data, source = self._sock.recvfrom(2048)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if len(data) >= 12:
                _, second, seq, timestamp, ssrc = struct.unpack_from("!BBHII", data)
                self.packets.append(RtpPacket(time.monotonic(), source, second & 0x7F, bool(second & 0x80), seq,
                                              timestamp, ssrc, data[12:]))

    # -- what arrived ----------------------------------------------------------------
    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.packets) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.packets) >= count

    def between(self, start: float, end: float) -> list[RtpPacket]:
        return [p for p in self.packets if start <= p.arrived < end]

    def audio(self, packets: list[RtpPacket] | None = None, *, decode_as: int | None = None) -> bytes:
        """Received audio as 16-bit PCM, each packet decoded by its payload type or ``decode_as``."""
        chosen = self.packets if packets is None else packets
        return b"".join(DECODE[decode_as if decode_as is not None else p.payload_type](p.payload)
                        for p in chosen if p.payload_type in DECODE)

    @property
    def peer(self) -> tuple[str, int]:
        """Where the phone's RTP comes from (its stream's socket)."""
        if not self.packets:
            raise AssertionError(f"the RTP sink on port {self.port} has received nothing")
        return self.packets[-1].source

    # -- sending ---------------------------------------------------------------------
    def _send(self, destination: tuple[str, int], payload_type: int, payload: bytes, *, marker: bool = False,
              timestamp: int | None = None) -> None:
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type, self._seq,
                             self._timestamp if timestamp is None else timestamp, self.ssrc)
        self._sock.sendto(header + payload, destination)
        self._seq = (self._seq + 1) & 0xFFFF

    def send_audio(self, pcm: bytes, payload_type: int, destination: tuple[str, int] | None = None) -> None:
        """Send ``pcm`` (s16le, 8 kHz) as G.711 in 20 ms packets, paced in real time."""
        target = destination or self.peer
        start = time.monotonic()
        for index, offset in enumerate(range(0, len(pcm) - 319, 320)):
            delay = start + index * 0.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._send(target, payload_type, ENCODE[payload_type](pcm[offset:offset + 320]), marker=index == 0)
            self._timestamp = (self._timestamp + 160) & 0xFFFFFFFF

    def send_digit(self, digit: str, event_pt: int = 101, destination: tuple[str, int] | None = None,
                   packets: int = 5) -> None:
        """One RFC 2833 key press: ``packets`` updates 20 ms apart, then three end packets."""
        target = destination or self.peer
        code = EVENT_CODES[digit]
        timestamp = self._timestamp
        for index in range(packets):
            self._send(target, event_pt, struct.pack("!BBH", code, 10, 160 * (index + 1)), marker=index == 0,
                       timestamp=timestamp)
            time.sleep(0.02)
        for _ in range(3):
            self._send(target, event_pt, struct.pack("!BBH", code, 0x80 | 10, 160 * packets), timestamp=timestamp)
        self._timestamp = (self._timestamp + 160 * (packets + 1)) & 0xFFFFFFFF
        time.sleep(0.06)


# ------------------------------------------------------------------------------ SIPp
@dataclass(frozen=True)
class SipMessage:
    direction: str  # "sent" or "received" (as SIPp saw it)
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        return self.first_line.split(" ", 1)[0] if self.is_request else self.header("CSeq").split()[1]

    @property
    def status(self) -> int | None:
        return None if self.is_request else int(self.first_line.split()[1])

    @property
    def request_uri(self) -> str:
        return self.first_line.split()[1]

    def headers(self, name: str) -> list[str]:
        pattern = re.compile(rf"^{re.escape(name)}\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)
        return [value.strip() for value in pattern.findall(self.text.split("\n\n", 1)[0])]

    def header(self, name: str) -> str:
        values = self.headers(name)
        if not values:
            raise AssertionError(f"no {name} header in:\n{self.text}")
        return values[0]

    @property
    def body(self) -> str:
        return self.text.split("\n\n", 1)[1] if "\n\n" in self.text else ""

    @property
    def branch(self) -> str:
        match = re.search(r"branch=([^;\s,]+)", self.header("Via"))
        return match.group(1) if match else ""


def parse_message_log(text: str) -> list[SipMessage]:
    messages = []
    for block in re.split(r"^-{20,}.*$", text.replace("\r\n", "\n"), flags=re.MULTILINE):
        block = block.strip("\n")
        if not block:
            continue
        heading, _, message = block.partition("\n")
        direction = "sent" if " sent " in heading else "received"
        message = message.strip("\n")
        if message:
            messages.append(SipMessage(direction, message + "\n"))
    return messages


@dataclass
class SippResult:
    returncode: int
    messages: list[SipMessage]
    errors: str
    log: str
    command: list[str] = field(default_factory=list)

    def find(self, direction: str, *, method: str | None = None, status: int | None = None) -> list[SipMessage]:
        return [m for m in self.messages if m.direction == direction
                and (method is None or m.method == method)
                and (status is None or m.status == status)
                and (status is not None or method is None or m.is_request)]

    def describe(self) -> str:
        flow = "\n".join(f"  {m.direction:8} {m.first_line}" for m in self.messages)
        return (f"SIPp exited with {self.returncode} ({' '.join(self.command)})\n"
                f"messages:\n{flow}\nSIPp errors:\n{self.errors.strip() or '  (none)'}\n"
                f"scenario log:\n{self.log.strip() or '  (none)'}")


def scenario(name: str, **values: object) -> str:
    """The scenario file ``name`` with each ``{{key}}`` replaced by ``values[key]``."""
    text = (SCENARIOS / name).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    missing = re.findall(r"\{\{(\w+)\}\}", text)
    if missing:
        raise ValueError(f"{name} needs values for {', '.join(sorted(set(missing)))}")
    return text


class Sipp:
    """One SIPp process playing a scenario on 127.0.0.1."""

    def __init__(self, scenario: str, directory: Path, *, variables: dict[str, object] | None = None,
                 calls: int = 1, timeout: float = 20.0, remote: str | None = None,
                 options: list[str] | None = None) -> None:
        self.binary = require_program("sipp", "sip-tester")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        if scenario.lstrip().startswith("<"):
            self.scenario = directory / "scenario.xml"
            self.scenario.write_text(scenario)
        else:
            self.scenario = SCENARIOS / scenario
        self.port = free_udp_port()
        self.variables = {key: str(value) for key, value in (variables or {}).items()}
        self.calls = calls
        self.timeout = timeout
        self.remote = remote
        self.options = options or []
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def command(self) -> list[str]:
        files = {name: str(self.directory / f"sipp_{name}.log") for name in ("messages", "errors", "logs")}
        command = [self.binary, *([self.remote] if self.remote else []), "-sf", str(self.scenario),
                   "-i", LOCALHOST, "-p", str(self.port), "-m", str(self.calls),
                   "-timeout", f"{self.timeout:g}s", "-timeout_error", "-nostdin",
                   "-trace_msg", "-message_file", files["messages"],
                   "-trace_err", "-error_file", files["errors"], "-trace_logs", "-log_file", files["logs"]]
        for name, value in self.variables.items():
            command += ["-set", name, value]
        return command + self.options

    def start(self) -> "Sipp":
        for name in ("messages", "errors", "logs"):
            (self.directory / f"sipp_{name}.log").unlink(missing_ok=True)
        self._process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        time.sleep(0.2)  # bound and listening
        return self

    def wait(self, timeout: float | None = None) -> SippResult:
        assert self._process is not None, "SIPp was not started"
        try:
            returncode = self._process.wait(timeout if timeout is not None else self.timeout + 10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            returncode = self._process.wait()
        return self.result(returncode)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def result(self, returncode: int) -> SippResult:
        def read(name: str) -> str:
            path = self.directory / f"sipp_{name}.log"
            return path.read_text(errors="replace") if path.exists() else ""

        return SippResult(returncode, parse_message_log(read("messages")), read("errors"), read("logs"),
                          self.command())


def environment_for_subprocess() -> dict[str, str]:
    """The environment of a phone subprocess: this checkout first on the module path."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env
