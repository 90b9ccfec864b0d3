"""The outbox: queued once per intent, delivered after commit, retried with pauses, failed for the centre
to see and send again, never sent twice by a retry."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.config import ConfigError
from hotline.extensions import db
from hotline.messaging import operations, queries
from hotline.messaging.models import Message, MessageChannel, MessageState
from hotline.messaging.tasks import deliver_due
from hotline.tickets.models import Ticket
from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (the logged-in page client)


@pytest.fixture
def sms_log(app, tmp_path):
    """The SMS log sink's file for this test (the embedded default's SMS gateway)."""
    path = tmp_path / "sms.log"
    app.config["SMS_LOG_PATH"] = str(path)
    app.extensions.pop("message_channels", None)
    yield path
    app.extensions.pop("message_channels", None)


def break_gateway(app, tmp_path) -> None:
    """The SMS gateway cannot take anything: its log goes where a file stands in the way of a folder."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the gateway needs a folder")
    app.config["SMS_LOG_PATH"] = str(blocker / "sms.log")
    app.extensions.pop("message_channels", None)


def sent_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def urge_sms(world, ticket_id=None, intent="urge:a1:2026-06-16", urgent=False):
    handler = world.users["handler"]
    return operations.queue_message(intent=intent, channel=MessageChannel.SMS, template="urge",
                                    params={"number": "20260615000001", "title": "幸福路占道经营",
                                            "due": "2026-06-16 10:00"},
                                    recipient=handler, address="13900000001", ticket_id=ticket_id, urgent=urgent)


def test_one_intent_is_one_message_sent_once(world, clock, sms_log):
    first = urge_sms(world)
    assert first is not None and first.state is MessageState.QUEUED
    assert urge_sms(world) is None                      # the same intent again: nothing new
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1
    assert first.body == "【12345】催办：工单20260615000001（幸福路占道经营）已于2026-06-16 10:00到期，请立即办理。"

    assert deliver_due() == 1
    assert deliver_due() == 0                           # a second pass sends nothing again
    lines = sent_lines(sms_log)
    assert [(line["to"], line["text"]) for line in lines] == [("13900000001", first.body)]
    assert "NOT SENT" in lines[0]["note"]               # the log sink says it is one
    message = db.session.get(Message, first.id)
    assert message.state is MessageState.DELIVERED and message.attempts == 1 and message.sent_at == clock.now


def test_a_message_whose_change_rolled_back_is_never_sent(world, sms_log):
    urge_sms(world)
    db.session.rollback()
    assert deliver_due() == 0 and sent_lines(sms_log) == []


def test_a_gateway_that_fails_is_retried_with_pauses_then_the_message_fails_for_the_centre(
        app, world, clock, tmp_path, sms_log, monkeypatch):
    break_gateway(app, tmp_path)
    monkeypatch.setitem(app.config, "MESSAGE_MAX_ATTEMPTS", 3)
    message_id = urge_sms(world).id
    db.session.commit()

    assert deliver_due() == 1
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.QUEUED and message.attempts == 1
    assert message.next_attempt_at == clock.now + timedelta(seconds=30) and "not-a-folder" in message.last_error
    assert deliver_due() == 0                           # not before its pause is over
    clock.advance(seconds=30)
    assert deliver_due() == 1
    assert db.session.get(Message, message_id).next_attempt_at == clock.now + timedelta(minutes=2)
    clock.advance(minutes=2)
    assert deliver_due() == 1
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.FAILED and message.attempts == 3 and message.failed_at == clock.now
    clock.advance(hours=5)
    assert deliver_due() == 0                           # failed for good: no more tries on its own
    assert queries.counts()["failed"] == 1


def test_a_sender_that_died_mid_send_does_not_send_that_message_again_and_the_others_go(world, clock, sms_log):
    ids = [urge_sms(world, intent=f"urge:{n}").id for n in range(3)]
    db.session.commit()
    assert operations.claim(ids[0]) is not None        # a worker took the first ...
    db.session.commit()                                # ... and was killed while sending it
    assert deliver_due() == 2                          # the others are not held up by it
    assert [line["message_id"] for line in sent_lines(sms_log)] == ids[1:]
    clock.advance(minutes=3)                           # its lease is over: it may have gone out
    assert deliver_due() == 0
    message = db.session.get(Message, ids[0])
    assert message.state is MessageState.FAILED and "may have gone out" in message.last_error
    assert len(sent_lines(sms_log)) == 2


def test_an_attempt_that_ends_after_its_message_was_failed_does_not_overwrite_it(world, clock, sms_log):
    message_id = urge_sms(world).id
    db.session.commit()
    slow = operations.claim(message_id)                 # a worker takes it and hangs in the gateway ...
    db.session.commit()
    clock.advance(minutes=3)
    operations.fail_interrupted()                      # ... long enough to be failed for review
    db.session.commit()
    from integrations.messaging import Receipt
    assert operations.record_sent(slow, Receipt("late", delivered=True)) is False
    db.session.commit()
    assert db.session.get(Message, message_id).state is MessageState.FAILED


@pytest.mark.parametrize("delivered", [True, False], ids=["delivered", "undelivered"])
def test_a_delivery_report_that_overtakes_the_gateways_acceptance_is_kept(world, clock, sms_log, delivered):
    """A fast network: the phone's report reaches us before the worker has written that the gateway took it."""
    from integrations.messaging import Receipt
    message_id = urge_sms(world).id
    db.session.commit()
    sending = operations.claim(message_id)
    db.session.commit()
    report_time = clock.now
    assert operations.record_delivery_report("kannel-x", delivered, "the phone is off", message_id=message_id)
    db.session.commit()
    clock.advance(seconds=2)
    assert operations.record_sent(sending, Receipt("kannel-x")) is True
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.provider_id == "kannel-x" and message.sent_at == clock.now
    if delivered:
        assert message.state is MessageState.DELIVERED and message.delivered_at == report_time
        assert message.last_error is None
    else:
        assert message.state is MessageState.FAILED and message.last_error == "the phone is off"
        assert queries.counts()["failed"] == 1


@pytest.mark.parametrize("delivered", [True, False], ids=["delivered", "undelivered"])
def test_a_report_read_while_sending_still_counts_when_the_acceptance_is_written_before_it(app, world, clock, sms_log,
                                                                                           monkeypatch, delivered):
    """The report's request finds the message still being sent; before it writes, the sending worker
    commits the gateway's acceptance. The report must not be lost (the message left "sent" for ever)."""
    from integrations.messaging import Receipt
    message_id = urge_sms(world).id
    db.session.commit()
    operations.claim(message_id)
    db.session.commit()
    db.session.remove()
    real_get, worker_done = db.session.get, []

    def get_then_the_worker_commits(*args, **kwargs):
        found = real_get(*args, **kwargs)
        if found is not None and found.state is MessageState.SENDING and not worker_done:
            worker_done.append(True)
            with app.app_context():             # the sending worker: its own session and connection
                worker_copy = db.session.get(Message, message_id)
                assert operations.record_sent(worker_copy, Receipt("kannel-y")) is True
                db.session.commit()
        return found

    monkeypatch.setattr(db.session, "get", get_then_the_worker_commits, raising=False)
    operations.record_delivery_report("kannel-unknown", delivered, "the phone is off", message_id=message_id)
    db.session.commit()
    monkeypatch.undo()
    db.session.remove()
    message = db.session.get(Message, message_id)
    assert message.provider_id == "kannel-y"
    assert message.state is (MessageState.DELIVERED if delivered else MessageState.FAILED)
    if not delivered:
        assert message.last_error == "the phone is off"


def test_a_delivery_report_naming_no_message_of_ours_changes_nothing(world, sms_log):
    message_id = urge_sms(world).id
    db.session.commit()
    assert operations.record_delivery_report("kannel-999", True) is None
    assert db.session.get(Message, message_id).state is MessageState.QUEUED


def _sent_in_parts(world, part_ids, intent="urge:long"):
    """A long SMS the gateway took as concatenated parts with these ids."""
    from integrations.messaging import Receipt
    message_id = urge_sms(world, intent=intent).id
    db.session.commit()
    assert operations.record_sent(operations.claim(message_id), Receipt(part_ids[0], part_ids=tuple(part_ids)))
    db.session.commit()
    return message_id


def _parts(message_id):
    db.session.expire_all()
    return [(p.number, p.provider_id, p.state.value) for p in db.session.get(Message, message_id).parts]


def test_a_long_message_is_delivered_once_every_part_is_whatever_order_the_reports_come_in(world, clock, sms_log):
    message_id = _sent_in_parts(world, ["smpp-P1", "smpp-P2", "smpp-P3"])
    assert _parts(message_id) == [(1, "smpp-P1", "sent"), (2, "smpp-P2", "sent"), (3, "smpp-P3", "sent")]
    for part_id in ("smpp-P3", "smpp-P1"):                     # out of order, and not all yet
        assert operations.record_delivery_report(part_id, True).id == message_id
        db.session.commit()
        assert db.session.get(Message, message_id).state is MessageState.SENT
    clock.advance(seconds=5)
    operations.record_delivery_report("smpp-P2", True)
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.DELIVERED and message.delivered_at == clock.now
    assert [state for _n, _id, state in _parts(message_id)] == ["delivered"] * 3


def test_a_long_message_fails_as_soon_as_one_part_does_and_says_which(world, clock, sms_log):
    message_id = _sent_in_parts(world, ["smpp-P1", "smpp-P2", "smpp-P3"])
    operations.record_delivery_report("smpp-P1", True)
    operations.record_delivery_report("smpp-P2", False, "SMS centre: UNDELIV")
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.FAILED and message.failed_at == clock.now
    assert message.last_error == "part 2/3: SMS centre: UNDELIV"
    operations.record_delivery_report("smpp-P3", True)         # the others arriving changes nothing
    db.session.commit()
    assert db.session.get(Message, message_id).state is MessageState.FAILED
    assert queries.counts()["failed"] == 1
    assert _parts(message_id) == [(1, "smpp-P1", "delivered"), (2, "smpp-P2", "failed"), (3, "smpp-P3", "delivered")]


def test_sending_a_long_message_again_replaces_its_parts(world, browser, clock, sms_log):
    from integrations.messaging import Receipt
    message_id = _sent_in_parts(world, ["smpp-P1", "smpp-P2"])
    operations.record_delivery_report("smpp-P2", False, "SMS centre: REJECTD")
    db.session.commit()
    operations.send_again(db.session.get(Message, message_id), world.users["reviewer"])
    db.session.commit()
    operations.record_delivery_report("smpp-P1", True)         # a late report of the first send ...
    db.session.commit()
    assert db.session.get(Message, message_id).state is MessageState.QUEUED   # ... leaves the new send alone
    assert operations.record_sent(operations.claim(message_id), Receipt("smpp-Q1", part_ids=("smpp-Q1", "smpp-Q2")))
    db.session.commit()
    assert _parts(message_id) == [(1, "smpp-Q1", "sent"), (2, "smpp-Q2", "sent")]
    assert operations.record_delivery_report("smpp-P2", True) is None      # the old parts are gone
    for part_id in ("smpp-Q2", "smpp-Q1"):
        operations.record_delivery_report(part_id, True)
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.DELIVERED and message.last_error is None


def test_a_gateway_reporting_parts_under_the_messages_own_id_fails_it_for_any_part_that_fails(world, clock,
                                                                                              sms_log):
    """Kannel names our message, not the part, in each part's report: delivered at the first report
    of delivery, failed by a report of failure whenever it comes; a message failed as interrupted
    (never known sent) that is reported delivered did go out."""
    from integrations.messaging import Receipt
    ids = [urge_sms(world, intent=f"urge:k{n}").id for n in range(3)]
    db.session.commit()
    for message_id in ids[:2]:
        operations.record_sent(operations.claim(message_id), Receipt(f"kannel-{message_id}"))
    db.session.commit()
    assert not db.session.get(Message, ids[0]).parts
    operations.record_delivery_report(f"kannel-{ids[0]}", True, message_id=ids[0])
    operations.record_delivery_report(f"kannel-{ids[0]}", False, "the phone network reports it undelivered",
                                      message_id=ids[0])
    operations.record_delivery_report(f"kannel-{ids[1]}", False, "the phone network reports it undelivered",
                                      message_id=ids[1])
    operations.record_delivery_report(f"kannel-{ids[1]}", True, message_id=ids[1])
    db.session.commit()
    for message_id in ids[:2]:
        message = db.session.get(Message, message_id)
        assert message.state is MessageState.FAILED
        assert message.last_error == "the phone network reports it undelivered"
    operations.claim(ids[2])
    db.session.commit()
    clock.advance(minutes=3)
    operations.fail_interrupted()
    operations.record_delivery_report(f"kannel-{ids[2]}", True, message_id=ids[2])
    db.session.commit()
    assert db.session.get(Message, ids[2]).state is MessageState.DELIVERED


def test_two_workers_delivering_at_once_never_take_the_same_message(app, world, sms_log):
    for n in range(40):
        urge_sms(world, intent=f"urge:test:{n}")
    db.session.commit()
    claims: list[list[int]] = []
    start = threading.Barrier(2)

    def worker():
        with app.app_context():
            start.wait()
            mine = []
            for message_id in operations.due_ids(limit=40):
                if operations.claim(message_id) is not None:
                    mine.append(message_id)
                db.session.commit()
            claims.append(mine)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    taken = claims[0] + claims[1]
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 40


def test_urgent_messages_go_first(world, sms_log):
    urge_sms(world, intent="later")
    urgent = urge_sms(world, intent="urgent", urgent=True)
    db.session.commit()
    assert operations.due_ids(limit=1) == [urgent.id]


def test_in_app_notices_arrive_at_once_and_are_read(world, sms_log):
    handler = world.users["handler"]
    for n in range(2):
        operations.queue_message(intent=f"notice:{n}", channel=MessageChannel.INAPP, template="dispatched",
                                 params={"number": f"2026061500000{n}", "department": "城市管理局", "title": "t",
                                         "due": "2026-06-16 10:00"}, recipient=handler)
    db.session.commit()                                 # the row is the notice: delivered with the commit
    assert {m.state for m in db.session.scalars(sa.select(Message))} == {MessageState.DELIVERED}
    assert deliver_due() == 0 and sent_lines(sms_log) == []
    assert queries.unread_notices(handler.id) == 2
    assert operations.mark_read(handler) == 2 and queries.unread_notices(handler.id) == 0


def test_a_channel_without_a_gateway_fails_at_once_saying_so(world, sms_log):
    message = operations.queue_message(intent="fax:1", channel=MessageChannel.FAX, template="urge",
                                       params={"number": "1", "title": "t", "due": "d"}, address="010-1234")
    db.session.commit()
    deliver_due()
    message = db.session.get(Message, message.id)
    assert message.state is MessageState.FAILED and message.attempts == 1
    assert message.last_error == "no gateway is configured for Fax messages"


def test_the_api_lists_an_orders_messages_to_the_centre_only(api, world, new_ticket, sms_log):
    number = new_ticket()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    urge_sms(world, ticket_id=ticket.id)
    db.session.commit()
    deliver_due()
    resp = api("reviewer").get(f"/tickets/{number}/messages")
    assert resp.status_code == 200
    [item] = resp.get_json()["items"]
    assert (item["ticket"], item["channel"], item["state"], item["address"], item["attempts"]) == (
        number, "sms", "delivered", "13900000001", 1)
    assert api("call_taker").get(f"/tickets/{number}/messages").status_code == 200
    denied = api("handler").get(f"/tickets/{number}/messages")
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    assert api("reviewer").get("/tickets/20990101999999/messages").status_code == 404
    assert api(None).get(f"/tickets/{number}/messages").status_code == 401


def test_the_centre_sees_failed_messages_and_sends_them_again(app, world, browser, clock, tmp_path, sms_log,
                                                             monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_MAX_ATTEMPTS", 1)
    break_gateway(app, tmp_path)
    message_id = urge_sms(world).id
    db.session.commit()
    deliver_due()
    assert db.session.get(Message, message_id).state is MessageState.FAILED

    assert browser("handler").get("/messages").status_code == 403
    reviewer = browser("reviewer")
    page = reviewer.get("/messages").get_data(as_text=True)
    assert f'id="message-{message_id}"' in page and "Send again" in page and "13900000001" in page
    assert reviewer.post(f"/messages/{message_id}/send-again", csrf=False).status_code == 400
    app.config["SMS_LOG_PATH"] = str(sms_log)                         # the cause is fixed
    app.extensions.pop("message_channels", None)
    resp = reviewer.post(f"/messages/{message_id}/send-again")
    assert resp.status_code == 302
    db.session.expire_all()
    again_queued = db.session.get(Message, message_id)
    assert again_queued.state is MessageState.QUEUED and again_queued.attempts == 0    # a full round of tries
    assert deliver_due() == 1 and len(sent_lines(sms_log)) == 1
    again = reviewer.post(f"/messages/{message_id}/send-again")      # delivered now: nothing to resend
    assert again.status_code == 409 and "Only a failed message" in again.get_data(as_text=True)


def test_an_unknown_sms_gateway_stops_the_start_with_its_name():
    from hotline import create_app
    with pytest.raises(ConfigError, match="SMS_GATEWAY must be one of log, kannel, smpp"):
        create_app({"SMS_GATEWAY": "carrier-pigeon", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.fixture
def broker(app, monkeypatch):
    """Celery publishing to a real Redis (scripts/test's), on a database of its own, emptied; yields a
    function that points the broker elsewhere (a closed port: the broker is down)."""
    import os

    import redis
    url = os.environ.get("HOTLINE_TEST_REDIS_URL")
    if not url:
        pytest.fail("Redis is not available: HOTLINE_TEST_REDIS_URL is unset (run the suite through scripts/test)",
                    pytrace=False)
    url = url.rsplit("/", 1)[0] + "/7"
    from hotline.celery import celery_init_app
    monkeypatch.setitem(app.config, "MESSAGING_WAKE_AFTER_COMMIT", True)
    original = app.config["CELERY_BROKER_URL"]

    def point_at(broker_url: str) -> None:
        """A Celery app of this application publishing to `broker_url` (as `hotline worker` would use)."""
        app.config["CELERY_BROKER_URL"] = broker_url
        celery_init_app(app)

    client = redis.Redis.from_url(url)
    client.flushdb()
    point_at(url)
    yield client, point_at
    point_at(original)
    client.flushdb()


def published(redis_db, expected: int) -> bool:
    """Whether the delivery tasks waiting in Redis come to `expected` and stay there a moment (the waker
    publishes from a thread of its own)."""
    import time
    deadline = time.monotonic() + 10
    while redis_db.llen("celery") != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    return redis_db.llen("celery") == expected


def test_a_commit_that_queued_messages_wakes_a_worker_and_a_rollback_does_not(world, broker, sms_log):
    redis_db, _point_at = broker
    urge_sms(world, intent="rolled-back")
    db.session.rollback()
    db.session.commit()
    assert published(redis_db, 0)                       # nobody is told of a change that rolled back
    urge_sms(world, intent="kept")
    db.session.commit()
    assert published(redis_db, 1)                       # one delivery task waits for a worker
    db.session.commit()
    assert published(redis_db, 1)                       # a commit that queued nothing wakes nobody


def test_with_the_broker_down_the_change_commits_and_its_message_waits(world, broker, sms_log):
    _redis_db, point_at = broker
    point_at("redis://127.0.0.1:9/0")                   # nothing listens there
    message_id = urge_sms(world).id
    db.session.commit()                                 # no error reaches the person who made the change
    assert db.session.get(Message, message_id).state is MessageState.QUEUED
    assert deliver_due() == 1 and len(sent_lines(sms_log)) == 1    # the periodic pass sends it
