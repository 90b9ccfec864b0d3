"""A real Kannel for the tests: bearerbox and smsbox from Debian's `kannel`, and fakesmsc (from
`kannel-extras`) as the SMS centre's far end: it prints every message Kannel hands the network
and sends what a citizen's phone would (typed into its standard input).

The tests use the one `scripts/services start kannel` runs (scripts/test starts it), calling the
application back on HOTLINE_TEST_SMS_APP_PORT; if it is not running, the test using it fails and
says so, with the last lines of its logs. The outbox drill (scripts/bench/outbox) starts a private
one of its own from the same configuration (`Kannel.private`).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

BEARERBOX, SMSBOX, FAKESMSC = "/usr/sbin/bearerbox", "/usr/sbin/smsbox", "/usr/lib/kannel/test/fakesmsc"
HOTLINE_NUMBER = "12345"
USERNAME, PASSWORD = "hotline", "kannel-test-password"

CONFIG = Path(__file__).with_name("kannel.conf.in")

_GOT = re.compile(r"Got message \d+: <(.*)>$")


def _bytes(field: str) -> bytes:
    """fakesmsc's url-encoding: "+" is a space (a plus sign is %2B)."""
    return urllib.parse.unquote_to_bytes(field.replace("+", " "))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@dataclass
class Handset:
    """A message as the network delivered it to a phone (concatenated parts joined)."""

    sender: str
    receiver: str
    text: str
    parts: int


class Kannel:
    """A running Kannel: where to send, where the phones' side reads and writes."""

    def __init__(self, root: Path, sendsms_url: str, phones_in: Path | None = None) -> None:
        self.root, self.sendsms_url, self.phones_in = root, sendsms_url, phones_in
        self._procs: list[subprocess.Popen] = []
        self._fake: subprocess.Popen | None = None
        self._files: list = []
        self._seen = 0          # fakesmsc's log before this point belongs to earlier tests

    @classmethod
    def service(cls) -> "Kannel":
        """The Kannel `scripts/services start kannel` runs (its settings from `scripts/services env`)."""
        root, url = os.environ.get("HOTLINE_TEST_KANNEL_DIR"), os.environ.get("HOTLINE_TEST_KANNEL_SENDSMS")
        if not root or not url:
            pytest.fail("Kannel's settings are not in the environment (HOTLINE_TEST_KANNEL_DIR, "
                        "HOTLINE_TEST_KANNEL_SENDSMS): run the tests with scripts/test, or "
                        "eval \"$(scripts/services env)\" after scripts/services start kannel", pytrace=False)
        kannel = cls(Path(root), url, Path(root) / "fakesmsc.in")
        down = [part for part in ("bearerbox", "smsbox", "fakesmsc") if not kannel._running(part)]
        if down:
            tails = "\n".join(f"{name}: " + " | ".join(kannel._log(name).splitlines()[-3:])
                              for name in ("bearerbox.log", "smsbox.log", "fakesmsc.log"))
            pytest.fail(f"Kannel is not running ({', '.join(down)} down in {root}): scripts/services start kannel "
                        f"starts it and says why it cannot; last lines of its logs:\n{tails}", pytrace=False)
        kannel.forget_delivered()
        return kannel

    @classmethod
    def private(cls, root: Path, app_url: str, token: str) -> "Kannel":
        """A Kannel of our own on free ports, calling back `app_url` (the outbox drill's)."""
        for binary, package in ((BEARERBOX, "kannel"), (SMSBOX, "kannel"), (FAKESMSC, "kannel-extras")):
            if not Path(binary).exists():
                pytest.fail(f"Kannel cannot run: {binary} is missing (Debian package {package}; scripts/test "
                            f"installs it)", pytrace=False)
        ports = {name: _free_port() for name in ("admin", "smsbox", "fake", "sendsms")}
        root.mkdir(parents=True, exist_ok=True)
        (root / "kannel.conf").write_text(CONFIG.read_text().format(
            root=root, app_url=app_url, token=token, username=USERNAME, password=PASSWORD, **ports))
        kannel = cls(root, f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms")
        kannel.ports = ports
        return kannel.start()

    def _running(self, part: str) -> bool:
        try:
            os.kill(int((self.root / f"{part}.pid").read_text().strip()), 0)
        except (OSError, ValueError):
            return False
        return True

    def forget_delivered(self) -> None:
        """From here on, `delivered()` shows only what the network delivers after this point."""
        path = self.root / "fakesmsc.log"
        self._seen = path.stat().st_size if path.exists() else 0

    def _start(self, name: str, argv: list[str], port: int, log: str, **kwargs) -> subprocess.Popen:
        out = open(self.root / f"{name}.out", "wb")
        self._files.append(out)
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **kwargs)
        self._procs.append(proc)
        if not _wait_port(port, 20) or proc.poll() is not None:
            self.stop()
            tail = "\n".join(((self.root / log).read_text(errors="replace") if (self.root / log).exists()
                              else (self.root / f"{name}.out").read_text(errors="replace")).splitlines()[-15:])
            pytest.fail(f"Kannel's {name} did not start (port {port}); last lines of its log:\n{tail}", pytrace=False)
        return proc

    def start(self) -> "Kannel":
        conf = str(self.root / "kannel.conf")
        self._start("bearerbox", [BEARERBOX, conf], self.ports["admin"], "bearerbox.log")
        self._start("smsbox", [SMSBOX, conf], self.ports["sendsms"], "smsbox.log")
        # the SMS centre's far end: messages to phones appear in its log, messages from phones go in on stdin
        log = open(self.root / "fakesmsc.log", "wb")
        self._files.append(log)
        self._fake = subprocess.Popen([FAKESMSC, "-H", "127.0.0.1", "-r", str(self.ports["fake"]), "-v", "0"],
                                      stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
        self._procs.append(self._fake)
        deadline = time.monotonic() + 20
        while "Fakesmsc client connected" not in self._log("bearerbox.log"):
            if time.monotonic() > deadline or self._fake.poll() is not None:
                self.stop()
                pytest.fail("Kannel's fake SMS centre (fakesmsc) did not connect to bearerbox:\n"
                            + "\n".join(self._log("fakesmsc.log").splitlines()[-10:]), pytrace=False)
            time.sleep(0.1)
        return self

    def _log(self, name: str, since: int = 0) -> str:
        path = self.root / name
        if not path.exists():
            return ""
        with path.open("rb") as file:
            file.seek(since)
            return file.read().decode(errors="replace")

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._procs.clear()
        if self._fake is not None and self._fake.stdin:
            self._fake.stdin.close()
        for file in self._files:
            file.close()
        self._files.clear()

    # -- the citizen's side ----------------------------------------------------------------

    def text_from_phone(self, sender: str, text: str) -> None:
        """A citizen's phone sends `text` to the hotline's number (UCS-2, as phones send Chinese)."""
        payload = urllib.parse.quote(text.encode("utf-16-be"))
        line = f"{sender} {HOTLINE_NUMBER} ucs2 {payload}\n".encode()
        if self.phones_in is not None:          # the service's fakesmsc reads a FIFO
            with self.phones_in.open("wb") as fifo:
                fifo.write(line)
        else:
            self._fake.stdin.write(line)
            self._fake.stdin.flush()

    def delivered(self) -> list[Handset]:
        """Every message the network delivered so far, concatenated parts joined as a phone shows them."""
        out: list[Handset] = []
        pending: dict[tuple, dict[int, str]] = {}
        for line in self._log("fakesmsc.log", self._seen).splitlines():
            found = _GOT.search(line)
            if not found:
                continue
            fields = found.group(1).split(" ")
            sender, receiver, kind = fields[0], fields[1], fields[2]
            if kind == "udh":     # sender receiver udh <udh> data <ucs-2 bytes>
                udh = _bytes(fields[3])
                text = _bytes(fields[5]).decode("utf-16-be")
                ref, total, seq = udh[3], udh[4], udh[5]
                parts = pending.setdefault((sender, receiver, ref, total), {})
                parts[seq] = text
                if len(parts) == total:
                    out.append(Handset(sender, receiver, "".join(parts[i] for i in sorted(parts)), total))
                    del pending[(sender, receiver, ref, total)]
            elif kind in ("ucs-2", "ucs2"):
                out.append(Handset(sender, receiver, _bytes(fields[3]).decode("utf-16-be"), 1))
            elif kind == "data":
                out.append(Handset(sender, receiver, _bytes(fields[3]).decode("latin-1"), 1))
            else:
                out.append(Handset(sender, receiver, " ".join(fields[3:]), 1))
        return out

    def wait_for(self, predicate, seconds: float = 15.0, what: str = "the expected messages"):
        deadline = time.monotonic() + seconds
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"Kannel: no {what} within {seconds:.0f} s; the phones got "
                                     f"{self.delivered()!r}")
            time.sleep(0.1)
