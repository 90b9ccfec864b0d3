"""The media engine: one thread per process owns every RTP socket.

Every 20 ms (a tick on a monotonic schedule, so sleeping never accumulates drift) the
engine thread drains the sockets that have data, then, for every stream:

1. takes one 20 ms frame of received audio out of the stream's small jitter buffer,
2. routes it (capture, bridge to the other leg, supervisor mix, two-party recording),
3. sends exactly one RTP packet if the stream is active: bridged audio, else the current
   playback (then the next queued one), else silence, encoded with the stream's
   negotiated codec.

Audio at this level is 8 kHz signed 16-bit little-endian mono PCM; one frame is 160
samples (320 bytes).  G.711 (PCMU, payload type 0; PCMA, payload type 8) is decoded to
16 bits, which is lossless.  RFC 2833 telephone-events become digits, one per key press.
Every per-stream buffer is bounded, so memory stays flat however long a call lasts.
RTCP is neither sent nor read.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import selectors
import socket
import struct
import threading
import time
import warnings
import wave
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import audioop

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
TICK = 0.020
FRAME_SAMPLES = 160
FRAME_BYTES = 2 * FRAME_SAMPLES
SILENCE = bytes(FRAME_BYTES)

PCMU = 0
PCMA = 8
DEFAULT_EVENT_PT = 101
EVENT_KEYS = "0123456789*#ABCD"

#: Jitter buffer: playout starts once two frames are queued; beyond eight the oldest go.
RX_PREFILL = 2 * FRAME_BYTES
RX_LIMIT = 8 * FRAME_BYTES
#: Received packets this far behind the newest sequence number are late duplicates.
SEQ_LATE_WINDOW = 50
#: Digits waiting to be read; a stuck key cannot grow memory past this.
DIGIT_LIMIT = 64
#: A frame whose RMS is below this counts as silence (about -40 dBFS).
SILENCE_RMS = 330
#: Send-gap histogram: 0.1 ms bins up to 100 ms, the last bin holding everything longer.
GAP_BIN_MS = 0.1
GAP_BINS = 1000
#: A tick this late is not caught up packet by packet: the schedule restarts from now.
MAX_LAG = 0.2
#: Scheduling the engine thread asks for (see MediaEngine).
REALTIME_PRIORITY = 10
BOOSTED_NICE = -10

RTP_HEADER = struct.Struct("!BBHII")

Encoder = Callable[[bytes], bytes]


class MediaError(Exception):
    pass


class NoPortAvailable(MediaError):
    pass


def encode_pcmu(pcm: bytes) -> bytes:
    return audioop.lin2ulaw(pcm, 2)


def encode_pcma(pcm: bytes) -> bytes:
    return audioop.lin2alaw(pcm, 2)


def decode_pcmu(payload: bytes) -> bytes:
    return audioop.ulaw2lin(payload, 2)


def decode_pcma(payload: bytes) -> bytes:
    return audioop.alaw2lin(payload, 2)


ENCODERS: dict[int, Encoder] = {PCMU: encode_pcmu, PCMA: encode_pcma}
DECODERS: dict[int, Callable[[bytes], bytes]] = {PCMU: decode_pcmu, PCMA: decode_pcma}


def mix(first: bytes | None, second: bytes | None) -> bytes | None:
    """Sum two frames (saturating); a missing frame is silence."""
    if first is None:
        return second
    if second is None:
        return first
    return audioop.add(first, second, 2)


class MonitorMode(str, Enum):
    LISTEN = "listen"    # the supervisor hears both parties; nobody hears the supervisor
    WHISPER = "whisper"  # the agent hears the supervisor too
    BARGE = "barge"      # both parties hear the supervisor


@dataclass(frozen=True)
class StreamStats:
    packets_sent: int
    packets_received: int
    send_errors: int
    gap_max_ms: float
    gap_p50_ms: float
    gap_p99_ms: float
    gap_p999_ms: float


@dataclass(frozen=True)
class EngineStats:
    streams: int
    ticks: int
    scheduling: str        # what the engine thread got: "realtime", "nice" or "normal"
    late_ticks: int        # started more than 5 ms after their scheduled time
    schedule_resets: int   # the thread stalled more than MAX_LAG and the schedule restarted
    max_tick_ms: float     # longest time spent working on one tick


@dataclass(frozen=True)
class RecordingInfo:
    path: str
    seconds: float
    sha256: str
    bytes: int


class GapHistogram:
    """Fixed-size histogram of the gaps between consecutive sent packets."""

    def __init__(self) -> None:
        self._bins = array("I", bytes(4 * GAP_BINS))
        self.count = 0
        self.max_ms = 0.0

    def add(self, gap_ms: float) -> None:
        index = int(gap_ms / GAP_BIN_MS)
        self._bins[index if index < GAP_BINS else GAP_BINS - 1] += 1
        self.count += 1
        if gap_ms > self.max_ms:
            self.max_ms = gap_ms

    def percentile(self, fraction: float) -> float:
        """Upper edge of the bin holding the given fraction of gaps (0.0 when empty)."""
        if not self.count:
            return 0.0
        wanted = fraction * self.count
        seen = 0
        for index, count in enumerate(self._bins):
            seen += count
            if seen >= wanted:
                return min((index + 1) * GAP_BIN_MS, self.max_ms)
        return self.max_ms


class Playback:
    """One prompt being played on a stream, frame by frame on the engine thread."""

    def __init__(self, pcm: bytes, *, loop: bool, interrupt_on_digit: bool) -> None:
        if len(pcm) % 2:
            raise ValueError("PCM must be 16-bit samples (an even number of bytes)")
        remainder = len(pcm) % FRAME_BYTES
        self._pcm = pcm + bytes(FRAME_BYTES - remainder) if remainder else pcm
        self._position = 0
        self.loop = loop
        self.interrupt_on_digit = interrupt_on_digit
        #: Set when a key press stopped it before its end.
        self.interrupted = False
        self.done = threading.Event()
        if not self._pcm:
            self.done.set()

    def stop(self) -> None:
        self.done.set()

    def next_frame(self) -> bytes | None:
        if self.done.is_set():
            return None
        start = self._position
        frame = self._pcm[start:start + FRAME_BYTES]
        self._position = start + FRAME_BYTES
        if self._position >= len(self._pcm):
            if self.loop:
                self._position = 0
            else:
                self.done.set()
        return frame


class Capture:
    """Received audio of one stream, bounded by ``max_seconds``."""

    def __init__(self, stream: "Stream", max_seconds: float) -> None:
        self._stream = stream
        self._audio = bytearray()
        self._limit = int(max_seconds * SAMPLE_RATE) * 2
        self._silent_bytes = 0
        self.full = threading.Event()

    def silence_seconds(self) -> float:
        """How long the received audio has been silent, up to now."""
        return self._silent_bytes / (2 * SAMPLE_RATE)

    def stop(self) -> bytes:
        self._stream._detach_capture(self)
        return bytes(self._audio)

    def add(self, frame: bytes | None) -> None:
        if self.full.is_set():
            return
        if frame is None or audioop.rms(frame, 2) < SILENCE_RMS:
            self._silent_bytes += FRAME_BYTES
        else:
            self._silent_bytes = 0
        self._audio += frame if frame is not None else SILENCE
        if len(self._audio) >= self._limit:
            del self._audio[self._limit:]
            self.full.set()


class Recorder:
    """Two-party WAV: 8 kHz, 16-bit, stereo; left = caller leg, right = agent leg."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._wav = wave.open(path, "wb")
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._frames = 0
        self.failed = False

    def write(self, left: bytes | None, right: bytes | None) -> None:
        """One frame of both sides; if the disk fails, the call goes on unrecorded."""
        stereo = audioop.add(audioop.tostereo(left or SILENCE, 2, 1, 0),
                             audioop.tostereo(right or SILENCE, 2, 0, 1), 2)
        try:
            self._wav.writeframesraw(stereo)
        except OSError:
            log.exception("recording to %s failed; the rest of the call is not recorded", self.path)
            self.failed = True
            return
        self._frames += FRAME_SAMPLES

    def close(self) -> RecordingInfo | None:
        """Finish the file; None when it could not be written."""
        try:
            self._wav.close()
        except OSError:
            log.exception("could not finish the recording %s", self.path)
            return None
        digest = hashlib.sha256()
        with open(self.path, "rb") as recording:
            for block in iter(lambda: recording.read(1 << 20), b""):
                digest.update(block)
        return RecordingInfo(self.path, self._frames / SAMPLE_RATE, digest.hexdigest(),
                             os.path.getsize(self.path))


class Stream:
    """One RTP session: a bound UDP socket, its sender state and its received audio.

    Created by :meth:`MediaEngine.open_stream`.  It receives at once; it sends once it
    has a remote address and :meth:`start_sending` was called.
    """

    def __init__(self, engine: "MediaEngine", sock: socket.socket) -> None:
        self._engine = engine
        self._sock = sock
        self.local_ip, self.port = sock.getsockname()[:2]
        self.remote: tuple[str, int] | None = None
        self._codec: tuple[int, Encoder] = (PCMU, encode_pcmu)
        self.event_pt = DEFAULT_EVENT_PT
        self.sending = False
        self.closed = threading.Event()
        # sender
        self._ssrc = int.from_bytes(os.urandom(4), "big")
        self._seq = int.from_bytes(os.urandom(2), "big")
        self._timestamp = int.from_bytes(os.urandom(4), "big")
        self._marker = True
        self._last_send: float | None = None
        self._gaps = GapHistogram()
        self.packets_sent = 0
        self.send_errors = 0
        # receiver
        self.packets_received = 0
        self._rx = bytearray()
        self._rx_playing = False
        self._rx_ssrc: int | None = None
        self._rx_seq: int | None = None
        self._event_timestamp: int | None = None
        self._event_ended = False
        self._digits: deque[str] = deque(maxlen=DIGIT_LIMIT)
        self._digit_ready = threading.Condition()
        # routing, set by the application and read by the engine thread
        self._playback: Playback | None = None
        self._queue: deque[Playback] = deque()
        self._playback_lock = threading.Lock()
        self._capture: Capture | None = None
        self.bridge: Bridge | None = None
        self.monitoring: Bridge | None = None
        # per tick, engine thread only
        self.rx_frame: bytes | None = None
        self.bridge_out: bytes | None = None

    # -- configuration ---------------------------------------------------------------
    def set_remote(self, address: tuple[str, int]) -> None:
        self.remote = address

    @property
    def payload_type(self) -> int:
        return self._codec[0]

    def set_codec(self, payload_type: int, encoder: Encoder | None = None) -> None:
        """Send with ``payload_type``; ``encoder`` turns 320 bytes of PCM into its payload."""
        self._codec = (payload_type, encoder or ENCODERS[payload_type])

    def start_sending(self) -> None:
        if self.remote is None:
            raise MediaError("stream has no remote address")
        self.sending = True

    def stop_sending(self) -> None:
        """Hold: nothing is sent; the next packet is marked and starts a new gap count."""
        self.sending = False
        self._marker = True
        self._last_send = None

    def close(self, *, wait: bool = True) -> None:
        """Stop and free the socket (on the engine thread); ``wait``: until it is closed."""
        self.stop_playback()
        self._engine._run(lambda: self._engine._close_stream(self), wait=wait)

    # -- audio out -------------------------------------------------------------------
    def play(self, pcm: bytes, *, loop: bool = False, interrupt_on_digit: bool = False,
             queue: bool = False) -> Playback:
        """Play ``pcm`` (8 kHz s16le mono) at once, stopping what plays or waits; with
        ``queue``, after what plays or waits (gapless)."""
        playback = Playback(pcm, loop=loop, interrupt_on_digit=interrupt_on_digit)
        with self._playback_lock:
            current = self._playback
            if queue and current is not None and not current.done.is_set():
                self._queue.append(playback)
            else:
                self._stop_playbacks()
                self._playback = playback
        if self.closed.is_set():
            playback.stop()
        return playback

    def stop_playback(self) -> None:
        """Stop what plays and everything queued."""
        with self._playback_lock:
            self._stop_playbacks()

    def _stop_playbacks(self) -> None:
        for playback in (self._playback, *self._queue):
            if playback is not None:
                playback.stop()
        self._playback = None
        self._queue.clear()

    # -- audio and digits in ---------------------------------------------------------
    def start_capture(self, max_seconds: float) -> Capture:
        capture = Capture(self, max_seconds)
        self._capture = capture
        return capture

    def _detach_capture(self, capture: Capture) -> None:
        if self._capture is capture:
            self._capture = None

    def read_digit(self, timeout: float | None) -> str | None:
        """The next digit; None after ``timeout``, or at once when the stream has closed."""
        with self._digit_ready:
            self._digit_ready.wait_for(lambda: self._digits or self.closed.is_set(), timeout)
            return self._digits.popleft() if self._digits else None

    def clear_digits(self) -> None:
        with self._digit_ready:
            self._digits.clear()

    def stats(self) -> StreamStats:
        gaps = self._gaps
        return StreamStats(self.packets_sent, self.packets_received, self.send_errors,
                           round(gaps.max_ms, 3), round(gaps.percentile(0.5), 3),
                           round(gaps.percentile(0.99), 3), round(gaps.percentile(0.999), 3))

    # -- engine thread ---------------------------------------------------------------
    def fileno(self) -> int:
        return self._sock.fileno()

    def drain(self) -> None:
        sock = self._sock
        while True:
            try:
                self.receive(sock.recv(2048))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable reported on the socket
                return

    def receive(self, packet: bytes) -> None:
        if len(packet) < 12 or packet[0] >> 6 != 2:
            return
        first = packet[0]
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10:
            if len(packet) < offset + 4:
                return
            offset += 4 + 4 * int.from_bytes(packet[offset + 2:offset + 4], "big")
        end = len(packet) - (packet[-1] if first & 0x20 else 0)
        if end <= offset:
            return
        self.packets_received += 1
        payload_type = packet[1] & 0x7F
        _, _, seq, timestamp, ssrc = RTP_HEADER.unpack_from(packet)
        if payload_type == self.event_pt:
            self._telephone_event(packet[offset:end], timestamp)
            return
        decode = DECODERS.get(payload_type)
        if decode is None or not self._in_sequence(seq, ssrc):
            return
        rx = self._rx
        rx += decode(packet[offset:end])
        if len(rx) > RX_LIMIT:
            del rx[:len(rx) - RX_PREFILL]

    def _in_sequence(self, seq: int, ssrc: int) -> bool:
        if ssrc != self._rx_ssrc:
            self._rx_ssrc = ssrc
        elif self._rx_seq is not None:
            delta = (seq - self._rx_seq) & 0xFFFF
            if delta == 0 or delta >= 0x10000 - SEQ_LATE_WINDOW:
                return False
        self._rx_seq = seq
        return True

    def _telephone_event(self, payload: bytes, timestamp: int) -> None:
        """One digit per key press: a press is one RTP timestamp, closed by the end bit."""
        if len(payload) < 4 or payload[0] >= len(EVENT_KEYS):
            return
        end = bool(payload[1] & 0x80)
        same_press = timestamp == self._event_timestamp
        if same_press and (self._event_ended or not end):
            return
        if same_press:  # the end of a press already reported
            self._event_ended = True
            return
        self._event_timestamp = timestamp
        self._event_ended = end
        self._add_digit(EVENT_KEYS[payload[0]])

    def _add_digit(self, digit: str) -> None:
        with self._digit_ready:
            self._digits.append(digit)
            self._digit_ready.notify_all()
        with self._playback_lock:
            for playback in (self._playback, *self._queue):
                if playback is not None and playback.interrupt_on_digit and not playback.done.is_set():
                    playback.interrupted = True
                    playback.stop()

    def take_frame(self) -> None:
        """Move one frame from the jitter buffer to ``rx_frame`` (None when starved)."""
        rx = self._rx
        frame = None
        if not self._rx_playing and len(rx) >= RX_PREFILL:
            self._rx_playing = True
        if self._rx_playing:
            if len(rx) >= FRAME_BYTES:
                frame = bytes(rx[:FRAME_BYTES])
                del rx[:FRAME_BYTES]
            else:
                self._rx_playing = False
        self.rx_frame = frame
        capture = self._capture
        if capture is not None:
            capture.add(frame)

    def skip_frame(self) -> None:
        """A tick without sending (not started, or on hold): RTP time still passes."""
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF

    def _next_playback_frame(self) -> bytes | None:
        playback = self._playback
        frame = playback.next_frame() if playback is not None else None
        if frame is None and self._queue:
            with self._playback_lock:
                while frame is None and self._queue:
                    self._playback = playback = self._queue.popleft()
                    frame = playback.next_frame()
        return frame

    def send_frame(self) -> None:
        frame = self.bridge_out
        self.bridge_out = None
        if frame is None:
            frame = self._next_playback_frame()
        payload_type, encode = self._codec
        payload = encode(frame if frame is not None else SILENCE)
        header = RTP_HEADER.pack(0x80, (0x80 if self._marker else 0) | payload_type,
                                 self._seq, self._timestamp, self._ssrc)
        remote = self.remote
        if remote is None:
            return
        try:
            self._sock.sendto(header + payload, remote)
        except OSError:
            self.send_errors += 1
        now = time.monotonic()
        self._marker = False
        self._seq = (self._seq + 1) & 0xFFFF
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        self.packets_sent += 1
        if self._last_send is not None:
            self._gaps.add((now - self._last_send) * 1000.0)
        self._last_send = now


class Bridge:
    """Two legs hearing each other, optionally recorded and monitored by supervisors.

    ``a`` is the caller leg (left channel of the recording), ``b`` the agent leg (right
    channel).  The bridge stops routing when either leg closes; :meth:`stop` finishes the
    recording and may be called any number of times from any thread.
    """

    def __init__(self, engine: "MediaEngine", a: Stream, b: Stream, recorder: Recorder | None) -> None:
        self._engine = engine
        self.a = a
        self.b = b
        self._recorder = recorder
        self._monitors: dict[Stream, MonitorMode] = {}
        self._stop_lock = threading.Lock()
        self._result: RecordingInfo | None = None
        self.stopped = False

    @property
    def active(self) -> bool:
        return not self.stopped and not self.a.closed.is_set() and not self.b.closed.is_set()

    def monitor(self, supervisor: Stream, mode: MonitorMode | str) -> None:
        """Add ``supervisor`` in ``mode``, or change its mode."""
        mode = MonitorMode(mode)
        if supervisor in (self.a, self.b):
            raise MediaError("a leg of a bridge cannot monitor it")
        if supervisor.bridge is not None or supervisor.monitoring not in (None, self):
            raise MediaError("the supervisor's stream is already bridged or monitoring")
        self._engine._run(lambda: self._set_monitor(supervisor, mode), wait=True)

    def unmonitor(self, supervisor: Stream) -> None:
        self._engine._run(lambda: self._remove_monitor(supervisor), wait=True)

    def stop(self) -> RecordingInfo | None:
        with self._stop_lock:
            if not self.stopped:
                self._engine._run(lambda: self._engine._remove_bridge(self), wait=True)
                self.stopped = True
                if self._recorder is not None:
                    self._result = self._recorder.close()
            return self._result

    # -- engine thread ---------------------------------------------------------------
    def _set_monitor(self, supervisor: Stream, mode: MonitorMode) -> None:
        supervisor.monitoring = self
        self._monitors = {**self._monitors, supervisor: mode}

    def _remove_monitor(self, supervisor: Stream) -> None:
        if supervisor in self._monitors:
            supervisor.monitoring = None
            self._monitors = {s: m for s, m in self._monitors.items() if s is not supervisor}

    def detach(self) -> None:
        for stream in (self.a, self.b):
            if stream.bridge is self:
                stream.bridge = None
        for supervisor in self._monitors:
            supervisor.monitoring = None
        self._monitors = {}

    def route(self) -> None:
        caller, agent = self.a.rx_frame, self.b.rx_frame
        to_caller, to_agent = agent, caller
        for supervisor, mode in self._monitors.items():
            supervisor.bridge_out = mix(caller, agent) or SILENCE
            voice = supervisor.rx_frame
            if voice is None or mode is MonitorMode.LISTEN:
                continue
            to_agent = mix(to_agent, voice)
            if mode is MonitorMode.BARGE:
                to_caller = mix(to_caller, voice)
        self.a.bridge_out = to_caller or SILENCE
        self.b.bridge_out = to_agent or SILENCE
        if self._recorder is not None and not self._recorder.failed:
            self._recorder.write(caller, agent)


class MediaEngine:
    """Owns every RTP socket of the process and paces all streams from one thread.

    On a busy machine the kernel may keep a normal thread waiting for longer than a
    tick, so with ``boost`` (the default) the engine thread asks for real-time
    round-robin scheduling (SCHED_RR, priority 10; it works about 2 ms per tick), else
    for nice -10, else keeps the normal priority.  Both need CAP_SYS_NICE, or for the
    first an RLIMIT_RTPRIO of 10 (systemd: ``LimitRTPRIO=10``).  ``stats().scheduling``
    says which one it got.
    """

    def __init__(self, *, boost: bool = True) -> None:
        self._boost = boost
        self._scheduling = "normal"
        self._streams: tuple[Stream, ...] = ()
        self._bridges: tuple[Bridge, ...] = ()
        self._commands: deque[tuple[Callable[[], None], threading.Event | None]] = deque()
        self._wakeup = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._port_lock = threading.Lock()
        self._next_port: dict[tuple[int, int], int] = {}
        self._stopping = False
        self._ticks = 0
        self._late_ticks = 0
        self._schedule_resets = 0
        self._max_tick = 0.0

    # -- public ----------------------------------------------------------------------
    def open_stream(self, local_ip: str, ports: tuple[int, int]) -> Stream:
        """Bind an even port of ``ports`` (inclusive) on ``local_ip`` and start receiving."""
        self._ensure_thread()
        stream = Stream(self, self._bind(local_ip, ports))
        self._run(lambda: self._add_stream(stream), wait=False)
        return stream

    def bridge(self, a: Stream, b: Stream, recorder_path: str | None = None) -> Bridge:
        if a is b:
            raise MediaError("a stream cannot be bridged to itself")
        for stream in (a, b):
            if stream.closed.is_set():
                raise MediaError("a leg of the bridge has ended")
            if stream.bridge is not None or stream.monitoring is not None:
                raise MediaError("a leg is already bridged or monitoring")
        bridge = Bridge(self, a, b, Recorder(recorder_path) if recorder_path else None)
        self._run(lambda: self._add_bridge(bridge), wait=True)
        return bridge

    @property
    def streams(self) -> int:
        return len(self._streams)

    def stats(self) -> EngineStats:
        return EngineStats(len(self._streams), self._ticks, self._scheduling, self._late_ticks,
                           self._schedule_resets, round(self._max_tick * 1000.0, 3))

    def close(self) -> None:
        """Stop the thread and close every socket (tests and process shutdown)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            self._stopping = True
        self._wakeup.set()
        if thread is not None:
            thread.join()
        self._run_commands()
        for stream in self._streams:
            self._close_stream(stream)
        self._selector.close()

    # -- any thread ------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._stopping:
                raise MediaError("the media engine is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="media-engine", daemon=True)
                self._thread.start()

    def _bind(self, local_ip: str, ports: tuple[int, int]) -> socket.socket:
        low, high = ports
        first = low + (low % 2)
        candidates = list(range(first, high + 1, 2))
        if not candidates:
            raise NoPortAvailable(f"no even port in {low}-{high}")
        with self._port_lock:
            start = self._next_port.get(ports, 0)
            for attempt in range(len(candidates)):
                index = (start + attempt) % len(candidates)
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    sock.bind((local_ip, candidates[index]))
                except OSError as err:
                    sock.close()
                    if err.errno != errno.EADDRINUSE:
                        raise
                    continue
                self._next_port[ports] = index + 1
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0xB8)  # DSCP EF
                return sock
        raise NoPortAvailable(f"every RTP port in {low}-{high} on {local_ip} is in use")

    def _run(self, command: Callable[[], None], *, wait: bool) -> None:
        """Run ``command`` on the engine thread (inline when there is none or we are it)."""
        thread = self._thread
        if thread is None or threading.current_thread() is thread:
            command()
            return
        done = threading.Event() if wait else None
        self._commands.append((command, done))
        self._wakeup.set()
        if done is not None and not done.wait(5.0):
            raise MediaError("the media engine thread did not respond")

    # -- engine thread ---------------------------------------------------------------
    def _run_commands(self) -> None:
        commands = self._commands
        while commands:
            command, done = commands.popleft()
            try:
                command()
            except Exception:
                log.exception("media engine command failed")
            finally:
                if done is not None:
                    done.set()

    def _add_stream(self, stream: Stream) -> None:
        if not stream.closed.is_set():
            self._selector.register(stream, selectors.EVENT_READ, stream)
            self._streams = (*self._streams, stream)

    def _close_stream(self, stream: Stream) -> None:
        if stream.closed.is_set():
            return
        if stream in self._streams:
            self._selector.unregister(stream)
            self._streams = tuple(s for s in self._streams if s is not stream)
        for bridge in self._bridges:
            if stream in (bridge.a, bridge.b):
                self._remove_bridge(bridge)
            else:
                bridge._remove_monitor(stream)
        stream.sending = False
        stream._sock.close()
        stream.closed.set()
        with stream._digit_ready:
            stream._digit_ready.notify_all()

    def _add_bridge(self, bridge: Bridge) -> None:
        bridge.a.bridge = bridge
        bridge.b.bridge = bridge
        self._bridges = (*self._bridges, bridge)

    def _remove_bridge(self, bridge: Bridge) -> None:
        if bridge in self._bridges:
            bridge.detach()
            self._bridges = tuple(b for b in self._bridges if b is not bridge)

    def _raise_priority(self) -> None:
        if not self._boost:
            return
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))  # 0: this thread
            self._scheduling = "realtime"
            return
        except OSError:
            pass
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BOOSTED_NICE)
            self._scheduling = "nice"
        except OSError:
            pass

    def _loop(self) -> None:
        self._raise_priority()
        next_tick = time.monotonic() + TICK
        while not self._stopping:
            self._wakeup.clear()
            self._run_commands()
            delay = next_tick - time.monotonic()
            if delay > 0:
                self._wakeup.wait(delay)  # woken early only to run commands
                continue
            started = time.monotonic()
            lag = started - next_tick
            if lag > 0.005:
                self._late_ticks += 1
            self._tick()
            self._ticks += 1
            self._max_tick = max(self._max_tick, time.monotonic() - started)
            next_tick += TICK
            if lag > MAX_LAG:
                self._schedule_resets += 1
                next_tick = time.monotonic() + TICK

    def _tick(self) -> None:
        """One 20 ms step for every stream; a stream that fails is closed, the others go on."""
        for key, _ in self._selector.select(0):
            try:
                key.data.drain()
            except Exception:
                self._fail(key.data)
        streams = self._streams
        for stream in streams:
            try:
                stream.take_frame()
            except Exception:
                self._fail(stream)
        for bridge in self._bridges:
            bridge.route()
        for stream in streams:
            try:
                if stream.sending:
                    stream.send_frame()
                else:
                    stream.skip_frame()
            except Exception:
                self._fail(stream)

    def _fail(self, stream: Stream) -> None:
        log.exception("RTP stream on port %s failed; it is closed", stream.port)
        self._close_stream(stream)


_default_engine: MediaEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> MediaEngine:
    """The process's engine (created on first use)."""
    global _default_engine
    with _default_lock:
        if _default_engine is None:
            _default_engine = MediaEngine()
        return _default_engine
