"""The phone under test as a subprocess (phone_under_test.py), next to a SIPp scenario."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.telephony.sipp import (LOCALHOST, RtpSink, Sipp, SippResult, environment_for_subprocess, free_udp_port,
                                  free_udp_range)

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class PhonePorts:
    sip: int
    rtp: tuple[int, int]

    @classmethod
    def allocate(cls, rtp_ports: int = 40) -> "PhonePorts":
        return cls(free_udp_port(), free_udp_range(rtp_ports))

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.sip}"


class PhoneProcess:
    """``python -m tests.telephony.pyvoip.phone_under_test`` with its events collected."""

    def __init__(self, server: str, ports: PhonePorts, args: Iterable[str], *, directory: Path,
                 without: Iterable[str] = ()) -> None:
        self.without = list(without)
        self.command = [sys.executable, "-m", "tests.telephony.pyvoip.phone_under_test", "--server", server,
                        "--sip-port", str(ports.sip), "--rtp-ports", f"{ports.rtp[0]}-{ports.rtp[1]}",
                        *(f"--without={name}" for name in self.without), *args]
        directory.mkdir(parents=True, exist_ok=True)
        self._stderr_path = directory / "phone_stderr.log"
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> "PhoneProcess":
        with open(self._stderr_path, "w") as stderr:
            self._process = subprocess.Popen(self.command, cwd=ROOT, env=environment_for_subprocess(), text=True,
                                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "output", "line": line.rstrip()}
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def wait_event(self, name: str, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.events if e["event"] == name), None)
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def finish(self, timeout: float = 30.0) -> "PhoneRun":
        assert self._process is not None and self._reader is not None
        try:
            returncode = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            returncode = self._process.wait()
        self._reader.join(5)
        if self._process.stdout is not None:
            self._process.stdout.close()
        return PhoneRun(returncode, list(self.events), self._stderr_path.read_text(errors="replace"),
                        self.without)


@dataclass(frozen=True)
class PhoneRun:
    returncode: int
    events: list[dict[str, Any]]
    stderr: str
    without: list[str]

    def all(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == name]

    def get(self, name: str) -> dict[str, Any] | None:
        found = self.all(name)
        return found[0] if found else None

    def one(self, name: str) -> dict[str, Any]:
        found = self.all(name)
        assert len(found) == 1, f"expected one {name!r} event\n{self.describe()}"
        return found[0]

    def describe(self) -> str:
        fixes = f"without {', '.join(self.without)}" if self.without else "with every fix"
        events = "\n".join(f"  {json.dumps(e)}" for e in self.events)
        return f"phone ({fixes}) exited {self.returncode}; events:\n{events}\nstderr:\n{self.stderr[-3000:]}"


@dataclass
class Exchange:
    """What one run of a scenario against the phone produced."""
    sipp: SippResult
    phone: PhoneRun
    sinks: list[RtpSink]

    def describe(self) -> str:
        return f"{self.phone.describe()}\n{self.sipp.describe()}"


def exchange(directory: Path, scenario: str, phone_args: list[str], *, without: Iterable[str] = (),
             variables: dict[str, object] | None = None, sinks: int = 1, calls: int = 1,
             timeout: float = 10.0, during: Any = None) -> Exchange:
    """Run ``scenario`` (SIPp) against the phone under test and collect both sides.

    ``variables`` may use ``{phone}`` and ``{rtp_port}``, ``{rtp_port2}`` ... (the RTP
    sinks, in order); ``during(phone_process, sinks)`` runs while both are up.
    """
    ports = PhonePorts.allocate()
    rtp_sinks = [RtpSink() for _ in range(sinks)]
    names = {"phone": ports.address,
             **{f"rtp_port{index + 1 if index else ''}": sink.port for index, sink in enumerate(rtp_sinks)}}
    values = {key: str(value).format(**names) for key, value in (variables or {}).items()}
    try:
        sipp = Sipp(scenario, directory, variables=values, calls=calls, timeout=timeout).start()
        try:
            phone = PhoneProcess(sipp.address, ports, phone_args, directory=directory, without=without).start()
            if during is not None:
                during(phone, rtp_sinks)
            phone_run = phone.finish(timeout + 10)
        finally:
            sipp_result = sipp.wait()
    finally:
        for sink in rtp_sinks:
            sink.close()
    return Exchange(sipp_result, phone_run, rtp_sinks)
