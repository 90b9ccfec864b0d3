"""Live pages are told of a change once it has committed, each person of their own notices only."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.live import events
from hotline.live.transport import user_key
from hotline.tickets.models import Ticket
from tests.hotline.tickets_pages.conftest import browser, dispatched  # noqa: F401  (page client; an order for cgj)


@pytest.fixture
def live(app):
    return events.transport(app)


def _drain(sub) -> list[dict]:
    found = []
    while (event := sub.next(timeout=0)) is not None:
        found.append(event)
    return found


def test_a_dispatch_tells_the_departments_staff_after_the_commit(app, world, live, dispatched):
    handler, admin, reviewer = (world.users[k] for k in ("handler", "cgj_admin", "reviewer"))
    with live.subscribe([user_key(handler.id)]) as to_handler, \
            live.subscribe([user_key(admin.id), f"d:{world.dept('cgj').id}"]) as to_admin, \
            live.subscribe([user_key(reviewer.id)]) as to_reviewer, \
            live.subscribe([f"d:{world.dept('dc').id}"]) as other_department:
        number = dispatched()
        [told] = _drain(to_handler)
        assert told["type"] == "notice" and told["count"] == 1
        assert told["latest"]["template"] == "dispatched" and told["latest"]["ticket"] == number
        assert told["latest"]["url"] == f"/m/tickets/{number}" and number in told["latest"]["subject"]
        assert [e["type"] for e in _drain(to_admin)] == ["notice", "changed"]   # and the inbox refetches
        assert _drain(to_reviewer) == []          # no notice of theirs
        assert _drain(other_department) == []


def test_a_change_that_rolls_back_tells_nobody(app, world, live, new_ticket):
    from hotline.auth.models import User
    from hotline.core.transactions import writes
    from hotline.tickets.operations.actions import perform
    number = new_ticket()
    handler = world.users["handler"]

    def dispatch_then_fail():
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
        perform(ticket, "dispatch", db.session.get(User, world.users["call_taker"].id),
                {"department": world.dept("cgj").id})
        raise RuntimeError("the disk filled up before the commit")

    with live.subscribe([user_key(handler.id), f"d:{world.dept('cgj').id}", "board"]) as sub:
        with pytest.raises(RuntimeError):
            writes(dispatch_then_fail)()
        db.session.commit()                  # a later commit does not carry what was rolled back
        assert _drain(sub) == []


def test_the_count_rises_with_each_notice(app, world, live, api, dispatched):
    handler = world.users["handler"]
    with live.subscribe([user_key(handler.id)]) as sub:
        number = dispatched()
        assert api("handler").action(number, "sign").status_code == 200
        assert api("reviewer").action(number, "urge", {"note": "请尽快"}).status_code == 200
        events = _drain(sub)
        counts = [(e["count"], e["latest"]["template"]) for e in events]
        # urged before its deadline: the text asks to speed up (an alert on the page all the same)
        assert counts == [(1, "dispatched"), (2, "urge_before_due")]
        assert [e["latest"]["alert"] for e in events] == [True, True]   # the server says: sound and flash
        assert api("handler").action(number, "reply", {"content": "已处理", "contacted_citizen": True}).status_code == 200
        assert api("reviewer").action(number, "review-reply", {"approve": False, "note": "未说明结果"}).status_code == 200
        [rejected] = _drain(sub)
        assert rejected["latest"]["template"] == "reply_rejected" and rejected["latest"]["alert"] is False


def _stream(client):
    response = client.get("/live/stream", buffered=False)
    return response, iter(response.response)


def test_the_stream_needs_a_login(app, world):
    response = app.test_client().get("/live/stream")
    assert response.status_code == 401
    assert app.test_client().get("/live/bell").status_code == 302


def test_the_stream_carries_only_the_persons_own_events(app, world, live, browser):
    handler, reviewer = world.users["handler"], world.users["reviewer"]
    response, frames = _stream(browser("handler").client)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert next(frames).decode().startswith("retry: 3000\n")         # subscribed from here on
    live.publish_users([reviewer.id], {"type": "notice", "count": 9, "for": "reviewer"})
    live.publish_users([handler.id], {"type": "notice", "count": 1, "for": "handler"})
    frame = next(frames).decode()
    assert frame.startswith("event: notice\ndata: ")
    assert json.loads(frame.split("data: ", 1)[1]) == {"type": "notice", "count": 1, "for": "handler"}
    app.config["LIVE_HEARTBEAT_SECONDS"], saved = 0.01, app.config["LIVE_HEARTBEAT_SECONDS"]
    try:
        response2, frames2 = _stream(browser("reviewer").client)
        next(frames2)
        assert next(frames2) == b": heartbeat\n\n"                   # quiet: a heartbeat, not the handler's event
    finally:
        app.config["LIVE_HEARTBEAT_SECONDS"] = saved
        response2.close()
    response.close()
    assert not live.wants(user_key(handler.id))                       # the closed page unsubscribed


def test_the_bell_lists_the_newest_unread_notices(world, dispatched, browser):
    number = dispatched()
    page = browser("handler").get("/live/bell").get_data(as_text=True)
    assert 'data-count="1"' in page and f"/m/tickets/{number}" in page


def test_notices_another_process_wrote_are_found_by_the_tail(app, world, live, dispatched):
    from hotline.messaging.operations import NOTICED
    tail = events.Tail(app, live, every=60)
    handler = world.users["handler"]
    with live.subscribe([user_key(handler.id)]) as sub:
        tail.look()                                                   # starts from the newest notice
        sa.event.listen(db.session, "before_commit", _as_if_elsewhere := lambda s: s.info.pop(NOTICED, None))
        try:
            number = dispatched()                                     # committed without telling anyone
        finally:
            sa.event.remove(db.session, "before_commit", _as_if_elsewhere)
        assert [e["type"] for e in _drain(sub)] == []
        assert tail.look() == 1
        [told] = _drain(sub)
        assert told["latest"]["ticket"] == number and told["count"] == 1
        assert tail.look() == 0                                       # once
