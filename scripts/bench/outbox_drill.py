"""Outbox drills: a message is sent at most once per intent, and none is lost.

1. SIGKILL: 1,000 text messages are queued; a real Celery worker (`hotline worker`) delivers
   them through the SMS gateway; it is killed with SIGKILL part-way and started again. Counted
   at the gateway: how many reached it once, twice, never; and what the outbox says of each.
2. Redis down: Redis is stopped, 100 orders are registered and dispatched through the API
   (each answers at once: the after-commit wake-up cannot reach the broker), Redis is started
   and the worker with its beat delivers; every message of those orders counted once.

The gateway is the log sink (a line per message handed over to it).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from api_bench import log, pg_url, prepare_schema  # noqa: E402

REDIS = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:56379/0").replace("/0", "/5")


class LogGateway:
    """The log sink: one JSON line per message handed over."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "sms.log"

    def env(self) -> dict:
        return {"SMS_GATEWAY": "log", "SMS_LOG_PATH": str(self.path)}

    def counts(self) -> collections.Counter:
        if not self.path.exists():
            return collections.Counter()
        return collections.Counter(json.loads(line)["message_id"] for line in self.path.read_text().splitlines())


def worker(env: dict, folder: Path, name: str, beat: bool = False) -> subprocess.Popen:
    args = [str(ROOT / ".venv/bin/hotline"), "worker", "--pool=solo", "--without-gossip", "--without-mingle",
            f"--hostname={name}@%h"] + (["-B", f"--schedule={folder / 'beat-schedule'}"] if beat else [])
    return subprocess.Popen(args, env=env, stdout=open(folder / f"{name}.log", "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    proc.wait(30)


def states(app, ids=None) -> collections.Counter:
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.messaging.models import Message, MessageChannel
    with app.app_context():
        query = sa.select(Message.state, sa.func.count()).where(Message.channel == MessageChannel.SMS)
        if ids is not None:
            query = query.where(Message.ticket_id.in_(ids))
        found = collections.Counter({s.value: n for s, n in db.session.execute(query.group_by(Message.state))})
        db.session.remove()
        return found


def wait(what: str, predicate, timeout: float) -> float:
    t0 = time.perf_counter()
    while not predicate():
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"drill failed: {what} did not happen within {timeout:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--kill-after", type=int, default=300, help="SIGKILL once this many reached the gateway")
    args = parser.parse_args()
    url = pg_url()
    folder = Path(tempfile.mkdtemp(prefix="outbox-drill-"))
    gateway = LogGateway(folder)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS, "CELERY_BROKER_URL": REDIS,
           "RATELIMIT_STORAGE_URI": "memory://", "MESSAGE_LEASE_SECONDS": "5", **gateway.env()}
    os.environ.update(env)
    log("preparing the drill database (migrations, demo city)")
    ctx = prepare_schema(url)

    import sqlalchemy as sa
    from hotline import create_app
    from hotline.extensions import db
    from hotline.messaging import operations
    from hotline.messaging.models import MessageChannel
    app = create_app({"MESSAGING_WAKE_AFTER_COMMIT": True})

    # -- 1. SIGKILL in the middle of 1,000 -----------------------------------------------------------
    with app.app_context():
        rows = [operations.message_values(intent=f"drill:{i}", channel=MessageChannel.SMS, template="urge",
                                          params={"number": f"D{i:07d}", "title": "演练", "due": "2026-12-05 09:00"},
                                          address=f"139{i:08d}") for i in range(args.messages)]
        operations.queue_messages(rows)
        db.session.commit()
    first = worker(env, folder, "drill1")
    with app.app_context():
        app.extensions["celery"].send_task("messaging.deliver_due")
    wait(f"{args.kill_after} messages at the gateway", lambda: sum(gateway.counts().values()) >= args.kill_after, 120)
    stop(first, signal.SIGKILL)
    at_kill = sum(gateway.counts().values())
    log(f"1. worker SIGKILLed with {at_kill} of {args.messages} messages at the gateway; started again")
    second = worker(env, folder, "drill2", beat=True)
    try:
        took = wait("the outbox to empty", lambda: states(app).get("queued", 0) == 0
                    and states(app).get("sending", 0) == 0, 300)
    finally:
        stop(second)
    counts = gateway.counts()
    twice = sum(1 for n in counts.values() if n > 1)
    never = args.messages - len(counts)
    outbox = states(app)
    log(f"   after restart: outbox empty in {took:.1f} s; at the gateway: {len(counts)} once or more, "
        f"{twice} twice or more, {never} never; outbox: {dict(outbox)}")
    log(f"   exactly once: {'YES' if twice == 0 and never == outbox.get('failed', 0) else 'NO'} "
        f"(a message caught mid-send is failed for the centre, never sent again blindly)")

    # -- 2. Redis down while orders are dispatched ---------------------------------------------------
    subprocess.run([str(ROOT / "scripts/services"), "stop", "redis"], check=True, capture_output=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ctx['tokens']['calltaker']}"}
    with app.app_context():
        from hotline.auth.models import User
        handler = db.session.scalar(sa.select(User).where(User.username == "handler"))
        handler.mobile, handler.wants_sms = "13900000000", True     # the handler wants texts
        db.session.commit()
        db.session.remove()
    numbers, slowest = [], 0.0
    try:
        for i in range(args.orders):
            t0 = time.perf_counter()
            resp = client.post("/api/v1/tickets", headers=headers, json={
                # urgent: its text messages go at once, at night too (a routine one waits for 08:00)
                "type": "complaint", "channel": "phone", "subject": f"演练工单 {i}", "urgency": "urgent",
                "content": "Redis 停止期间登记并派单。", "citizen": {"phone": f"1380000{i:04d}", "name": "演练"}})
            assert resp.status_code == 201, resp.get_json()
            number = resp.get_json()["number"]
            resp = client.post(f"/api/v1/tickets/{number}/dispatch", headers=headers,
                               json={"department": ctx["handler_dept"]})
            assert resp.status_code == 200, resp.get_json()
            slowest = max(slowest, time.perf_counter() - t0)
            numbers.append(number)
    finally:
        subprocess.run([str(ROOT / "scripts/services"), "start", "redis"], check=True, capture_output=True)
    with app.app_context():
        from hotline.tickets.models import Ticket
        ids = list(db.session.scalars(sa.select(Ticket.id).where(Ticket.number.in_(numbers))))
        db.session.remove()
    waiting = states(app, ids)
    log(f"2. Redis stopped: {len(numbers)} orders registered and dispatched (slowest register+dispatch "
        f"{slowest * 1000:.0f} ms); their text messages waiting: {dict(waiting)}; Redis started")
    before = gateway.counts()
    third = worker(env, folder, "drill3", beat=True)
    try:
        took = wait("the waiting messages to go out", lambda: states(app, ids).get("queued", 0) == 0, 180)
    finally:
        stop(third)
    after = gateway.counts()
    new = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    log(f"   delivered {len(new)} of {sum(waiting.values())} in {took:.1f} s after Redis came back; "
        f"sent twice: {sum(1 for n in new.values() if n > 1)}; outbox: {dict(states(app, ids))}")


if __name__ == "__main__":
    main()
