"""The phone under test, run in a subprocess by the pyVoIP regression tests.

    python -m tests.telephony.pyvoip.phone_under_test --server 127.0.0.1:5060 \
        --sip-port 5070 --rtp-ports 20000-20100 [--without cancel] answer --answer-delay 1

It installs the pyVoIP fixes (all, or all but those named by --without), registers,
handles calls as told and prints one JSON object per line for each thing that happens
(``{"event": "answered", ...}``), ending with ``{"event": "stopped"}``.
"""
from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import threading
import time
from dataclasses import asdict

from integrations.telephony.phone import Call, CallGone, Phone, RegistrationError, TelephonyError
from integrations.telephony.sip import fixes


_output = threading.Lock()


def emit(event: str, **fields: object) -> None:
    line = json.dumps({"event": event, "t": time.monotonic(), **fields}) + "\n"
    with _output:
        sys.stdout.write(line)
        sys.stdout.flush()


def tone(hz: float, seconds: float, amplitude: int = 8000) -> bytes:
    count = int(8000 * seconds)
    return struct.pack(f"<{count}h", *(int(amplitude * math.sin(2 * math.pi * hz * i / 8000)) for i in range(count)))


def report_end(call: Call) -> None:
    emit("ended", call_id=call.id, reason=call.end_reason, sip_status=call.sip_status, state=call.state.value,
         stats=asdict(call.stats()))


class Script:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.finished = threading.Semaphore(0)
        self.handlers = 0
        self.idle = threading.Condition()

    def incoming(self, call: Call) -> None:
        with self.idle:
            self.handlers += 1
        try:
            self.handle(call)
        finally:
            with self.idle:
                self.handlers -= 1
                self.idle.notify_all()

    def handle(self, call: Call) -> None:
        args = self.args
        emit("incoming", call_id=call.id, caller=call.caller, caller_name=call.caller_name, callee=call.callee,
             state=call.state.value)
        call.on_end(self.ended)
        time.sleep(args.answer_delay)
        try:
            call.answer()
        except (CallGone, TelephonyError) as err:
            emit("answer_failed", error=type(err).__name__, message=str(err), state=call.state.value)
            return
        emit("answered", call_id=call.id, codec=call.codec, answer_delay_ms=call.stats().answer_delay_ms)
        self.talk(call)

    def dial(self, phone: Phone) -> None:
        args = self.args
        call = phone.dial(args.number, caller_id=args.caller_id, timeout=args.dial_timeout)
        emit("dialling", call_id=call.id, state=call.state.value)
        call.on_end(self.ended)
        if not call.wait_answered(args.dial_timeout + 5):
            emit("not_answered", call_id=call.id, state=call.state.value, reason=call.end_reason,
                 sip_status=call.sip_status)
            return
        emit("answered", call_id=call.id, codec=call.codec)
        self.talk(call)

    def talk(self, call: Call) -> None:
        args = self.args
        playback = call.play(tone(args.tone, 1.0), loop=args.digits == 0, interrupt_on_digit=args.digits > 0)
        if args.digits:
            digits = "".join(d for d in (call.read_digit(args.digit_timeout) for _ in range(args.digits)) if d)
            emit("digits", call_id=call.id, digits=digits, prompt_interrupted=playback.done.is_set())
        if args.hangup_after is not None:
            call.wait_ended(args.hangup_after)
            call.hangup()

    def ended(self, call: Call) -> None:
        report_end(call)
        self.finished.release()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="host:port of the registrar/proxy")
    parser.add_argument("--sip-port", type=int, required=True)
    parser.add_argument("--rtp-ports", required=True, help="low-high")
    parser.add_argument("--user", default="1000")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--without", action="append", default=[], help="leave this pyVoIP fix out")
    parser.add_argument("--calls", type=int, default=1, help="calls to see end before stopping")
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--tone", type=float, default=1000.0, help="what answered calls play (Hz)")
    parser.add_argument("--digits", type=int, default=0, help="digits to read while a prompt plays")
    parser.add_argument("--digit-timeout", type=float, default=5.0)
    parser.add_argument("--hangup-after", type=float, help="hang up this long after answering")
    sub = parser.add_subparsers(dest="action", required=True)
    answer = sub.add_parser("answer")
    answer.add_argument("--answer-delay", type=float, default=0.0)
    dial = sub.add_parser("dial")
    dial.add_argument("number")
    dial.add_argument("--caller-id")
    dial.add_argument("--dial-timeout", type=float, default=10.0)
    args = parser.parse_args()
    args.answer_delay = getattr(args, "answer_delay", 0.0)

    fixes.install(without=args.without)
    emit("fixes", installed=sorted(fixes.installed() or ()))
    host, port = args.server.rsplit(":", 1)
    low, high = (int(p) for p in args.rtp_ports.split("-"))
    script = Script(args)
    phone = Phone(server=host, port=int(port), username=args.user, password=args.password, local_ip="127.0.0.1",
                  sip_port=args.sip_port, rtp_ports=(low, high), on_incoming=script.incoming)
    try:
        phone.start(timeout=5.0)
    except RegistrationError as err:
        emit("register_failed", message=str(err))
        return 2
    emit("registered")
    if args.action == "dial":
        threading.Thread(target=script.dial, args=(phone,), daemon=True).start()
    deadline = time.monotonic() + args.max_seconds
    for _ in range(args.calls):
        if not script.finished.acquire(timeout=max(0.0, deadline - time.monotonic())):
            emit("timeout", calls=[{"call_id": c.id, "state": c.state.value} for c in phone.calls])
            break
    with script.idle:
        script.idle.wait_for(lambda: script.handlers == 0, max(0.0, deadline - time.monotonic()))
    phone.stop()
    emit("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
