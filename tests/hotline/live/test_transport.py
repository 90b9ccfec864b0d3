"""The live transports: an event published for a person reaches that person's open pages only."""
from __future__ import annotations

import os
import threading
import uuid

import pytest

from hotline.live.transport import RESYNC, LocalTransport, RedisTransport, user_key


@pytest.fixture
def redis_url():
    url = os.environ.get("HOTLINE_TEST_REDIS_URL")
    if not url:
        pytest.fail("Redis is not available: HOTLINE_TEST_REDIS_URL is unset. Run the tests through scripts/test, "
                    "which starts Redis on 127.0.0.1.", pytrace=False)
    return url


def _pair(kind: str, redis_url_factory):
    """(publisher, subscriber side): one process for local, two "processes" sharing Redis for redis."""
    if kind == "local":
        live = LocalTransport()
        return live, live
    channel = f"hotline:live:test:{uuid.uuid4().hex}"
    url = redis_url_factory()
    return RedisTransport(url, channel), RedisTransport(url, channel)


@pytest.fixture(params=["local", "redis"])
def pair(request):
    publisher, pages = _pair(request.param, lambda: request.getfixturevalue("redis_url"))
    yield publisher, pages
    publisher.close()
    pages.close()


def test_an_event_reaches_the_persons_pages_and_nobody_elses(pair):
    publisher, pages = pair
    mine_a = pages.subscribe([user_key(1)], heartbeat=5)
    mine_b = pages.subscribe([user_key(1)], heartbeat=5)      # the same person in a second tab
    theirs = pages.subscribe([user_key(2)], heartbeat=5)
    publisher.publish_users([1], {"type": "notice", "count": 3})
    assert mine_a.next() == {"type": "notice", "count": 3}
    assert mine_b.next() == {"type": "notice", "count": 3}
    publisher.publish_users([2], {"type": "notice", "count": 1})
    assert theirs.next() == {"type": "notice", "count": 1}     # the first thing person 2 hears is their own
    assert mine_a.next(timeout=0.2) is None                    # person 1 heard nothing of it


def test_list_keys_and_closing(pair):
    publisher, pages = pair
    inbox = pages.subscribe([user_key(7), "d:3"], heartbeat=5)
    board = pages.subscribe([user_key(8), "board"], heartbeat=5)
    publisher.publish(["d:3", "board"], {"type": "changed"})
    assert inbox.next() == {"type": "changed"}
    assert board.next() == {"type": "changed"}
    inbox.close()
    assert not pages.hub.listening("d:3")
    publisher.publish(["board"], {"type": "changed", "n": 2})
    assert board.next() == {"type": "changed", "n": 2}


def test_a_quiet_stream_yields_heartbeats():
    live = LocalTransport()
    with live.subscribe([user_key(1)], heartbeat=0.01) as sub:
        feed = iter(sub)
        assert next(feed) is None             # nothing came: time for a heartbeat
        live.publish_users([1], {"type": "notice"})
        assert next(feed) == {"type": "notice"}
    assert not live.wants(user_key(1))


def test_a_reader_that_falls_behind_is_told_to_resync():
    live = LocalTransport()
    sub = live.subscribe([user_key(1)])
    for n in range(150):
        live.publish_users([1], {"type": "notice", "count": n})
    events = []
    while (event := sub.next(timeout=0)) is not None:
        events.append(event)
    assert RESYNC in events and events[-1] == {"type": "notice", "count": 149}


def test_subscribers_in_many_threads():
    live = LocalTransport()
    subs = [live.subscribe([user_key(n % 10)]) for n in range(100)]
    threads = [threading.Thread(target=live.publish_users, args=([n], {"type": "notice", "user": n}))
               for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(sub.next(timeout=1) == {"type": "notice", "user": n % 10} for n, sub in enumerate(subs))


def test_the_configuration_names_a_transport_that_can_work():
    from hotline.config import ConfigError, from_environment, validate
    config = from_environment()
    for backend, url, problem in (("kafka", None, "LIVE_BACKEND must be"), ("redis", None, "needs a Redis URL")):
        with pytest.raises(ConfigError, match=problem):
            validate({**config, "LIVE_BACKEND": backend, "LIVE_REDIS_URL": url})
    validate({**config, "LIVE_BACKEND": "redis", "LIVE_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert isinstance(RedisTransport("redis://x"), LocalTransport)
