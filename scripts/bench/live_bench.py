"""How many live pages (server-sent event streams) one web process holds, and how fast an event reaches them.

The application (wsgi:app, LIVE_BACKEND=redis, SQLite in a temporary folder) is served by gunicorn in
two ways, in the same run:

1. the live process as the README sets it up: one gevent worker (`-k gevent --worker-connections`);
   N = 100, 500, 1000 pages are opened, each a different logged-in person, by a cheap client
   (asyncio raw sockets in this process); an event for all of them is published through Redis as
   the application publishes it, three times; the time from publishing to each page reading it
   (fan-out latency, p50 / p99 / max) and the worker's resident memory are printed;
2. the page servers' model (gunicorn gthread, 4 workers x 4 threads, the README's page servers): 100
   pages are opened; how many get a stream, how many hear the event, and whether an ordinary page
   (the login page) still answers while they are open.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

REDIS = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:56379/0")
CHANNEL = "hotline:live"
SEQ = re.compile(rb'"seq": (\d+), "sent": ([0-9.]+)')


def log(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(folder: Path, people: int) -> tuple[dict, list[str]]:
    """The database with `people` users; the environment of the servers and a session cookie per user."""
    env = {**os.environ, "HOTLINE_INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite'}",
           "SECRET_KEY": "live-bench", "LIVE_BACKEND": "redis", "LIVE_REDIS_URL": REDIS,
           "CELERY_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}", "REDIS_URL": ""}
    os.environ.update({k: v for k, v in env.items() if k != "REDIS_URL"})
    os.environ.pop("REDIS_URL", None)
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.auth.operations import create_user
    from hotline.extensions import db
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    cookies = []
    with app.app_context():
        upgrade()
        users = [create_user(f"live{n:05d}", "call_taker", "password-123") for n in range(people)]
        db.session.commit()
        with app.test_request_context():
            signer = app.session_interface.get_signing_serializer(app)
            cookies = [signer.dumps({"_user_id": u.get_id(), "_fresh": True}) for u in users]
        ids = [u.id for u in users]
    return env, list(zip(ids, cookies))


def serve(env: dict, folder: Path, port: int, args: list[str], name: str) -> subprocess.Popen:
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-b", f"127.0.0.1:{port}", "--backlog", "4096",
                             *args, "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=open(folder / f"{name}.log", "ab"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:       # the login page answers once the workers have loaded the application
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn ({name}) did not start; see {folder / f'{name}.log'}")


def workers_rss_mib(master: int) -> float:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


class Page:
    """One open page's stream, read with a raw socket."""

    def __init__(self, user_id: int, cookie: str) -> None:
        self.user_id, self.cookie = user_id, cookie
        self.connected = asyncio.Event()
        self.received: dict[int, float] = {}
        self.writer = None

    async def run(self, port: int) -> None:
        try:
            reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
            self.writer.write((f"GET /live/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                               f"Cookie: session={self.cookie}\r\n\r\n").encode())
            await self.writer.drain()
            buf = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                now = time.time()
                buf += data
                if not self.connected.is_set() and b"retry: 3000" in buf:
                    self.connected.set()
                for match in SEQ.finditer(buf):
                    self.received.setdefault(int(match.group(1)), now - float(match.group(2)))
                buf = buf[-200:]
        except (OSError, asyncio.CancelledError):
            return

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_pages(port: int, people: list[tuple[int, str]], wait: float) -> tuple[list[Page], list[asyncio.Task]]:
    pages = [Page(uid, cookie) for uid, cookie in people]
    tasks = []
    for n, page in enumerate(pages):
        tasks.append(asyncio.create_task(page.run(port)))
        if n % 50 == 49:
            await asyncio.sleep(0.05)        # open them as people would, not in one burst
    deadline = time.time() + wait
    while time.time() < deadline and not all(p.connected.is_set() for p in pages):
        await asyncio.sleep(0.1)
    return pages, tasks


async def publish_and_wait(pages: list[Page], seq: int, wait: float) -> None:
    import redis
    client = redis.Redis.from_url(REDIS)
    keys = [f"u:{p.user_id}" for p in pages]
    client.publish(CHANNEL, json.dumps({"keys": keys, "event": {"type": "bench", "seq": seq, "sent": time.time()}}))
    deadline = time.time() + wait
    listening = [p for p in pages if p.connected.is_set()]
    while time.time() < deadline and not all(seq in p.received for p in listening):
        await asyncio.sleep(0.01)
    client.close()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


async def page_answers(port: int, timeout: float) -> float | None:
    """Seconds the login page took to answer, or None if it did not within `timeout`."""
    started = time.time()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        writer.close()
        return time.time() - started if line.startswith(b"HTTP/1.1 200") else None
    except (asyncio.TimeoutError, OSError):
        return None


async def gevent_rounds(port: int, master: int, people: list[tuple[int, str]], sizes: list[int]) -> None:
    log(f"\n1. one gevent worker (gunicorn -k gevent -w 1 --worker-connections 4000); RSS at start "
        f"{workers_rss_mib(master):.0f} MiB")
    log(f"{'pages':>6} {'connected':>9} {'open in':>8} {'RSS MiB':>8} {'heard':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'login page':>10}")
    seq = 0
    for size in sizes:
        started = time.time()
        pages, tasks = await open_pages(port, people[:size], wait=120)
        opened = time.time() - started
        connected = sum(p.connected.is_set() for p in pages)
        await asyncio.sleep(1)
        rss = workers_rss_mib(master)
        latencies, heard = [], []
        for _ in range(3):
            seq += 1
            await publish_and_wait(pages, seq, wait=20)
            latencies += [p.received[seq] * 1000 for p in pages if seq in p.received]
            heard.append(sum(seq in p.received for p in pages))
        heard = min(heard)
        login = await page_answers(port, 5)
        log(f"{size:>6} {connected:>9} {opened:>7.1f}s {rss:>8.0f} {heard:>6} {pct(latencies, .5):>7.1f} "
            f"{pct(latencies, .99):>7.1f} {max(latencies, default=float('nan')):>7.1f} "
            f"{'%.0f ms' % (login * 1000) if login is not None else 'no answer':>10}")
        for p in pages:
            p.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(2)


async def gthread_round(port: int, master: int, people: list[tuple[int, str]], size: int) -> None:
    log("\n2. the page servers' model (gunicorn -k gthread -w 4 --threads 4)")
    pages, tasks = await open_pages(port, people[:size], wait=10)
    connected = sum(p.connected.is_set() for p in pages)
    await publish_and_wait(pages, 1, wait=5)
    heard = sum(1 in p.received for p in pages)
    login = await page_answers(port, 5)
    log(f"{size} pages opened: {connected} got a stream, {size - connected} wait for a free thread; {heard} heard the "
        f"event; RSS {workers_rss_mib(master):.0f} MiB in 4 workers; the login page meanwhile: "
        f"{'%.0f ms' % (login * 1000) if login is not None else 'no answer within 5 s'}")
    for p in pages:
        p.close()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,500,1000", help="pages opened in each gevent round")
    parser.add_argument("--sync-pages", type=int, default=100, help="pages opened against the gthread servers")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="hotline-live-bench-") as tmp:
        folder = Path(tmp)
        log(f"preparing {max(sizes + [args.sync_pages])} people (SQLite in {folder}, Redis at {REDIS})")
        env, people = prepare(folder, max(sizes + [args.sync_pages]))
        procs = []
        try:
            port = free_port()
            live = serve(env, folder, port, ["-k", "gevent", "-w", "1", "--worker-connections", "4000"], "gevent")
            procs.append(live)
            asyncio.run(gevent_rounds(port, live.pid, people, sizes))
            os.killpg(live.pid, signal.SIGTERM)
            live.wait(timeout=30)
            port = free_port()
            pages = serve(env, folder, port, ["-k", "gthread", "-w", "4", "--threads", "4"], "gthread")
            procs.append(pages)
            asyncio.run(gthread_round(port, pages.pid, people, args.sync_pages))
        finally:
            for proc in procs:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


if __name__ == "__main__":
    main()
