"""Concurrent calls: SIPp citizens -> kamailio -> telephony workers -> SIPp agents.

Each step holds N concurrent calls (default 1, 10, 30, 60, 100; the 1-call step and an
idle worker are the in-run baselines).  Every call walks the IVR, waits in the queue and
talks to an agent, so each call is two RTP legs in a worker (citizen and agent), bridged
and recorded:

    SIPp UAC (citizens, -l N)  --INVITE 12345-->  kamailio (bench instance)
        round-robin over the contacts of "hotline"  -->  `hotline telephony run` x W
        welcome prompt, menu "press 1", please-hold, queue "general" (PostgreSQL)
        --INVITE 80xx-->  kamailio  -->  SIPp UAS (every agent's phone, -rtp_echo)

What it prints, per step: per-call CPU (% of one core per concurrent call, workers only,
over the steady window when all N calls talk to agents), the machine's CPU and who used
it (the load generator, kamailio and PostgreSQL share the 2 cores with the workers), RTP
packet rates, p99 / p99.9 of each leg's inter-packet SEND gaps (median leg, worst leg,
share of legs under 30 ms), answer delay (worker side INVITE->200 OK from the stats file,
next to SIPp's INVITE->200 as the citizen sees it), failed calls (SIPp's count and calls
the database does not show as answered by an agent), workers' memory over the whole run
(series, and slope in MB/min during each steady window), and the no-double-offer check:
from the queue log (OFFERED..COMPLETED per agent) and from the agents' phones (SIPp's
INVITE..BYE per extension), no agent may carry two calls at once; with two or more
workers this is the cross-worker test.  Then a table of all steps, ASCII bars, an SVG
chart (build/bench/calls.svg) and whether each goal was met.  Nothing is asserted: the
figures are compared with the baselines of the same run.

Design choices:

* A kamailio of its own (port 23160, set by scripts/bench/calls), so a test run on the
  default proxy (55060, user "hotline", extension 8001) never shares calls with the bench;
  every port of the bench is below Linux's ephemeral range, where tests pick free ports.
* A fresh database ``hotline_bench_calls`` on the bench PostgreSQL: migrations, the
  default telephony set-up, prompts replaced by short tones (no espeak), a three-node
  flow (welcome 1 s -> menu 1.5 s "press 1" -> queue "general"; a missed digit hangs up,
  so it shows as a failed call), queue ring 10 s, wrap-up 0, announcements and overflow
  out of reach, and one agent (user, extension, READY, member of "general") per call of
  the largest step.
* Citizens' audio is one pcap written here at run time (440 Hz PCMU with the RFC 2833
  digit 1.6 s in), played by SIPp's play_pcap_audio; agents echo with SIPp's -rtp_echo.
* Workers: ``ceil(N / --calls-per-worker)``, 15 calls per worker by default (1, 1, 2, 4
  and 7 workers for 1, 10, 30, 60 and 100 calls), added as the steps grow and kept
  across steps so their memory is followed over the whole run; each new worker gets one
  unmeasured warm-up call.  ``--workers`` fixes the number.  Why 15: the CPU per call
  hardly depends on the number of workers (0.6-0.9% of a core), the send gaps do.  At
  100 calls on a quiet machine, p99 of the median leg / p99.9 of the median leg were
  88 / >=100 ms on 1 worker, 39-43 / 66-79 on 2, 38 / 60 on 3, 27-39 / 38-72 on 4,
  28 / 46 on 5, 24-30 / 29-47 on 7 and 26 / 30 on 10 workers (the spread between runs
  is large).  py-spy shows why: with 50 calls in a process the media-engine thread spent
  37% of its time waiting to take the GIL back after its socket calls, with 15 calls
  2-7%; the GIL is held mostly by the calls' threads (a database query per call per
  second for supervisors' monitor requests is 40-55% of it, then 50 ms polling loops).
  Each worker costs ~100 MB of RSS.
* What else makes gaps: full (generation 2) garbage collections stop a worker for
  150-270 ms every few minutes (``--gc log``), a dropout every call of that worker hears;
  ``--gc freeze`` (gc.freeze() after start-up) removed them in the runs made here
  (longest gap in the steady window 48 ms instead of 224 ms).
* Calls arrive at --rate calls/s (default 10/s); each talks long enough (--talk, by
  default the --window 30 s plus the ramp) that all N calls are bridged for about 30 s.
* Samples every 2 s: each worker's utime+stime and RSS (/proc/<pid>/stat, statm), every
  other process's CPU by group (SIPp, kamailio, the bench database's PostgreSQL backends,
  and processes outside the bench, which are named: the machine may be shared), and
  /proc/stat.
* ``--capture`` also records the workers' RTP on the loopback with dumpcap and measures
  the gaps between packets on the wire in the steady window only (the worker's own
  figures cover each leg's whole life, call set-up and hang-ups of other calls included).
* ``--profile`` runs the largest step once more, not measured, with py-spy (installed
  into .venv when missing) attached to each worker: where the GIL goes, and how the
  media-engine thread's time splits into working, sleeping and waiting for the GIL.
  ``--gc log|off|freeze`` and ``--switch-interval`` are experiments on the workers'
  interpreter (their code is untouched: Python runs a few lines before the same CLI).
* Every process started here is stopped on exit, Ctrl-C included; extensions and the
  workers' contacts are removed from the proxy.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.telephony.sip_services import SipClient, ServiceUnavailable, proxy_settings  # noqa: E402

FILES = Path(__file__).resolve().parent / "calls_files"
WORK = ROOT / "build" / "bench" / "calls"
SVG_PATH = ROOT / "build" / "bench" / "calls.svg"
DB_NAME = "hotline_bench_calls"

# Ports below Linux's ephemeral range (32768-60999, where tests pick free ports) and away
# from the worker's default RTP range (20000-20999) and the media tests' (41000-42998).
AGENT_SIP_PORT = 23180
AGENT_MEDIA_PORT = 23100  # and +2 (SIPp's "video" echo)
CALLER_SIP_PORT = 23181
CALLER_MEDIA_PORT = 23110  # and +2
WORKER_SIP_PORT = 23200   # + worker index
WORKER_RTP_BASE = 24000   # + 500 * worker index, 500 ports each
WORKER_RTP_PORTS = 500
FIRST_EXTENSION = 8001

SAMPLE_SECONDS = 2.0
PROFILE_RATE = 50
NATIVE_SECONDS = 4
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

GAP_GOAL_MS = 30.0
ANSWER_GOAL_MS = 200.0
MEMORY_GOAL_MB_PER_MIN = 1.0

#: prompt -> (Hz, seconds): short tones instead of speech
TONES = {"welcome": (500, 1.0), "main_menu": (700, 1.5), "please_hold": (900, 0.5), "queue_hold": (1300, 2.0),
         "invalid_choice": (300, 0.4), "goodbye": (2100, 0.4), "policy_notice": (600, 0.5),
         "consult_menu": (800, 1.0), "closed": (2300, 0.4), "leave_message": (1500, 0.6),
         "enter_order": (2500, 0.5), "survey": (1700, 1.0), "survey_thanks": (1900, 0.5)}
FLOW = {
    "start": "welcome",
    "nodes": {
        "welcome": {"type": "play", "prompts": ["welcome"], "next": "main"},
        "main": {"type": "menu", "prompts": ["main_menu"], "options": {"1": "agent"}, "timeout": 5, "retries": 0,
                 "invalid": ["invalid_choice"], "fail": "bye"},
        "agent": {"type": "queue", "queue": "general", "prompts": ["please_hold"]},
        "bye": {"type": "hangup", "prompts": ["goodbye"]},
    },
}
#: the citizen presses 1 this long after the answer (during the menu prompt)
DIGIT_AT = 1.6
#: the citizen's time before talking: welcome 1.0 + menu until the key + please-hold 0.5 + ringing
SETUP_SECONDS = 3.0


def log(message: str = "") -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------ helpers

def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt(value: float | None, digits: int = 1, width: int = 0) -> str:
    text = "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
    return text.rjust(width) if width else text


def gfmt(value: float | None, width: int = 0) -> str:
    """A gap percentile: the worker's histogram ends at 100 ms, so 100.0 means 100 or more."""
    text = ">=100" if value is not None and not math.isnan(value) and value >= 99.95 else fmt(value)
    return text.rjust(width) if width else text


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) in value per minute."""
    if len(points) < 3:
        return float("nan")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return float("nan") if den == 0 else 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def udp_bound(port: int) -> bool:
    hexport = f":{port:04X}"
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(line.split()[1].endswith(hexport) for line in lines if len(line.split()) > 1):
            return True
    return False


def as_epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


# ------------------------------------------------------------------------------------ audio

def _ulaw_tone(frequency: float, frames: int) -> list[bytes]:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    step = 2 * math.pi * frequency / 8000
    out = []
    for n in range(frames):
        samples = [int(6000 * math.sin(step * (n * 160 + i))) for i in range(160)]
        out.append(audioop.lin2ulaw(struct.pack("<160h", *samples), 2))
    return out


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(path: Path, seconds: float, digit_at: float = DIGIT_AT, digit: str = "1") -> Path:
    """The citizen's side of a call as a pcap SIPp plays (Ethernet/IPv4/UDP/RTP): a 440 Hz
    tone in PCMU, 20 ms packets, with one RFC 2833 key press of `digit` at `digit_at` s
    (eight event packets of 20 ms, the last three with the end bit, as phones send)."""
    event = "0123456789*#".index(digit)
    tone = _ulaw_tone(440, 50)  # one second, repeated (440 Hz: whole periods in 1 s)
    packets: list[tuple[float, bytes]] = []
    seq, stamp, ssrc = 1000, 160_000, 0x0BE4C4A1
    frames = int(seconds * 50)
    digit_frame = int(digit_at * 50)
    n = 0
    while n < frames:
        at = n * 0.020
        if n == digit_frame:
            start = stamp
            for k in range(1, 9):
                end = k >= 6
                payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, 160 * min(k, 6))
                header = struct.pack("!BBHII", 0x80, (0x80 if k == 1 else 0) | 101, seq, start, ssrc)
                packets.append(((n + k - 1) * 0.020, header + payload))
                seq = (seq + 1) & 0xFFFF
            n += 8
            stamp = (stamp + 160 * 8) & 0xFFFFFFFF
            continue
        header = struct.pack("!BBHII", 0x80, 0, seq, stamp, ssrc)
        packets.append((at, header + tone[n % 50]))
        seq, stamp = (seq + 1) & 0xFFFF, (stamp + 160) & 0xFFFFFFFF
        n += 1
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    base = 1_700_000_000
    for at, rtp in packets:
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                                   bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])))
        ip[10:12] = struct.pack("!H", _ip_checksum(bytes(ip)))
        frame = b"\0" * 12 + b"\x08\x00" + bytes(ip) + udp
        usec = int(round(at * 1_000_000))
        out += struct.pack("<IIII", base + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path


# ------------------------------------------------------------------------------------ the database

def pg_urls() -> tuple[str, str]:
    """(SQLAlchemy URL of the bench-calls database, psycopg URL of the server's bench database)."""
    url = os.environ.get("HOTLINE_BENCH_POSTGRES_URL")
    if not url:
        sys.exit("HOTLINE_BENCH_POSTGRES_URL is unset: run scripts/bench/calls, which starts PostgreSQL")
    base = url.rsplit("/", 1)[0]
    return f"{base}/{DB_NAME}", url.replace("postgresql+psycopg://", "postgresql://", 1)


def worker_env(db_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": db_url, "HOTLINE_ENV": "development", "SECRET_KEY": "bench-calls",
            "RECORDING_DIR": str(WORK / "recordings"), "PYTHONUNBUFFERED": "1"}


def prepare_database(agents: int) -> str:
    """A fresh database with migrations, the default telephony set-up, and the bench's
    prompts, flow, queue and agents. Returns its SQLAlchemy URL."""
    import psycopg
    db_url, admin_url = pg_urls()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    env = worker_env(db_url)
    hotline = str(ROOT / ".venv" / "bin" / "hotline")
    for args in (["db", "upgrade"], ["telephony", "defaults"]):
        done = subprocess.run([hotline, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"`hotline {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
    os.environ["DATABASE_URL"] = db_url
    import sqlalchemy as sa

    from hotline import create_app
    from hotline.auth.models import User
    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.telephony.models import Agent, CallQueue, IvrFlow, Prompt, QueueMember
    from integrations.telephony.prompts import audio_key, tone, wav_bytes
    from workflows.acd import AgentState
    from workflows.states import Role

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        for code, (hz, seconds) in TONES.items():
            prompt = db.session.scalar(sa.select(Prompt).where(Prompt.code == code))
            if prompt is None:
                continue
            wav = wav_bytes(tone(hz, seconds))
            prompt.audio, prompt.sha256 = wav, audio_key(wav)
        flow = db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == "12345"))
        flow.definition, flow.version = json.dumps(FLOW), flow.version + 1
        queue = db.session.scalar(sa.select(CallQueue).where(CallQueue.code == "general"))
        queue.ring_seconds, queue.max_wait_seconds, queue.wrap_up_seconds = 10, 3600, 0
        queue.announce_seconds, queue.hold_prompt = 3600, "queue_hold"
        now = utcnow()
        for i in range(agents):
            extension = str(FIRST_EXTENSION + i)
            user = User(username=f"bench_agent_{extension}", display_name=f"坐席 {extension}", role=Role.CALL_TAKER,
                        password_hash="!bench-agent-cannot-log-in", extension=extension, is_active=True)
            db.session.add(user)
            db.session.flush()
            db.session.add(Agent(user_id=user.id, state=AgentState.READY, state_since=now, idle_since=now))
            db.session.add(QueueMember(queue_id=queue.id, user_id=user.id, level=1))
        db.session.commit()
        db.engine.dispose()
    return db_url


class Database:
    """Read-only look at the bench database after each step."""

    def __init__(self, db_url: str):
        os.environ["DATABASE_URL"] = db_url
        from hotline import create_app
        self.app = create_app({"RATELIMIT_ENABLED": False})

    def step_rows(self, since: float) -> dict:
        import sqlalchemy as sa

        from hotline.extensions import db
        from hotline.telephony.models import Agent, Call, QueueLogEntry
        start = datetime.fromtimestamp(since, timezone.utc)
        with self.app.app_context():
            calls = db.session.scalars(sa.select(Call).where(Call.started_at >= start)).all()
            rows = [{"id": c.id, "sip": c.sip_call_id, "leg": c.leg.value, "parent": c.parent_id,
                     "agent": c.agent_user_id, "started": as_epoch(c.started_at),
                     "answered": as_epoch(c.answered_at), "ended": as_epoch(c.ended_at),
                     "disposition": c.disposition.value if c.disposition else None,
                     "end_reason": c.end_reason, "path": c.ivr_path, "worker": c.worker} for c in calls]
            log_rows = db.session.scalars(sa.select(QueueLogEntry).where(QueueLogEntry.at >= start)
                                          .order_by(QueueLogEntry.at, QueueLogEntry.id)).all()
            queue_log = [{"call": e.call_id, "event": e.event.value, "at": as_epoch(e.at), "agent": e.agent_user_id,
                          "wait": e.wait_seconds} for e in log_rows]
            states = dict(db.session.execute(sa.select(Agent.state, sa.func.count()).group_by(Agent.state)).all())
            busy = db.session.scalar(sa.select(sa.func.count()).select_from(Agent)
                                     .where(Agent.current_call_id.is_not(None)))
            db.session.rollback()
        return {"calls": rows, "queue_log": queue_log,
                "agent_states": {getattr(k, "value", k): v for k, v in states.items()}, "agents_holding_a_call": busy}


# ------------------------------------------------------------------------------------ processes

@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(5)


def start(name: str, args: list[str], *, env: dict | None = None, cwd: Path | None = None) -> Proc:
    log_path = WORK / f"{name}.log"
    with open(log_path, "ab") as out:
        popen = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=env, cwd=cwd or WORK, start_new_session=True)
    return Proc(name, popen, log_path)


@dataclass
class WorkerProc:
    index: int
    proc: Proc
    sip_port: int
    stats_path: Path

    @property
    def name(self) -> str:
        return f"w{self.index + 1}"

    def stats_lines(self) -> int:
        try:
            with open(self.stats_path, "rb") as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0


# ------------------------------------------------------------------------------------ sampling

def read_cpu_rss(pid: int) -> tuple[float, int, int] | None:
    """(cpu seconds, rss bytes, threads) of one process, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, int(statm[1]) * PAGE, int(fields[17])


def machine_cpu() -> tuple[float, float, float]:
    """(busy seconds, total seconds, stolen seconds) of all cores since boot; stolen: time
    the hypervisor ran something else while this machine's CPU wanted to run (it is busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK, values[7] / CLK_TCK


class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS: each worker's CPU, RSS and threads; each group's CPU; the machine's."""

    def __init__(self, bench: "Bench"):
        super().__init__(name="sampler", daemon=True)
        self.bench = bench
        self.stop_event = threading.Event()
        self.workers: dict[str, list[tuple[float, float, int, int]]] = {}
        self.groups: list[tuple[float, dict[str, float]]] = []
        self.machine: list[tuple[float, float, float, float]] = []
        self._seen: dict[int, tuple[str, float]] = {}
        self._group_total: dict[str, float] = {}
        self.lock = threading.Lock()

    def classify(self, pid: int) -> str | None:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None
        if "telephony run" in cmd and "--name bench-" in cmd:
            return "workers"
        if "sipp" in cmd and "citizens" in cmd:
            return "SIPp citizens"
        if "sipp" in cmd and "agents_uas" in cmd:
            return "SIPp agents"
        if "kamailio" in cmd and f":{self.bench.proxy.port}" in cmd:
            return "kamailio"
        if cmd.startswith("postgres"):
            # backends show their database; others' databases (tests running meanwhile) are not ours
            if cmd.startswith("postgres: ") and f" {DB_NAME} " not in cmd and len(cmd.split()) > 3 \
                    and cmd.split()[2].startswith("hotline"):
                return "other: postgres (other databases)"
            return "PostgreSQL"
        if pid == os.getpid():
            return "bench (this script)"
        if "dumpcap" in cmd and str(WORK) in cmd:
            return "dumpcap (--capture)"
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return "other: " + stat[stat.index("(") + 1:stat.rindex(")")]

    def sample(self) -> None:
        now = time.time()
        with self.lock:
            for worker in list(self.bench.workers.values()):
                got = read_cpu_rss(worker.proc.pid)
                if got is not None:
                    self.workers.setdefault(worker.name, []).append((now, *got))
            # groups: cumulative CPU of processes seen alive (a process that exits keeps its last value)
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                pid = int(entry)
                got = read_cpu_rss(pid)
                if got is None:
                    continue
                known = self._seen.get(pid)
                group = known[0] if known else self.classify(pid)
                if group is None:
                    continue
                previous = known[1] if known else None
                if previous is None:
                    # first seen: at the first sample, count from now on; later, the process
                    # was born since the last sample and all its CPU counts
                    delta = got[0] if self.groups else 0.0
                else:
                    delta = max(0.0, got[0] - previous)
                self._group_total[group] = self._group_total.get(group, 0.0) + delta
                self._seen[pid] = (group, got[0])
            self.groups.append((now, dict(self._group_total)))
            self.machine.append((now, *machine_cpu()))

    def run(self) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                self.sample()
            except Exception as err:  # a sampling hiccup must not end the benchmark
                log(f"  (sampling failed: {err})")
            self.stop_event.wait(max(0.1, SAMPLE_SECONDS - (time.monotonic() - started)))

    # -- reading the samples

    @staticmethod
    def _at(series: list[tuple], t: float, index: int) -> float | None:
        """Linear interpolation of column `index` at time t."""
        if not series or t < series[0][0] or t > series[-1][0]:
            return None
        for a, b in zip(series, series[1:]):
            if a[0] <= t <= b[0]:
                if b[0] == a[0]:
                    return a[index]
                return a[index] + (b[index] - a[index]) * (t - a[0]) / (b[0] - a[0])
        return series[-1][index]

    def worker_cpu(self, name: str, t0: float, t1: float) -> float | None:
        """CPU seconds used by a worker between t0 and t1."""
        with self.lock:
            series = list(self.workers.get(name, []))
        a, b = self._at(series, t0, 1), self._at(series, t1, 1)
        return None if a is None or b is None else b - a

    def worker_rss(self, name: str, t0: float, t1: float) -> list[tuple[float, float]]:
        with self.lock:
            return [(t, rss / 2**20) for t, _, rss, _ in self.workers.get(name, []) if t0 <= t <= t1]

    def worker_threads(self, name: str, t0: float, t1: float) -> int:
        with self.lock:
            return max((n for t, _, _, n in self.workers.get(name, []) if t0 <= t <= t1), default=0)

    def groups_cpu(self, t0: float, t1: float) -> dict[str, float]:
        with self.lock:
            series = list(self.groups)
        inside = [s for s in series if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return {}
        first, last = inside[0], inside[-1]
        span = last[0] - first[0]
        return {k: (last[1].get(k, 0.0) - first[1].get(k, 0.0)) / span for k in last[1]}

    def machine_busy(self, t0: float, t1: float) -> tuple[float, float, float] | None:
        """(busy cores, total cores, stolen cores) averaged over t0..t1."""
        with self.lock:
            series = list(self.machine)
        values = [self._at(series, t, i) for i in (1, 2, 3) for t in (t0, t1)]
        if None in values or t1 <= t0:
            return None
        busy0, busy1, tot0, tot1, steal0, steal1 = values
        return (busy1 - busy0) / (t1 - t0), (tot1 - tot0) / (t1 - t0), (steal1 - steal0) / (t1 - t0)


# ------------------------------------------------------------------------------------ one step

@dataclass
class StepResult:
    calls: int
    workers: int
    rate: float
    talk: float
    started: float = 0.0
    ended: float = 0.0
    window: tuple[float, float] | None = None
    concurrent: int = 0
    figures: dict = field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.proxy = proxy_settings()
        self.workers: dict[int, WorkerProc] = {}
        self.agents_uas: Proc | None = None
        self.callers: Proc | None = None
        self.extensions: list[str] = []
        self.sampler = Sampler(self)
        self.db_url = ""
        self.database: Database | None = None
        self.results: list[StepResult] = []
        self.idle: dict = {}
        self.profiles: dict[str, tuple[str, int]] = {}
        self.native_profiles: dict[str, str] = {}
        self.captures: dict[str, Path] = {}
        self.warm_ups = 0
        self.run_started = time.time()

    # -- set-up and clean-up

    def check_ports(self) -> None:
        wanted = [AGENT_SIP_PORT, AGENT_MEDIA_PORT, AGENT_MEDIA_PORT + 2, CALLER_SIP_PORT, CALLER_MEDIA_PORT,
                  CALLER_MEDIA_PORT + 2]
        wanted += [WORKER_SIP_PORT + i for i in range(8)]
        busy = [p for p in wanted if udp_bound(p)]
        if busy:
            sys.exit(f"UDP ports in use: {busy} (another bench still running? stop it first)")

    def start_agents(self, count: int) -> None:
        scenario = WORK / "agents_uas.xml"
        shutil.copy(FILES / "agents_uas.xml", scenario)
        self.agents_uas = start("sipp-agents", [
            shutil.which("sipp"), "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(AGENT_SIP_PORT),
            "-mi", "127.0.0.1", "-mp", str(AGENT_MEDIA_PORT), "-rtp_echo", "-nostdin",
            "-trace_logs", "-log_file", str(WORK / "agents_calls.log"),
            "-trace_err", "-error_file", str(WORK / "agents_errors.log")])
        deadline = time.monotonic() + 10
        while not udp_bound(AGENT_SIP_PORT):
            if not self.agents_uas.alive() or time.monotonic() > deadline:
                sys.exit(f"the agents' SIPp did not start: {self.agents_uas.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        self.extensions = [str(FIRST_EXTENSION + i) for i in range(count)]
        self.register_extensions()

    def register_extensions(self, expires: int = 3600) -> None:
        with SipClient(self.proxy) as client:
            for ext in self.extensions:
                result = client.register(ext, contact=f"sip:{ext}@127.0.0.1:{AGENT_SIP_PORT}", expires=expires)
                if result.status != 200:
                    raise ServiceUnavailable(f"registering extension {ext} failed: {result.final}")

    def worker_count(self, calls: int) -> int:
        if self.args.workers:
            return self.args.workers
        return max(1, math.ceil(calls / self.args.calls_per_worker))

    def ensure_workers(self, count: int) -> list[str]:
        """Exactly `count` workers registered; returns the names of those started now."""
        started = []
        for index in sorted(self.workers, reverse=True):
            if index >= count:
                worker = self.workers.pop(index)
                log(f"  stopping worker {worker.name}")
                worker.proc.stop()
        for index in range(count):
            if index in self.workers and self.workers[index].proc.alive():
                continue
            sip_port = WORKER_SIP_PORT + index
            low = WORKER_RTP_BASE + WORKER_RTP_PORTS * index
            stats = WORK / f"stats-w{index + 1}.jsonl"
            program = [str(ROOT / ".venv" / "bin" / "hotline")]
            prelude = worker_prelude(self.args, WORK / f"gc-w{index + 1}.txt")
            if prelude:
                # experiments on the interpreter, not on the worker's code: the same command
                # with some Python run first (see --switch-interval and --gc)
                program = [str(ROOT / ".venv" / "bin" / "python"), "-c",
                           prelude + "\nsys.argv[0] = 'hotline'\nfrom hotline.cli import main\nsys.exit(main())"]
            args = [*program, "telephony", "run", "--name", f"bench-w{index + 1}",
                    "--proxy", self.proxy.address, "--password", self.proxy.secret, "--sip-port", str(sip_port),
                    "--rtp-ports", f"{low}-{low + WORKER_RTP_PORTS - 1}", "--stats-file", str(stats), "--drain", "10"]
            proc = start(f"worker-w{index + 1}", args, env=worker_env(self.db_url), cwd=ROOT)
            self.workers[index] = WorkerProc(index, proc, sip_port, stats)
            started.append(self.workers[index].name)
        deadline = time.monotonic() + 30
        ports = {f":{w.sip_port}" for w in self.workers.values()}
        while True:
            contacts = self.proxy.contacts(self.proxy.service_aor)
            if all(any(p in c for c in contacts) for p in ports) and len(contacts) == len(ports):
                break
            dead = [w for w in self.workers.values() if not w.proc.alive()]
            if dead or time.monotonic() > deadline:
                text = dead[0].proc.log_path.read_text()[-3000:] if dead else ""
                raise RuntimeError(f"workers did not register (contacts {contacts}) {text}")
            time.sleep(0.2)
        return started

    def cleanup(self) -> None:
        for proc in (self.callers, self.agents_uas):
            if proc is not None:
                proc.stop(5)
        for worker in self.workers.values():
            worker.proc.stop(20)
        self.sampler.stop_event.set()
        # the calls' recordings are only load (32 KB/s per call): hundreds of MB per run
        shutil.rmtree(WORK / "recordings", ignore_errors=True)
        try:
            if self.extensions:
                with SipClient(self.proxy) as client:
                    for ext in self.extensions:
                        try:
                            client.register(ext, contact=f"sip:{ext}@127.0.0.1:{AGENT_SIP_PORT}", expires=0,
                                            timeout=2)
                        except AssertionError:
                            self.proxy.remove_aor(ext)
            for contact in self.proxy.contacts(self.proxy.service_aor):
                if any(f":{WORKER_SIP_PORT + i}" in contact for i in range(16)):
                    self.proxy.kamcmd("ul.rm_contact", "location", f"s:{self.proxy.service_aor}", f"s:{contact}")
        except (ServiceUnavailable, OSError) as err:
            log(f"(cleaning the proxy's registrations failed: {err})")

    # -- the run

    def run(self) -> None:
        args = self.args
        steps = [int(s) for s in args.steps.split(",") if s.strip()]
        if not args.no_baseline and 1 not in steps:
            steps = [1] + steps
        WORK.mkdir(parents=True, exist_ok=True)
        for old in WORK.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
        (WORK / "recordings").mkdir()
        self.check_ports()
        log(describe_code())
        agents = max(steps)
        log(f"bench database {DB_NAME}: migrations, telephony defaults, tone prompts, {agents} agents")
        self.db_url = prepare_database(agents)
        self.database = Database(self.db_url)
        self.proxy.remove_aor(self.proxy.service_aor)  # a previous run's workers, if any
        log(f"agents: one SIPp UAS on 127.0.0.1:{AGENT_SIP_PORT} (-rtp_echo on {AGENT_MEDIA_PORT}), "
            f"extensions {self.extensions and self.extensions[0] or FIRST_EXTENSION}..{FIRST_EXTENSION + agents - 1}")
        self.start_agents(agents)
        self.sampler.start()
        plan = [(n, self.worker_count(n)) for n in steps]
        rule = f"--workers {args.workers}" if args.workers else f"ceil(N / {args.calls_per_worker})"
        log("workers per step (" + rule + "): " + ", ".join(f"{n} calls -> {w}" for n, w in plan))
        self.ensure_workers(plan[0][1])
        self.measure_idle()
        warm = set()
        for n, w in plan:
            self.ensure_workers(w)
            self.register_extensions()
            new = [name for name in (wp.name for wp in self.workers.values()) if name not in warm]
            if new:
                self.warm_up(new)
                warm.update(new)
            result = self.step(n, w)
            self.results.append(result)
            self.print_step(result)
        if args.profile:
            n, w = max(plan)
            log(f"\nprofiling step: {n} calls on {w} worker(s) again, with py-spy attached (its figures are "
                f"not part of the results: py-spy disturbs the workers)")
            profiled = self.step(n, w, profile=True)
            log(f"  ({profiled.figures['failed']} failed calls while profiling)")
        self.print_summary()

    def measure_idle(self) -> None:
        seconds = self.args.idle
        log(f"idle baseline: {len(self.workers)} registered worker(s), no calls, {seconds:g} s")
        time.sleep(SAMPLE_SECONDS + 0.5)
        t0 = time.time()
        time.sleep(seconds)
        t1 = time.time()
        time.sleep(SAMPLE_SECONDS + 0.5)
        cpu = {w.name: self.sampler.worker_cpu(w.name, t0, t1) for w in self.workers.values()}
        rss = {w.name: (self.sampler.worker_rss(w.name, t0, t1) or [(0, float("nan"))])[-1][1]
               for w in self.workers.values()}
        threads = {w.name: self.sampler.worker_threads(w.name, t0, t1) for w in self.workers.values()}
        busy = self.sampler.machine_busy(t0, t1)
        self.idle = {"cpu_pct": {k: (v or 0.0) / (t1 - t0) * 100 for k, v in cpu.items()}, "rss": rss,
                     "threads": threads, "machine": busy, "window": (t0, t1)}
        parts = [f"{k}: CPU {self.idle['cpu_pct'][k]:.2f}% of a core, RSS {rss[k]:.1f} MB, {threads[k]} threads"
                 for k in cpu]
        log("  " + "; ".join(parts) + (f"; machine {busy[0] / busy[1] * 100:.0f}% busy, stolen by the hypervisor "
                                      f"{busy[2] * 100:.1f}% of a core" if busy else ""))

    def run_citizens(self, name: str, calls: int, rate: float, talk: float, *,
                     during=None) -> tuple[Path, int | None]:
        """One SIPp UAC: `calls` citizens at `rate`/s, at most `calls` at once, each talking
        `talk` s with an agent after the IVR; returns (its directory, its exit code)."""
        ramp = calls / rate
        hold = SETUP_SECONDS + talk
        step_dir = WORK / name
        step_dir.mkdir()
        pcap = write_pcap(step_dir / "citizen.pcap", hold + 2.0)
        scenario = step_dir / "citizens.xml"
        scenario.write_text((FILES / "callers_uac.xml").read_text().replace("@PCAP@", str(pcap))
                            .replace("@HOLD_MS@", str(int(hold * 1000))).replace("@DIGIT_S@", f"{DIGIT_AT:g}"))
        self.callers = start(f"sipp-{name}", [
            shutil.which("sipp"), self.proxy.address, "-sf", str(scenario), "-s", self.proxy.service_number,
            "-i", "127.0.0.1", "-p", str(CALLER_SIP_PORT), "-mi", "127.0.0.1", "-mp", str(CALLER_MEDIA_PORT),
            "-l", str(calls), "-m", str(calls), "-r", f"{rate:g}", "-rp", "1000", "-nostdin",
            "-trace_stat", "-stf", str(step_dir / "stat.csv"), "-fd", "1",
            "-trace_rtt", "-rtt_freq", "1", "-trace_err", "-error_file", str(step_dir / "errors.log"),
            "-timeout", str(int(hold + ramp + 120)), "-timeout_error"], cwd=step_dir)
        while self.callers.alive():
            if during is not None:
                during()
            time.sleep(0.5)
        code = self.callers.popen.returncode
        self.callers = None
        return step_dir, code

    def start_capture(self, name: str) -> Proc | None:
        """dumpcap on the loopback: the first 64 bytes of every RTP packet the workers send."""
        dumpcap = shutil.which("dumpcap")
        if dumpcap is None:
            log("  --capture needs dumpcap (Debian package wireshark-common or tshark)")
            return None
        low = WORKER_RTP_BASE
        high = WORKER_RTP_BASE + WORKER_RTP_PORTS * 16 - 1
        path = WORK / f"{name}-rtp.pcap"
        proc = start(f"dumpcap-{name}", [dumpcap, "-q", "-P", "-i", "lo", "-s", "64", "-B", "64",
                                         "-f", f"udp src portrange {low}-{high}", "-w", str(path)])
        self.captures[name] = path
        time.sleep(1.0)
        return proc

    def wait_for_legs(self, offsets: dict, legs: int, timeout: float = 20) -> None:
        """Until the workers wrote `legs` stats lines since `offsets` (the calls' records are then done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(w.stats_lines() - offsets.get(w.name, 0) for w in self.workers.values()) >= legs:
                break
            time.sleep(0.5)
        time.sleep(1.5)

    def warm_up(self, workers: list[str]) -> None:
        """One short call per new worker (round robin: one each), not measured: the first
        call of a fresh process loads the flow, the prompts and the database pool."""
        count = len(workers)
        log(f"warm-up: {count} call(s) for new worker(s) {', '.join(workers)} (not measured)")
        offsets = {w.name: w.stats_lines() for w in self.workers.values()}
        self.warm_ups += 1
        _, code = self.run_citizens(f"warmup-{self.warm_ups}", count, float(count), 2.0)
        self.wait_for_legs(offsets, 2 * count)
        if code != 0:
            log(f"  warm-up SIPp exit {code}: see {WORK / f'warmup-{self.warm_ups}'}")

    def step(self, calls: int, workers: int, *, profile: bool = False) -> StepResult:
        args = self.args
        rate = min(args.rate, max(1.0, float(calls)))
        ramp = calls / rate
        talk = args.talk if args.talk else args.window + ramp
        offsets = {w.name: w.stats_lines() for w in self.workers.values()}
        agents_log = WORK / "agents_calls.log"
        agents_offset = agents_log.stat().st_size if agents_log.exists() else 0
        result = StepResult(calls, workers, rate, talk)
        log(f"\nstep: {calls} concurrent call(s) on {workers} worker(s); {rate:g} calls/s, talk {talk:.0f} s "
            f"(IVR ~{SETUP_SECONDS:g} s before)")
        result.started = time.time()
        profile_at = [result.started + ramp + SETUP_SECONDS + 5] if profile else []

        def during() -> None:
            if profile_at and time.time() >= profile_at[0]:
                profile_at.clear()
                self.profile(min(12.0, max(5.0, talk - ramp - 12)))

        name = f"profile-{calls:03d}" if profile else f"step-{calls:03d}"
        capture = self.start_capture(name) if args.capture and not profile else None
        try:
            step_dir, sipp_exit = self.run_citizens(name, calls, rate, talk, during=during)
        finally:
            if capture is not None:
                capture.stop(10)
        self.wait_for_legs(offsets, 2 * calls)
        result.ended = time.time()
        self.analyse(result, step_dir, offsets, agents_log, agents_offset, sipp_exit)
        return result

    def profile(self, seconds: float) -> None:
        """py-spy on every worker: first where the GIL goes (Python stacks of the thread
        holding it, sampled without stopping the process), then a few seconds of native
        stacks of every thread, idle ones included (this stops the process at each sample),
        to split the media-engine thread's time into working, sleeping and waiting for the GIL."""
        py_spy = ROOT / ".venv" / "bin" / "py-spy"
        if not py_spy.exists():
            log("  installing py-spy into .venv for --profile")
            subprocess.run([str(ROOT / ".venv" / "bin" / "pip"), "install", "-q", "py-spy"], check=False)
        if not py_spy.exists():
            log("  py-spy is not available: no profile")
            return
        log(f"  py-spy --gil on the workers for {seconds:.0f} s, then --native --idle for {NATIVE_SECONDS} s each")
        procs = []
        for worker in self.workers.values():
            out = WORK / f"profile-gil-{worker.name}.txt"
            procs.append((worker.name, out, subprocess.Popen(
                [str(py_spy), "record", "--pid", str(worker.proc.pid), "--duration", str(int(seconds)),
                 "--rate", str(PROFILE_RATE), "--format", "raw", "--threads", "--gil", "--nonblocking",
                 "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        for name, out, proc in procs:
            proc.wait()
            if out.exists():
                self.profiles[name] = (str(out), int(seconds))
        procs = []
        for worker in self.workers.values():
            out = WORK / f"profile-native-{worker.name}.txt"
            procs.append((worker.name, out, subprocess.Popen(
                [str(py_spy), "record", "--pid", str(worker.proc.pid), "--duration", str(NATIVE_SECONDS),
                 "--rate", "100", "--format", "raw", "--threads", "--idle", "--native", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        for name, out, proc in procs:
            proc.wait()
            if out.exists():
                self.native_profiles[name] = str(out)

    # -- analysis

    def analyse(self, result: StepResult, step_dir: Path, offsets: dict, agents_log: Path, agents_offset: int,
                sipp_exit: int | None) -> None:
        figures = result.figures
        legs = []
        for worker in self.workers.values():
            try:
                lines = worker.stats_path.read_text().splitlines()[offsets.get(worker.name, 0):]
            except FileNotFoundError:
                lines = []
            legs += [json.loads(line) for line in lines if line.strip()]
        rows = self.database.step_rows(result.started - 1)
        calls = rows["calls"]
        by_sip = {c["sip"]: c for c in calls}
        inbound = [c for c in calls if c["leg"] == "inbound"]
        agent_legs = {c["parent"]: c for c in calls if c["leg"] == "agent"}
        # the steady window: all N calls bridged to an agent
        intervals = []
        for call in inbound:
            agent = agent_legs.get(call["id"])
            if agent and agent["started"] and call["ended"]:
                intervals.append((agent["started"], call["ended"]))
        result.window, result.concurrent = steady_window(intervals, result.calls)
        # SIPp's view
        stat = read_sipp_stat(step_dir / "stat.csv")
        rtd = read_rtt(step_dir)
        figures["sipp_exit"] = sipp_exit
        figures["sipp_ok"] = stat.get("SuccessfulCall(C)")
        figures["sipp_failed"] = stat.get("FailedCall(C)")
        figures["sipp_answer"] = rtd
        answered = [c for c in inbound if c["disposition"] == "answered" and c["agent"]]
        figures["db_inbound"] = len(inbound)
        figures["db_not_answered"] = len(inbound) - len(answered)
        figures["db_dispositions"] = count_by(inbound, "disposition")
        figures["db_paths"] = count_by(inbound, "path")
        figures["failed"] = max(figures["sipp_failed"] or 0, figures["db_not_answered"],
                                result.calls - len(answered))
        # media
        inbound_legs = [leg for leg in legs if leg.get("direction") == "inbound"]
        agent_media = [leg for leg in legs if leg.get("direction") != "inbound"]
        figures["legs"] = len(legs)
        p99 = [leg["gap_p99_ms"] for leg in legs if leg["packets_sent"] > 100]
        p999 = [leg["gap_p999_ms"] for leg in legs if leg["packets_sent"] > 100]
        gmax = [leg["gap_max_ms"] for leg in legs if leg["packets_sent"] > 100]
        figures["gap_p99_median"], figures["gap_p99_worst"] = pct(p99, 50), max(p99, default=float("nan"))
        figures["gap_p999_median"], figures["gap_p999_worst"] = pct(p999, 50), max(p999, default=float("nan"))
        figures["gap_max_worst"] = max(gmax, default=float("nan"))
        figures["gap_p999_share_ok"] = (sum(1 for v in p999 if v < GAP_GOAL_MS) / len(p999) * 100) if p999 else None
        figures["send_errors"] = sum(leg["send_errors"] for leg in legs)
        rates_sent, rates_received, window_pps = [], [], 0.0
        for leg in legs:
            row = by_sip.get(leg["call"])
            if not row or not row["answered"] or not row["ended"] or row["ended"] - row["answered"] < 2:
                continue
            seconds = row["ended"] - row["answered"]
            rates_sent.append(leg["packets_sent"] / seconds)
            rates_received.append(leg["packets_received"] / seconds)
            if result.window:
                overlap = min(row["ended"], result.window[1]) - max(row["answered"], result.window[0])
                if overlap > 0:
                    window_pps += leg["packets_sent"] / seconds * overlap / (result.window[1] - result.window[0])
        figures["pps_leg_median"], figures["pps_leg_min"] = pct(rates_sent, 50), min(rates_sent, default=float("nan"))
        figures["pps_recv_median"] = pct(rates_received, 50)
        figures["pps_total"] = window_pps
        delays = [leg["answer_delay_ms"] for leg in inbound_legs if leg.get("answer_delay_ms") is not None]
        figures["answer_p50"], figures["answer_p99"] = pct(delays, 50), pct(delays, 99)
        figures["answer_max"] = max(delays, default=float("nan"))
        figures["agent_legs"] = len(agent_media)
        waits = [e["wait"] for e in rows["queue_log"] if e["event"] == "answered" and e["wait"] is not None]
        figures["queue_wait_p50"], figures["queue_wait_max"] = pct(waits, 50), max(waits, default=float("nan"))
        # CPU and memory
        if result.window:
            t0, t1 = result.window
            span = t1 - t0
            per_worker = {w.name: self.sampler.worker_cpu(w.name, t0, t1) for w in self.workers.values()}
            total = sum(v for v in per_worker.values() if v is not None)
            figures["worker_cpu_pct"] = {k: (v / span * 100 if v is not None else None) for k, v in per_worker.items()}
            figures["cpu_per_call"] = total / span * 100 / max(1, result.concurrent)
            figures["groups"] = self.sampler.groups_cpu(t0, t1)
            figures["others"] = sum(v for k, v in figures["groups"].items() if k.startswith("other: "))
            figures["machine"] = self.sampler.machine_busy(t0, t1)
            figures["rss_slope"] = {w.name: slope_per_minute([(t - t0, v) for t, v in
                                                             self.sampler.worker_rss(w.name, t0, t1)])
                                    for w in self.workers.values()}
            figures["threads"] = {w.name: self.sampler.worker_threads(w.name, t0, t1) for w in self.workers.values()}
        figures["rss_after"] = {w.name: (self.sampler.worker_rss(w.name, result.ended - 4, result.ended + 1)
                                         or [(0, float("nan"))])[-1][1] for w in self.workers.values()}
        figures["legs_by_worker"] = count_by([{"w": leg["worker"]} for leg in inbound_legs], "w")
        wire = self.captures.get(step_dir.name)
        if wire is not None and result.window:
            figures["wire"] = wire_gaps(wire, *result.window)
        # no agent with two calls at once
        figures["offer_violations"] = overlapping_offers(rows["queue_log"])
        figures["offers"] = sum(1 for e in rows["queue_log"] if e["event"] == "offered")
        phone = phone_intervals(agents_log, agents_offset)
        figures["phone_calls"] = len(phone)
        figures["phone_violations"] = overlaps(phone)
        figures["agent_states"] = rows["agent_states"]
        figures["agents_holding_a_call"] = rows["agents_holding_a_call"]

    # -- printing

    def print_step(self, r: StepResult) -> None:
        f = r.figures
        log(f"== {r.calls} concurrent call(s), {r.workers} worker(s) ==")
        if r.window:
            log(f"steady window: {r.window[1] - r.window[0]:.1f} s with {r.concurrent} calls bridged to agents "
                f"(from {r.window[0] - r.started:.1f} s after the first INVITE)")
        else:
            log(f"steady window: none (at most {r.concurrent} calls were bridged at once)")
        log(f"calls: SIPp {f['sipp_ok']} ok / {f['sipp_failed']} failed (exit {f['sipp_exit']}); database: "
            f"{f['db_inbound']} inbound, {f['db_inbound'] - f['db_not_answered']} answered by an agent "
            f"{f['db_dispositions']}; IVR paths {f['db_paths']}; queue wait p50 {fmt(f['queue_wait_p50'], 2)} s, "
            f"max {fmt(f['queue_wait_max'], 2)} s")
        log(f"failed calls: {f['failed']}")
        if r.window:
            cpu = ", ".join(f"{k} {fmt(v)}%" for k, v in f["worker_cpu_pct"].items())
            log(f"CPU: per call {f['cpu_per_call']:.2f}% of one core (workers: {cpu}; idle worker "
                f"{statistics.fmean(self.idle['cpu_pct'].values()):.2f}%)")
            if f.get("machine"):
                busy, total, stolen = f["machine"]
                ours = sorted(((k, v) for k, v in f["groups"].items() if not k.startswith("other: ")),
                              key=lambda kv: -kv[1])
                others = sorted(((k[7:], v) for k, v in f["groups"].items() if k.startswith("other: ")),
                                key=lambda kv: -kv[1])
                log(f"machine: {busy / total * 100:.0f}% of {total:.0f} cores busy; by group (% of one core): "
                    + ", ".join(f"{k} {v * 100:.0f}" for k, v in ours if v >= 0.005)
                    + f"; other processes {f['others'] * 100:.0f} ("
                    + ", ".join(f"{k} {v * 100:.0f}" for k, v in others[:4] if v >= 0.005) + ")"
                    + f"; stolen by the hypervisor {stolen * 100:.1f}% of a core")
                if f["others"] > 0.10:
                    log(f"  NOTE: processes outside this bench used {f['others'] * 100:.0f}% of a core: "
                        f"the machine was not quiet, so gaps and delays are pessimistic")
            log("threads per worker (max): " + ", ".join(f"{k} {v}" for k, v in f["threads"].items()))
        log(f"RTP: {f['legs']} legs ({f['legs_by_worker']} inbound per worker); "
            f"per leg sent {fmt(f['pps_leg_median'])} "
            f"packets/s median, {fmt(f['pps_leg_min'])} lowest; received {fmt(f['pps_recv_median'])}/s median; "
            f"all workers send {fmt(f['pps_total'], 0)} packets/s in the window; send errors {f['send_errors']}")
        share = f["gap_p999_share_ok"]
        log(f"send gaps (ms): p99 median leg {gfmt(f['gap_p99_median'])}, worst {gfmt(f['gap_p99_worst'])}; "
            f"p99.9 median leg {gfmt(f['gap_p999_median'])}, worst {gfmt(f['gap_p999_worst'])}; "
            f"longest gap {fmt(f['gap_max_worst'])}; "
            f"legs with p99.9 < {GAP_GOAL_MS:g} ms: {fmt(share, 0)}%")
        wire = f.get("wire")
        if wire:
            log(f"on the wire in the steady window only (dumpcap on lo, {wire['streams']} streams, "
                f"{wire['packets']} packets): p99 median stream {fmt(wire['p99_median'])}, worst "
                f"{fmt(wire['p99_worst'])}; p99.9 median stream {fmt(wire['p999_median'])}, worst "
                f"{fmt(wire['p999_worst'])}; longest gap {fmt(wire['max'])}; streams with p99.9 < "
                f"{GAP_GOAL_MS:g} ms: {fmt(wire['share_ok'], 0)}%")
        sipp = f["sipp_answer"]
        log(f"answer delay (ms): worker INVITE->200 p50 {fmt(f['answer_p50'])}, p99 {fmt(f['answer_p99'])}, "
            f"max {fmt(f['answer_max'])}; SIPp INVITE->200 p50 {fmt(pct(sipp, 50))}, p99 {fmt(pct(sipp, 99))}, "
            f"max {fmt(max(sipp, default=float('nan')))}")
        if self.args.gc != "default" and r.window:
            for w in self.workers.values():
                pauses = gc_pauses(WORK / f"gc-{w.name}.txt", *r.window)
                span = r.window[1] - r.window[0]
                by_gen = {g: [ms for gg, ms in pauses if gg == g] for g in (0, 1, 2)}
                log(f"garbage collector in {w.name}: " + "; ".join(
                    f"gen{g} {len(v) / span:.1f}/s, longest {max(v, default=0):.1f} ms" for g, v in by_gen.items())
                    + f"; all pauses {sum(ms for _, ms in pauses) / span / 10:.2f}% of the time")
        rss = ", ".join(f"{k} {fmt(v)} MB (slope {fmt(f.get('rss_slope', {}).get(k), 2)} MB/min in the window)"
                        for k, v in f["rss_after"].items())
        log(f"memory after the step: {rss}")
        log(f"one call per agent: queue log {f['offers']} offers, {len(f['offer_violations'])} overlaps; "
            f"agents' phones {f['phone_calls']} calls, {len(f['phone_violations'])} overlaps; agents now "
            f"{f['agent_states']}, {f['agents_holding_a_call']} still holding a call")
        for v in (f["offer_violations"] + f["phone_violations"])[:10]:
            log(f"  OVERLAP {v}")

    def print_summary(self) -> None:
        results = self.results
        if not results:
            return
        log("\n== summary ==")
        head = (f"{'calls':>5} {'wrk':>3} {'window s':>8} {'CPU/call %':>10} {'machine %':>9} {'pkt/s':>7} "
                f"{'p99 med':>7} {'p99 max':>7} {'p999 med':>8} {'p999 max':>8} {'<30ms %':>7} "
                f"{'ans p99':>7} {'SIPp p99':>8} {'queue s':>7} {'failed':>6} {'overlaps':>8} {'others %':>8} "
                f"{'stolen %':>8}")
        log(head)
        for r in results:
            f = r.figures
            machine = f.get("machine")
            log(f"{r.calls:5d} {r.workers:3d} {fmt(r.window and r.window[1] - r.window[0], 0, 8)} "
                f"{fmt(f.get('cpu_per_call'), 2, 10)} {fmt(machine and machine[0] / machine[1] * 100, 0, 9)} "
                f"{fmt(f['pps_total'], 0, 7)} {gfmt(f['gap_p99_median'], 7)} {gfmt(f['gap_p99_worst'], 7)} "
                f"{gfmt(f['gap_p999_median'], 8)} {gfmt(f['gap_p999_worst'], 8)} "
                f"{fmt(f['gap_p999_share_ok'], 0, 7)} {fmt(f['answer_p99'], 0, 7)} "
                f"{fmt(pct(f['sipp_answer'], 99), 0, 8)} {fmt(f['queue_wait_max'], 1, 7)} {f['failed']:6d} "
                f"{len(f['offer_violations']) + len(f['phone_violations']):8d} "
                f"{fmt(f.get('others', float('nan')) * 100, 0, 8)} "
                f"{fmt(machine[2] * 100 if machine else float('nan'), 1, 8)}")
        log("(window: seconds all N calls were bridged to agents; CPU/call: workers' CPU in the window, % of one "
            "core per call; machine: both cores; pkt/s: RTP packets the workers sent per second; p99/p999: "
            "per-leg send-gap percentiles in ms, median leg and worst leg; <30ms: legs whose p99.9 is under "
            "30 ms; ans p99: worker's INVITE->200; SIPp p99: INVITE->200 seen by the caller; queue s: longest "
            "wait for an agent; overlaps: an agent with two calls at once; others: CPU of processes outside "
            "the bench, % of one core; stolen: CPU time the hypervisor gave to other guests, % of one core)")
        idle_cpu = statistics.fmean(self.idle["cpu_pct"].values())
        log(f"baselines: idle worker {idle_cpu:.2f}% of a core, RSS "
            + ", ".join(f"{k} {v:.1f} MB" for k, v in self.idle["rss"].items())
            + (f"; 1-call step {results[0].figures.get('cpu_per_call', float('nan')):.2f}% of a core per call"
               if results[0].calls == 1 else ""))
        self.print_memory()
        self.print_bars()
        self.print_profiles()
        write_svg(self, SVG_PATH)
        log(f"\nchart: {SVG_PATH.relative_to(ROOT)}")
        self.print_goals()

    def print_memory(self) -> None:
        log("\nworkers' RSS over the run (MB, every 10 s; | marks a step's first INVITE):")
        starts = [r.started for r in self.results]
        for name in sorted(self.sampler.workers):
            series = self.sampler.workers[name]
            if not series:
                continue
            values, next_at, marks = [], series[0][0], list(starts)
            for t, _, rss, _ in series:
                while marks and t >= marks[0]:
                    values.append("|")
                    marks.pop(0)
                if t >= next_at:
                    values.append(f"{rss / 2**20:.0f}")
                    next_at = t + 10
            rss = [s[2] / 2**20 for s in series]
            log(f"  {name}: {' '.join(values)}  (min {min(rss):.1f}, max {max(rss):.1f}, "
                f"{len(series) * SAMPLE_SECONDS / 60:.1f} min)")

    def print_bars(self) -> None:
        def bars(title: str, key, unit: str, goal: float | None = None) -> None:
            values = [(r.calls, key(r)) for r in self.results]
            top = max([v for _, v in values if v is not None and not math.isnan(v)] + [goal or 0, 1e-9])
            log(f"\n{title}" + (f"  (goal {goal:g} {unit}: '!' marks it)" if goal else ""))
            for calls, v in values:
                if v is None or math.isnan(v):
                    log(f"  {calls:4d} calls  -")
                    continue
                width = int(round(v / top * 50))
                bar = "#" * width
                if goal:
                    mark = int(round(goal / top * 50))
                    bar = (bar + " " * max(0, mark - width))[:mark] + "!" + bar[mark + 1:] if mark <= 50 else bar
                log(f"  {calls:4d} calls  {bar.ljust(51)} {v:.2f} {unit}")

        bars("CPU per call (% of one core, workers)", lambda r: r.figures.get("cpu_per_call"), "%")
        bars("p99.9 send gap, worst leg", lambda r: r.figures["gap_p999_worst"], "ms", GAP_GOAL_MS)
        bars("p99.9 send gap, median leg", lambda r: r.figures["gap_p999_median"], "ms", GAP_GOAL_MS)
        bars("answer delay p99 (SIPp INVITE->200)", lambda r: pct(r.figures["sipp_answer"], 99), "ms", ANSWER_GOAL_MS)
        bars("machine busy (% of 2 cores)", lambda r: (r.figures["machine"][0] / r.figures["machine"][1] * 100)
             if r.figures.get("machine") else None, "%")

    def print_profiles(self) -> None:
        if self.profiles:
            seconds = max(sec for _, sec in self.profiles.values())
            paths = [Path(path) for path, _ in self.profiles.values()]
            log(f"\nwhere the workers' Python time goes (py-spy --gil on {len(paths)} worker(s), {seconds} s at "
                f"{PROFILE_RATE} Hz, in the profiling step; {WORK.relative_to(ROOT)}/profile-gil-w*.txt):")
            for line in summarise_profile(paths, seconds * PROFILE_RATE * len(paths)):
                log("  " + line)
        if self.native_profiles:
            log(f"the media-engine thread's time (py-spy --native --idle, {NATIVE_SECONDS} s; "
                f"{WORK.relative_to(ROOT)}/profile-native-w*.txt):")
            for name, path in sorted(self.native_profiles.items()):
                log(f"  {name}: " + engine_breakdown(Path(path)))

    def print_goals(self) -> None:
        biggest = max(self.results, key=lambda r: r.calls)
        f = biggest.figures
        log(f"\n== goals at {biggest.calls} concurrent calls on {biggest.workers} worker(s) (2 cores shared with "
            f"SIPp, kamailio and PostgreSQL) ==")
        failed = sum(r.figures["failed"] for r in self.results)
        log(f"no failed call:            {'met' if f['failed'] == 0 else 'NOT met'} "
            f"({f['failed']} at {biggest.calls}; {failed} over all steps)")
        worst = f["gap_p999_worst"]
        wire = f.get("wire")
        log(f"p99.9 send gap < {GAP_GOAL_MS:g} ms:    {'met' if worst < GAP_GOAL_MS else 'NOT met'} "
            f"(worst leg {gfmt(worst)} ms, median leg {gfmt(f['gap_p999_median'])} ms, "
            f"{fmt(f['gap_p999_share_ok'], 0)}% of legs under"
            + (f"; on the wire in the steady window: worst stream {fmt(wire['p999_worst'])} ms, median "
               f"{fmt(wire['p999_median'])} ms" if wire else "") + ")")
        sipp99 = pct(f["sipp_answer"], 99)
        answer = max(v for v in (sipp99, f["answer_p99"]) if not math.isnan(v)) if f["sipp_answer"] else f["answer_p99"]
        log(f"answer delay < {ANSWER_GOAL_MS:g} ms:     {'met' if answer < ANSWER_GOAL_MS else 'NOT met'} "
            f"(p99: worker {fmt(f['answer_p99'])} ms, SIPp {fmt(sipp99)} ms; max worker {fmt(f['answer_max'])} ms)")
        slopes = [v for v in f.get("rss_slope", {}).values() if not math.isnan(v)]
        flat = bool(slopes) and max(abs(v) for v in slopes) < MEMORY_GOAL_MB_PER_MIN
        verdict = "unknown" if not slopes else "met" if flat else "NOT met"
        log(f"flat memory:               {verdict} (RSS slope in the steady window "
            + ", ".join(f"{k} {fmt(v, 2)}" for k, v in f.get("rss_slope", {}).items())
            + f" MB/min; goal under {MEMORY_GOAL_MB_PER_MIN:g})")
        busiest = max((r.figures.get("others", 0.0) for r in self.results), default=0.0)
        if busiest > 0.10:
            log(f"(the machine was shared: processes outside the bench used up to {busiest * 100:.0f}% of a core "
                f"during a steady window, so gaps and delays are pessimistic)")
        overlaps = sum(len(r.figures["offer_violations"]) + len(r.figures["phone_violations"]) for r in self.results)
        multi = [r.calls for r in self.results if r.workers >= 2]
        log(f"one call per agent:        {'met' if overlaps == 0 else 'NOT met'} ({overlaps} overlaps over all steps; "
            f"steps with two or more workers: {multi or 'none'})")


# ------------------------------------------------------------------------------------ experiments

GC_LOGGER = """
import gc, threading, time
_gc_path = {path!r}
_gc_started = [0.0]
_gc_pauses = []
def _gc_watch(phase, info):
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        _gc_pauses.append((time.time(), info["generation"], (time.perf_counter() - _gc_started[0]) * 1000.0,
                           info.get("collected", 0)))
gc.callbacks.append(_gc_watch)
def _gc_flush():
    while True:
        time.sleep(2.0)
        pauses = _gc_pauses[:]
        del _gc_pauses[:len(pauses)]
        with open(_gc_path, "a") as out:
            out.writelines(f"{{t:.3f}} {{g}} {{ms:.3f}} {{n}}\\n" for t, g, ms, n in pauses)
threading.Thread(target=_gc_flush, name="bench-gc-log", daemon=True).start()
"""


def worker_prelude(args: argparse.Namespace, gc_path: Path) -> str:
    """Python run in a worker before `hotline telephony run` (experiments only)."""
    lines = []
    if args.switch_interval:
        lines.append(f"import sys; sys.setswitchinterval({args.switch_interval / 1000!r})")
    if args.gc in ("log", "off", "freeze"):
        lines.append(GC_LOGGER.format(path=str(gc_path)))
    if args.gc == "off":
        lines.append("import gc; gc.disable()")
    elif args.gc == "freeze":
        # what the worker imports, then everything alive moved out of the collector's sight
        lines.append("import gc, hotline, hotline.telephony.backend, hotline.telephony.cli, "
                     "integrations.telephony.worker, integrations.telephony.phone; "
                     "from hotline import create_app; create_app(); gc.collect(); gc.freeze()")
    if lines:
        lines.insert(0, "import sys")
    return "\n".join(lines)


def gc_pauses(path: Path, t0: float, t1: float) -> list[tuple[int, float]]:
    """(generation, pause ms) of the collections a --gc log worker recorded between t0 and t1."""
    out = []
    try:
        for line in path.read_text().splitlines():
            t, gen, ms, _ = line.split()
            if t0 <= float(t) <= t1:
                out.append((int(gen), float(ms)))
    except (FileNotFoundError, ValueError):
        pass
    return out


# ------------------------------------------------------------------------------------ analysis helpers

def describe_code() -> str:
    """Which code the workers run: the commit, and uncommitted changes to the telephony code."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""
    head = git("log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M")
    dirty = git("status", "--short", "--", "integrations/telephony", "hotline/telephony", "workflows")
    changed = [line[3:] for line in dirty.splitlines() if line.strip()]
    return (f"code under test: {head or 'unknown commit'}"
            + (f" plus uncommitted changes to {', '.join(changed)}" if changed else ""))


def count_by(rows: list[dict], key: str) -> dict:
    out: dict = {}
    for row in rows:
        out[row.get(key)] = out.get(row.get(key), 0) + 1
    return out


def steady_window(intervals: list[tuple[float, float]], target: int) -> tuple[tuple[float, float] | None, int]:
    """The longest span in which the most intervals (at most `target`) overlap."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    level, best = 0, 0
    for _, d in events:
        level += d
        best = max(best, level)
    want = min(best, target)
    level, start, longest = 0, None, None
    for t, d in events:
        level += d
        if level >= want and start is None:
            start = t
        elif level < want and start is not None:
            if longest is None or t - start > longest[1] - longest[0]:
                longest = (start, t)
            start = None
    if longest is None or want == 0:
        return None, best
    # trim a second at each end: the calls' setup and hang-up are not steady
    trimmed = (longest[0] + 1.0, longest[1] - 1.0)
    return (trimmed if trimmed[1] - trimmed[0] > 4 else longest), want


def overlapping_offers(queue_log: list[dict]) -> list[str]:
    """From the queue log: each agent's offers (OFFERED .. COMPLETED, or .. the caller's next
    queue event if never answered) must not overlap."""
    by_call: dict[int, list[dict]] = {}
    for e in queue_log:
        by_call.setdefault(e["call"], []).append(e)
    intervals: dict[int, list[tuple[float, float, int]]] = {}
    now = time.time()
    for call, events in by_call.items():
        for i, e in enumerate(events):
            if e["event"] != "offered":
                continue
            end = None
            for later in events[i + 1:]:
                if later["event"] == "completed" and later["agent"] == e["agent"]:
                    end = later["at"]
                    break
                if later["event"] in ("offered", "abandoned", "overflow") and later["agent"] != e["agent"]:
                    end = later["at"]
                    break
            intervals.setdefault(e["agent"], []).append((e["at"], end or now, call))
    problems = []
    for agent, spans in intervals.items():
        spans.sort()
        for (s1, e1, c1), (s2, e2, c2) in zip(spans, spans[1:]):
            if s2 < e1:
                problems.append(f"agent user {agent}: call {c1} ({s1:.3f}..{e1:.3f}) and call {c2} from {s2:.3f}")
    return problems


def phone_intervals(path: Path, offset: int) -> dict[str, tuple[str, float, float | None]]:
    """Call-ID -> (extension, INVITE time, BYE time) from the agents' SIPp log."""
    calls: dict[str, list] = {}
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return {}
    for line in text.splitlines():
        # "[timestamp]" is "date<TAB>time<TAB>seconds since the epoch"
        match = re.search(r"(\d{9,}\.\d+)\s+(INVITE|BYE)\s+(\S+)(?:\s+(\S+))?", line)
        if not match:
            continue
        when = float(match.group(1))
        if match.group(2) == "INVITE":
            calls.setdefault(match.group(4), [match.group(3), when, None])
        elif match.group(3) in calls:
            calls[match.group(3)][2] = when
    return {k: tuple(v) for k, v in calls.items()}


def overlaps(phone: dict) -> list[str]:
    by_ext: dict[str, list[tuple[float, float, str]]] = {}
    for call_id, (ext, start_at, end_at) in phone.items():
        by_ext.setdefault(ext, []).append((start_at, end_at if end_at is not None else float("inf"), call_id))
    problems = []
    for ext, spans in by_ext.items():
        spans.sort()
        for (s1, e1, c1), (s2, _, c2) in zip(spans, spans[1:]):
            if s2 < e1:
                problems.append(f"extension {ext}: {c1} still up when {c2} rang")
    return problems


def read_sipp_stat(path: Path) -> dict:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return {}
    if len(lines) < 2:
        return {}
    head, last = lines[0].split(";"), lines[-1].split(";")
    out = {}
    for k, v in zip(head, last):
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    return out


def read_rtt(step_dir: Path) -> list[float]:
    values = []
    for path in step_dir.glob("*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                try:
                    values.append(float(parts[1]))
                except ValueError:
                    pass
    return values


def summarise_profile(paths: list[Path], ticks: int, top: int = 14) -> list[str]:
    """py-spy raw (collapsed) stacks, sampled only while a thread held the GIL -> how much of
    the time the GIL was held, by which threads, and the functions where samples end (self
    time) and that they pass through (inclusive), as lines of text."""
    self_time: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    threads: dict[str, int] = {}
    total = 0
    text = "\n".join(path.read_text(errors="replace") for path in paths if path.exists())
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        match = re.match(r"thread \(\w+\):?\s*(.*)", frames[0])
        thread = (match.group(1) if match else frames[0]) or "(unnamed)"
        thread = re.sub(r"^(call-end|call|outbound)-.*", r"\1-*", thread)
        threads[thread] = threads.get(thread, 0) + n
        names = [re.sub(r" \((?:.*/)?([^/]+:\d+)\)$", r" (\1)", f) for f in frames[1:]]
        if names:
            self_time[names[-1]] = self_time.get(names[-1], 0) + n
        for name in set(re.sub(r":\d+\)$", ")", f) for f in names):
            inclusive[name] = inclusive.get(name, 0) + n
    if not total:
        return ["(no samples)"]
    lines = [f"GIL held {total / max(1, ticks) * 100:.0f}% of the time (mean of the workers); by thread: "
             + ", ".join(f"{k} {v / total * 100:.0f}%" for k, v in sorted(threads.items(), key=lambda kv: -kv[1])[:6])]
    lines.append("self time (share of GIL-holding samples):")
    lines += [f"  {v / total * 100:5.1f}%  {k}" for k, v in sorted(self_time.items(), key=lambda kv: -kv[1])[:top]]
    interesting = [(k, v) for k, v in inclusive.items() if "threading.py" not in k and "Thread." not in k
                   and "_guard" not in k]
    lines.append("inclusive (functions the samples pass through):")
    lines += [f"  {v / total * 100:5.1f}%  {k}" for k, v in sorted(interesting, key=lambda kv: -kv[1])[:top]]
    return lines


def wire_gaps(path: Path, t0: float, t1: float) -> dict | None:
    """Per RTP stream (source port), the gaps between consecutive packets captured in t0..t1."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) < 24:
        return None
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack_from(endian + "I", data, 20)[0]
    header = 14 if link == 1 else 16 if link == 113 else 4 if link == 0 else 14
    last: dict[int, float] = {}
    gaps: dict[int, list[float]] = {}
    offset, packets = 24, 0
    while offset + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from(endian + "IIII", data, offset)
        at = sec + frac / (1e9 if nano else 1e6)
        frame = data[offset + 16:offset + 16 + incl]
        offset += 16 + incl
        if not t0 <= at <= t1 or len(frame) < header + 28:
            continue
        ip = header
        if frame[ip] >> 4 != 4 or frame[ip + 9] != 17:
            continue
        udp = ip + 4 * (frame[ip] & 0x0F)
        port = int.from_bytes(frame[udp:udp + 2], "big")
        packets += 1
        if port in last:
            gaps.setdefault(port, []).append((at - last[port]) * 1000.0)
        last[port] = at
    streams = {port: values for port, values in gaps.items() if len(values) > 100}
    if not streams:
        return None
    p99 = [pct(v, 99) for v in streams.values()]
    p999 = [pct(v, 99.9) for v in streams.values()]
    return {"streams": len(streams), "packets": packets, "p99_median": pct(p99, 50), "p99_worst": max(p99),
            "p999_median": pct(p999, 50), "p999_worst": max(p999),
            "max": max(max(v) for v in streams.values()),
            "share_ok": sum(1 for v in p999 if v < GAP_GOAL_MS) / len(p999) * 100}


def engine_breakdown(path: Path) -> str:
    """Native stacks of the media-engine thread -> shares of: sleeping until the next tick,
    working in a tick, waiting to take the GIL back after a socket or file call."""
    shares: dict[str, int] = {}
    total = 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no profile)"
    for line in lines:
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or "media-engine" not in frames[0]:
            continue
        n = int(count)
        total += n
        in_tick = any("MediaEngine._tick" in f for f in frames)
        # the GIL is taken back in take_gil(), a pthread_cond_timedwait() after the call
        waiting = any("pthread_cond_timedwait" in f or "take_gil" in f for f in frames)
        if not in_tick and any("Event.wait" in f or "Condition.wait" in f or "time.sleep" in f for f in frames):
            key = "sleeping until the next tick"
        elif in_tick and waiting:
            key = "waiting for the GIL after a socket/file call"
        elif in_tick:
            key = "working in a tick"
        else:
            key = "elsewhere"
        shares[key] = shares.get(key, 0) + n
    if not total:
        return "(no samples of the media-engine thread)"
    return ", ".join(f"{k} {v / total * 100:.0f}%" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))


# ------------------------------------------------------------------------------------ the chart

def write_svg(bench: Bench, path: Path) -> None:
    """Four panels: CPU per call, p99.9 gaps (median and worst leg, 30 ms goal), answer
    delay p99 (worker and SIPp, 200 ms goal), and the workers' RSS over the run."""
    results = bench.results
    path.parent.mkdir(parents=True, exist_ok=True)
    width, panel_h, margin = 900, 230, 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{4 * panel_h + 40}" '
             f'font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">scripts/bench/calls: concurrent '
             f'calls through kamailio to telephony workers ({time.strftime("%Y-%m-%d %H:%M")})</text>']
    colours = ["#3b6fb6", "#d9822b", "#5aa05a", "#b03a5b", "#7a5cc2", "#2a9d9d", "#8c6d31", "#555555"]

    def panel(index: int, title: str, series: list[tuple[str, list[float | None]]], unit: str,
              goal: float | None) -> None:
        top_y = 40 + index * panel_h
        plot_h = panel_h - 70
        values = [v for _, vs in series for v in vs if v is not None and not math.isnan(v)]
        vmax = max(values + [goal or 0, 1e-9]) * 1.15
        parts.append(f'<text x="{margin}" y="{top_y + 14}" font-size="13">{title}</text>')
        base_y = top_y + 24 + plot_h
        parts.append(f'<line x1="{margin}" y1="{base_y}" x2="{width - 20}" y2="{base_y}" stroke="#333"/>')
        groups = len(results)
        slot = (width - margin - 40) / max(1, groups)
        bar_w = min(slot * 0.8 / max(1, len(series)), 60.0)
        for g, r in enumerate(results):
            x0 = margin + g * slot + (slot - bar_w * len(series)) / 2
            parts.append(f'<text x="{margin + (g + 0.5) * slot:.1f}" y="{base_y + 16}" text-anchor="middle">'
                         f'{r.calls} call{"s" if r.calls > 1 else ""} ({r.workers}w)</text>')
            for s, (name, vs) in enumerate(series):
                v = vs[g]
                if v is None or math.isnan(v):
                    continue
                h = v / vmax * plot_h
                x = x0 + s * bar_w
                parts.append(f'<rect x="{x:.1f}" y="{base_y - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                             f'fill="{colours[s % len(colours)]}"><title>{name}: {v:.2f} {unit}</title></rect>')
                label = ">=100" if unit == "ms" and "gap" in title and v >= 99.95 else f"{v:.1f}"
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base_y - h - 3:.1f}" text-anchor="middle" '
                             f'font-size="10">{label}</text>')
        if goal:
            gy = base_y - goal / vmax * plot_h
            parts.append(f'<line x1="{margin}" y1="{gy:.1f}" x2="{width - 20}" y2="{gy:.1f}" stroke="#c00" '
                         f'stroke-dasharray="5,4"/><text x="{margin - 4}" y="{gy + 4:.1f}" text-anchor="end" '
                         f'fill="#c00" font-size="10">goal {goal:g}</text>')
        for s, (name, _) in enumerate(series):
            lx = width - 240
            ly = top_y + 14 + s * 14
            parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colours[s % len(colours)]}"/>'
                         f'<text x="{lx + 14}" y="{ly}">{name}</text>')

    panel(0, "CPU per concurrent call (% of one core, all workers, steady window)",
          [("per call", [r.figures.get("cpu_per_call") for r in results])], "%", None)
    panel(1, "p99.9 of each leg's RTP send gaps (ms)",
          [("median leg", [r.figures["gap_p999_median"] for r in results]),
           ("worst leg", [r.figures["gap_p999_worst"] for r in results])], "ms", GAP_GOAL_MS)
    panel(2, "answer delay p99 (ms)",
          [("worker INVITE->200", [r.figures["answer_p99"] for r in results]),
           ("SIPp INVITE->200", [pct(r.figures["sipp_answer"], 99) for r in results])], "ms", ANSWER_GOAL_MS)
    # memory over time
    top_y = 40 + 3 * panel_h
    plot_h = panel_h - 70
    parts.append(f'<text x="{margin}" y="{top_y + 14}" font-size="13">workers\' RSS over the run (MB); '
                 f'shaded: steady windows</text>')
    series = {k: v for k, v in bench.sampler.workers.items() if v}
    if series:
        t_min = min(v[0][0] for v in series.values())
        t_max = max(v[-1][0] for v in series.values())
        r_max = max(s[2] for v in series.values() for s in v) / 2**20 * 1.1
        base_y = top_y + 24 + plot_h
        span = max(1.0, t_max - t_min)

        def x_of(t: float) -> float:
            return margin + (t - t_min) / span * (width - margin - 40)

        for r in results:
            if r.window:
                parts.append(f'<rect x="{x_of(r.window[0]):.1f}" y="{top_y + 24}" '
                             f'width="{x_of(r.window[1]) - x_of(r.window[0]):.1f}" height="{plot_h}" fill="#eee"/>'
                             f'<text x="{x_of(r.window[0]):.1f}" y="{top_y + 36}" font-size="10">{r.calls}</text>')
        parts.append(f'<line x1="{margin}" y1="{base_y}" x2="{width - 20}" y2="{base_y}" stroke="#333"/>')
        for tick in range(0, int(r_max) + 1, max(10, int(r_max / 5) // 10 * 10 or 10)):
            y = base_y - tick / r_max * plot_h
            parts.append(f'<text x="{margin - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{tick}</text>')
        for i, (name, samples) in enumerate(sorted(series.items())):
            points = " ".join(f"{x_of(t):.1f},{base_y - rss / 2**20 / r_max * plot_h:.1f}" for t, _, rss, _ in samples)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colours[i % len(colours)]}" '
                         f'stroke-width="1.5"/>')
            parts.append(f'<text x="{width - 20 - 34 * (len(series) - i)}" y="{top_y + 14}" '
                         f'fill="{colours[i % len(colours)]}">{name}</text>')
        parts.append(f'<text x="{width - 20}" y="{base_y + 16}" text-anchor="end">{span / 60:.1f} min</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))


# ------------------------------------------------------------------------------------ main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="10,30,60,100", help="concurrent calls per step (a 1-call baseline "
                        "step is added unless --no-baseline)")
    parser.add_argument("--no-baseline", action="store_true", help="no 1-call step")
    parser.add_argument("--workers", type=int, default=0, help="worker processes for every step "
                        "(default: ceil(N / --calls-per-worker))")
    parser.add_argument("--calls-per-worker", type=int, default=15, help="calls per worker process when --workers "
                        "is not given (default 15, see the docstring)")
    parser.add_argument("--talk", type=float, default=0, help="seconds each citizen talks with the agent "
                        "(default: --window plus the ramp)")
    parser.add_argument("--window", type=float, default=30, help="seconds all N calls should be up (default 30)")
    parser.add_argument("--rate", type=float, default=10, help="new calls per second while ramping (default 10)")
    parser.add_argument("--idle", type=float, default=10, help="seconds of the idle-worker baseline (default 10)")
    parser.add_argument("--profile", action="store_true", help="after the steps, run the largest one again with "
                        "py-spy attached to the workers and print where their time goes")
    parser.add_argument("--capture", action="store_true", help="also capture the workers' RTP on the loopback "
                        "(dumpcap) and measure send gaps on the wire in the steady window only")
    parser.add_argument("--gc", choices=("default", "log", "off", "freeze"), default="default",
                        help="experiment on the workers' garbage collector: log its pauses, and also turn "
                             "it off or gc.freeze() what start-up created (default: untouched)")
    parser.add_argument("--switch-interval", type=float, default=0, metavar="MS",
                        help="experiment: start the workers with sys.setswitchinterval(MS/1000) "
                             "(Python's default is 5 ms)")
    args = parser.parse_args()
    if not shutil.which("sipp"):
        sys.exit("sipp is not installed (Debian package sip-tester)")
    bench = Bench(args)

    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    code = 0
    try:
        bench.run()
    except KeyboardInterrupt:
        log("\ninterrupted: stopping everything this bench started")
        code = 130
    finally:
        bench.cleanup()
    sys.exit(code)


if __name__ == "__main__":
    main()
