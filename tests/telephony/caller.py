"""A citizen on the phone: SIPp places the call, this test's RTP peer is its ear and mouth.

SIPp (scenarios/citizen_call.xml) does the signalling through the proxy; the SDP it sends
names a UDP port of ours, so the audio the worker plays comes here (decoded, with arrival
times) and our "voice" (a tone) and RFC 2833 digits go from here to the worker's media
port, which SIPp logs from the 200 OK.
"""
from __future__ import annotations

import audioop
import math
import random
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from tests.telephony.ports import sipp_media_port
from tests.telephony.sip_services import SipProxy, free_udp_port

SCENARIOS = Path(__file__).parent / "scenarios"
RATE = 8000
FRAME = 160
DTMF_EVENTS = {d: i for i, d in enumerate("0123456789*#")}


def sipp_program() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise AssertionError("sipp is not installed (Debian package sip-tester); scripts/test installs it")
    return path


class Citizen:
    """One call from `caller` to `service`; hangs up after `talk_seconds` unless hung up on."""

    def __init__(self, proxy: SipProxy, workdir: Path, *, caller: str = "13812345678",
                 service: str | None = None, talk_seconds: float = 60.0, voice_hz: float = 440.0):
        self.proxy, self.workdir = proxy, Path(workdir)
        self.caller, self.service = caller, service or proxy.service_number
        self.talk_seconds, self.voice_hz = talk_seconds, voice_hz
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.02)
        self.rtp_port = self.sock.getsockname()[1]
        self.remote: tuple[str, int] | None = None
        self.call_id: str | None = None
        #: What the citizen heard: (arrival time, 16-bit PCM of one packet)
        self.heard: list[tuple[float, bytes]] = []
        self.started = time.monotonic()
        self._digits: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._process: subprocess.Popen | None = None
        self._threads: list[threading.Thread] = []

    # -- life

    def dial(self) -> "Citizen":
        """Call the service number through the proxy."""
        return self._sipp("citizen_call.xml", [self.proxy.address], free_udp_port())

    def answer_at_trunk(self) -> "Citizen":
        """Be the phone the trunk rings (the hotline calls the citizen): SIPp listens on the
        proxy's trunk address and answers the first call."""
        return self._sipp("citizen_answer.xml", [], self.proxy.trunk_port)

    def _sipp(self, name: str, target: list[str], sip_port: int) -> "Citizen":
        self.workdir.mkdir(parents=True, exist_ok=True)
        scenario = self.workdir / name
        scenario.write_text((SCENARIOS / name).read_text().replace("@RTP_PORT@", str(self.rtp_port))
                            .replace("@TALK_MS@", str(int(self.talk_seconds * 1000)))
                            .replace("@CALLER@", self.caller).replace("@SERVICE@", self.service))
        self.log_path = self.workdir / "citizen.log"
        self.error_path = self.workdir / "citizen.errors"
        self.message_path = self.workdir / "citizen.messages"
        self._process = subprocess.Popen(
            [sipp_program(), *target, "-sf", str(scenario), "-m", "1",
             "-i", "127.0.0.1", "-p", str(sip_port), "-mp", str(sipp_media_port()),
             "-trace_logs", "-log_file", str(self.log_path), "-trace_err", "-error_file", str(self.error_path),
             "-trace_msg", "-message_file", str(self.message_path), "-nostdin",
             "-timeout", str(int(self.talk_seconds + 120)), "-timeout_error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir)
        self.started = time.monotonic()
        for target in (self._receive, self._send):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait_connected(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            match = re.search(r"MEDIA (\d+) (\S+)", text)
            if match:
                self.remote = ("127.0.0.1", int(match.group(1)))
                self.call_id = match.group(2)
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"the citizen's call was not answered within {timeout:g} s\n{self.diagnostics()}")

    def wait_ended(self, timeout: float) -> int:
        """SIPp's exit code (0: the call went as scripted)."""
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the citizen's call did not end within {timeout:g} s\n{self.diagnostics()}") from None
        self._stop.set()
        return code

    def close(self) -> None:
        self._stop.set()
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(5)
        for thread in self._threads:
            thread.join(2)
        self.sock.close()

    def diagnostics(self) -> str:
        parts = []
        for path in (getattr(self, "error_path", None), getattr(self, "message_path", None)):
            if path and path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts) or "(SIPp wrote no logs)"

    # -- the mouth

    def press(self, digits: str) -> None:
        """Key digits (RFC 2833), one after another."""
        with self._lock:
            self._digits.extend(digits)

    def _send(self) -> None:
        seq, stamp, ssrc = random.randint(0, 30000), random.randint(0, 1 << 30), random.getrandbits(32)
        phase = 0
        step = 2 * math.pi * self.voice_hz / RATE
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.monotonic()))
            if self.remote is None:
                continue
            with self._lock:
                digit = self._digits.pop(0) if self._digits else None
            if digit is not None:
                seq = self._send_digit(digit, seq, stamp, ssrc)
                stamp += FRAME * 12
                next_at = time.monotonic()
                continue
            samples = [int(6000 * math.sin(step * (phase + i))) for i in range(FRAME)]
            phase += FRAME
            payload = audioop.lin2ulaw(struct.pack(f"<{FRAME}h", *samples), 2)
            self._packet(0, seq, stamp, ssrc, payload)
            seq, stamp = (seq + 1) & 0xFFFF, (stamp + FRAME) & 0xFFFFFFFF

    def _send_digit(self, digit: str, seq: int, stamp: int, ssrc: int) -> int:
        event = DTMF_EVENTS[digit]
        for n in range(1, 9):  # 160 ms of key press, then three end packets
            end = n >= 6
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, FRAME * min(n, 6))
            self._packet(101, seq, stamp, ssrc, payload, marker=(n == 1))
            seq = (seq + 1) & 0xFFFF
            time.sleep(0.02)
        time.sleep(0.08)  # a gap before the next key
        return seq

    def _packet(self, pt: int, seq: int, stamp: int, ssrc: int, payload: bytes, marker: bool = False) -> None:
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq, stamp & 0xFFFFFFFF, ssrc)
        try:
            self.sock.sendto(header + payload, self.remote)
        except OSError:
            pass

    # -- the ear

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(2048)
            except (socket.timeout, OSError):
                continue
            if len(data) < 12:
                continue
            pt = data[1] & 0x7F
            payload = data[12:]
            if pt == 0:
                pcm = audioop.ulaw2lin(payload, 2)
            elif pt == 8:
                pcm = audioop.alaw2lin(payload, 2)
            else:
                continue
            self.heard.append((time.monotonic() - self.started, pcm))

    def audio(self, start: float = 0.0, end: float | None = None) -> bytes:
        """What the citizen heard between two moments (seconds since dialling)."""
        return b"".join(pcm for at, pcm in list(self.heard) if at >= start and (end is None or at < end))

    def wait_for_tone(self, frequency: float, timeout: float, *, after: float | None = None,
                      threshold: float = 0.01) -> float:
        """Seconds (since dialling) when a tone of `frequency` is first heard after `after`."""
        from tests.telephony.sip_services import goertzel_power
        deadline = time.monotonic() + timeout
        start = self.heard_seconds() if after is None else after
        while time.monotonic() < deadline:
            now = self.heard_seconds()
            window_start = max(start, now - 0.3)
            if now - window_start >= 0.2:
                chunk = self.audio(window_start, now)
                if chunk and goertzel_power(chunk, frequency, rate=RATE) > threshold:
                    return now
            time.sleep(0.05)
        raise AssertionError(f"the citizen did not hear {frequency:g} Hz within {timeout:g} s "
                             f"(heard {self.heard_seconds():.1f} s of audio)")

    def heard_seconds(self) -> float:
        return time.monotonic() - self.started
