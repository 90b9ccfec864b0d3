"""Outbox drills: a message is sent at most once per intent, and none is lost.

1. SIGKILL: 1,000 text messages are queued; a real Celery worker (`hotline worker`) delivers
   them through the SMS gateway; it is killed with SIGKILL part-way and started again. Counted
   at the gateway: how many reached it once, twice, never; and what the outbox says of each.
2. Redis down: Redis is stopped, 100 orders are registered and dispatched through the API
   (each answers at once: the after-commit wake-up cannot reach the broker), Redis is started
   and the worker with its beat delivers; every message of those orders counted once.

Counted at the far end of a real Kannel (bearerbox + smsbox, Debian's `kannel`) whose SMS centre
is Kannel's fakesmsc (`kannel-extras`): what a phone would receive, concatenated parts joined. The
application is served on a socket in this process so Kannel's delivery reports come back to it.
`--gateway log` counts at the log sink instead (no Kannel needed).
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

TOKEN = "outbox-drill-gateway-token"
REDIS = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:56379/0").replace("/0", "/5")


class KannelGateway:
    """A real Kannel with fakesmsc; counts what the phones received, by text."""

    def __init__(self, folder: Path) -> None:
        from tests.hotline.sms.kannel import Kannel
        from tests.live_server import LiveServer
        self.folder, self.Kannel, self.LiveServer = folder, Kannel, LiveServer
        self.kannel = self.server = None

    def start(self, app) -> None:
        from tests.hotline.sms.kannel import PASSWORD, USERNAME
        self.server = self.LiveServer(app)
        self.server.start()
        self.kannel = self.Kannel.private(self.folder / "kannel", self.server.url, TOKEN)
        app.config.update(SMS_GATEWAY_TOKEN=TOKEN)
        self._env = {"SMS_GATEWAY": "kannel", "SMS_KANNEL_URL": self.kannel.sendsms_url,
                     "SMS_KANNEL_USERNAME": USERNAME, "SMS_KANNEL_PASSWORD": PASSWORD, "SMS_GATEWAY_TOKEN": TOKEN,
                     "SMS_KANNEL_DLR_URL": f"{self.server.url}/sms/kannel/dlr?key={TOKEN}"}

    def env(self) -> dict:
        return self._env

    def counts(self) -> collections.Counter:
        return collections.Counter(handset.text for handset in self.kannel.delivered())

    def stop(self) -> None:
        if self.kannel:
            self.kannel.stop()
        if self.server:
            self.server.stop()


class LogGateway:
    """The log sink: one JSON line per message handed over."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "sms.log"

    def start(self, app) -> None:
        pass

    def stop(self) -> None:
        pass

    def env(self) -> dict:
        return {"SMS_GATEWAY": "log", "SMS_LOG_PATH": str(self.path)}

    def counts(self) -> collections.Counter:
        if not self.path.exists():
            return collections.Counter()
        return collections.Counter(json.loads(line)["text"] for line in self.path.read_text().splitlines())


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


def reconcile(app, counts: collections.Counter, ids=None) -> dict:
    """Each SMS of the outbox against what reached the phones (the stored body is the text a phone shows)."""
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.messaging.models import Message, MessageChannel, MessageState
    with app.app_context():
        query = sa.select(Message.body, Message.state).where(Message.channel == MessageChannel.SMS)
        if ids is not None:
            query = query.where(Message.ticket_id.in_(ids))
        rows = db.session.execute(query).all()
        db.session.remove()
    arrived = [body for body, _state in rows if counts.get(body)]
    return {"messages": len(rows), "once": sum(1 for body in arrived if counts[body] == 1),
            "twice": sum(1 for body in arrived if counts[body] > 1),
            "never": sum(1 for body, _state in rows if not counts.get(body)),
            # lost: never reached a phone and the centre is not told (not failed)
            "lost": sum(1 for body, state in rows if not counts.get(body) and state is not MessageState.FAILED),
            "failed_but_arrived": sum(1 for body, state in rows if counts.get(body) and state is MessageState.FAILED)}


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
    parser.add_argument("--gateway", choices=("kannel", "log"), default="kannel")
    args = parser.parse_args()
    url = pg_url()
    folder = Path(tempfile.mkdtemp(prefix="outbox-drill-"))
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS, "CELERY_BROKER_URL": REDIS,
           "RATELIMIT_STORAGE_URI": "memory://", "MESSAGE_LEASE_SECONDS": "5"}
    os.environ.update(env)
    log("preparing the drill database (migrations, demo city)")
    ctx = prepare_schema(url)

    from hotline import create_app
    app = create_app({"MESSAGING_WAKE_AFTER_COMMIT": True})
    gateway = KannelGateway(folder) if args.gateway == "kannel" else LogGateway(folder)
    gateway.start(app)
    try:
        drill(args, app, ctx, env, folder, gateway)
    finally:
        gateway.stop()


def drill(args, app, ctx, env, folder, gateway) -> None:
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.messaging import operations
    from hotline.messaging.models import MessageChannel
    env.update(gateway.env())
    os.environ.update(gateway.env())
    log(f"the gateway: {args.gateway}" + (f" ({gateway.kannel.sendsms_url}, fakesmsc as the SMS centre)"
                                          if args.gateway == "kannel" else " (log sink)"))

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
    seen = reconcile(app, gateway.counts())
    log(f"   after restart: outbox empty in {took:.1f} s; at the phones: {seen['once']} once, {seen['twice']} twice "
        f"or more, {seen['never']} never (of {seen['messages']}); outbox: {dict(states(app))}")
    log(f"   caught mid-send and failed for the centre to review: {seen['failed_but_arrived']} of them had reached "
        f"the phone, {seen['never'] - seen['lost']} had not; lost without a word: {seen['lost']}")
    log(f"   at most once, nothing lost silently: {'YES' if seen['twice'] == 0 and seen['lost'] == 0 else 'NO'}")

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
    third = worker(env, folder, "drill3", beat=True)
    try:
        took = wait("the waiting messages to go out", lambda: states(app, ids).get("queued", 0) == 0, 180)
    finally:
        stop(third)
    seen = reconcile(app, gateway.counts(), ids)
    log(f"   after Redis came back, in {took:.1f} s: {seen['once']} of {seen['messages']} at the phones once, "
        f"{seen['twice']} twice, {seen['never']} never; outbox: {dict(states(app, ids))}")

if __name__ == "__main__":
    main()
