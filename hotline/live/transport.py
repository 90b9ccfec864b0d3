"""How a live event reaches the open pages: one small interface, two transports.

`publish(keys, event)` hands a small JSON-able dict to every page subscribed under one of the
keys ("u:<user id>" for a person's own notices, "d:<department id>" and "board" for lists that
changed); `subscribe(keys, heartbeat)` is what one open page's stream reads: an iterator that
yields the events, and None after `heartbeat` seconds of silence (the stream writes a heartbeat
then), until it is closed.

- `LocalTransport`: an in-process hub (a bounded queue per subscriber, thread-safe); publish
  and subscribe must happen in the same process. The embedded default (`scripts/run`: one web
  process, no Redis); notices written by other processes (the Celery worker's sweep) are found
  by `hotline.live.tail`.
- `RedisTransport`: Redis pub/sub between processes. Each process keeps ONE subscription (a
  listener thread) and fans out to its own pages through the same hub, so a thousand open pages
  are a thousand queues, not a thousand Redis connections. Publishing goes through a sender
  thread: with Redis down a request never waits for it (live events are then lost, and pages
  catch up when they reconnect; the notices themselves are rows and stay).

Under gunicorn's gevent worker the threads and queues here are monkey-patched into greenlets.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator

log = logging.getLogger(__name__)

#: Events one subscriber may have waiting; a page that reads slower than that is told to resync.
BACKLOG = 100
#: Sent to a subscriber whose events were dropped (its backlog overflowed, Redis reconnected):
#: the page fetches the current state instead of trusting what it missed.
RESYNC = {"type": "resync"}


def user_key(user_id: int) -> str:
    return f"u:{user_id}"


class Subscription:
    """One open page's feed: iterate for events (None = heartbeat due); close when the page goes."""

    def __init__(self, hub: "Hub", keys: tuple[str, ...], heartbeat: float) -> None:
        self.hub, self.keys, self.heartbeat = hub, keys, heartbeat
        self.queue: queue.Queue = queue.Queue(maxsize=BACKLOG)
        self.closed = False

    def offer(self, event: dict) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:                 # a stalled reader: drop its backlog, tell it to resync
            while True:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    break
            self.queue.put_nowait(RESYNC)

    def next(self, timeout: float | None = None) -> dict | None:
        """The next event, or None when none came within `timeout` (the heartbeat by default)."""
        try:
            return self.queue.get(timeout=self.heartbeat if timeout is None else timeout)
        except queue.Empty:
            return None

    def __iter__(self) -> Iterator[dict | None]:
        while not self.closed:
            yield self.next()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub.remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Hub:
    """The subscribers of one process, by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, set[Subscription]] = {}

    def add(self, keys: Iterable[str], heartbeat: float) -> Subscription:
        sub = Subscription(self, tuple(keys), heartbeat)
        with self._lock:
            for key in sub.keys:
                self._by_key.setdefault(key, set()).add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            for key in sub.keys:
                subs = self._by_key.get(key)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._by_key[key]

    def listening(self, key: str) -> bool:
        with self._lock:
            return key in self._by_key

    def listened_users(self) -> set[int]:
        with self._lock:
            return {int(key[2:]) for key in self._by_key if key.startswith("u:")}

    def deliver(self, keys: Iterable[str], event: dict) -> int:
        """Offer `event` to every subscriber of any of `keys` (once each); how many got it."""
        with self._lock:
            targets = set().union(*(self._by_key.get(key, ()) for key in keys))
        for sub in targets:
            sub.offer(event)
        return len(targets)

    def deliver_all(self, event: dict) -> None:
        with self._lock:
            targets = set().union(*self._by_key.values()) if self._by_key else set()
        for sub in targets:
            sub.offer(event)

    def count(self) -> int:
        with self._lock:
            return len(set().union(*self._by_key.values())) if self._by_key else 0


class LocalTransport:
    """Publish and subscribe inside one process."""

    name = "local"

    def __init__(self) -> None:
        self.hub = Hub()

    def publish(self, keys: Iterable[str], event: dict) -> None:
        self.hub.deliver(list(keys), event)

    def publish_users(self, user_ids: Iterable[int], event: dict) -> None:
        self.publish([user_key(u) for u in user_ids], event)

    def wants(self, key: str) -> bool:
        """Is anybody here listening under `key` (else there is no point building the event)?"""
        return self.hub.listening(key)

    def subscribe(self, keys: Iterable[str], heartbeat: float = 15.0) -> Subscription:
        return self.hub.add(keys, heartbeat)

    def close(self) -> None:
        pass


class RedisTransport(LocalTransport):
    """Publish through Redis to every process; each process fans out to its own subscribers."""

    name = "redis"
    CHANNEL = "hotline:live"

    def __init__(self, url: str, channel: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.channel = channel or self.CHANNEL
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._outbox: queue.Queue = queue.Queue(maxsize=10000)
        self._listening = threading.Event()
        self._stopped = False

    def _client(self):
        import redis
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=None,
                                    health_check_interval=30)

    def _start(self) -> None:
        """The sender and listener threads of this process (a forked process starts its own)."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._outbox = queue.Queue(maxsize=10000)
            self._listening = threading.Event()
            for target, name in ((self._send_loop, "live-redis-sender"), (self._listen_loop, "live-redis-listener")):
                threading.Thread(target=target, name=name, daemon=True).start()

    def publish(self, keys: Iterable[str], event: dict) -> None:
        self._start()
        try:
            self._outbox.put_nowait(json.dumps({"keys": list(keys), "event": event}, ensure_ascii=False))
        except queue.Full:
            log.warning("live events are not reaching Redis; dropping one (pages resync when they reconnect)")

    def wants(self, key: str) -> bool:
        return True       # the subscribers are in other processes: always publish

    def subscribe(self, keys: Iterable[str], heartbeat: float = 15.0) -> Subscription:
        self._start()
        sub = self.hub.add(keys, heartbeat)
        self._listening.wait(timeout=5)      # the first page of a process waits for the subscription
        return sub

    def close(self) -> None:
        self._stopped = True

    def _send_loop(self) -> None:
        client = self._client()
        while not self._stopped:
            payload = self._outbox.get()
            try:
                client.publish(self.channel, payload)
            except Exception as err:  # noqa: BLE001  (Redis down: the notice is a row; only the nudge is lost)
                log.warning("could not publish a live event to Redis (%s)", err)

    def _listen_loop(self) -> None:
        failures = 0
        while not self._stopped:
            pubsub = None
            try:
                pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=5)          # the subscription's confirmation
                if failures:
                    self.hub.deliver_all(RESYNC)       # events may have passed while we were away
                failures = 0
                self._listening.set()
                while not self._stopped:
                    message = pubsub.get_message(timeout=30)
                    if message and message.get("type") == "message":
                        self._dispatch(message["data"])
            except Exception as err:  # noqa: BLE001
                failures += 1
                self._listening.clear()
                log.warning("live events: Redis subscription lost (%s); retrying", err)
                time.sleep(min(10.0, 0.5 * failures))
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass

    def _dispatch(self, data: bytes | str) -> None:
        try:
            payload = json.loads(data)
            self.hub.deliver(payload["keys"], payload["event"])
        except (ValueError, KeyError, TypeError) as err:
            log.warning("ignoring a malformed live event (%s)", err)


def transport_for(config: dict) -> LocalTransport:
    """The transport the configuration names (LIVE_BACKEND: local or redis)."""
    if config.get("LIVE_BACKEND") == "redis":
        return RedisTransport(config["LIVE_REDIS_URL"])
    return LocalTransport()
