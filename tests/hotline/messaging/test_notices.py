"""The notices people's actions cause: queued with the change, to the people it concerns, never to the actor."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.messaging.models import Message, MessageChannel
from hotline.tickets.models import Ticket
from tests.hotline.tickets_pages.conftest import browser, dispatched  # noqa: F401  (page client; an order for cgj)


def told(number: str) -> list[tuple[str, str]]:
    """(template, username) of every in-app notice about the order, in the order queued."""
    rows = db.session.execute(sa.select(Message.template, Message).join(Ticket, Ticket.id == Message.ticket_id)
                              .where(Ticket.number == number, Message.channel == MessageChannel.INAPP)
                              .order_by(Message.id)).all()
    return [(template, m.recipient.username) for template, m in rows]


def test_a_dispatch_tells_the_departments_staff_in_their_language(world, dispatched):
    number = dispatched()
    assert told(number) == [("dispatched", "handler"), ("dispatched", "cgj_admin")]
    body = db.session.scalar(sa.select(Message.body).limit(1))
    assert body.startswith(f"城市管理局有新工单{number}：") and "请于" in body


def test_a_return_tells_the_centre_and_a_refusal_tells_the_department(api, world, dispatched):
    number = dispatched()
    assert api("handler").action(number, "return", {"reason": "不属于本单位职责"}).status_code == 200
    assert [t for t in told(number) if t[0] == "returned"] == [("returned", "supervisor"), ("returned", "reviewer")]
    assert api("reviewer").action(number, "review-return", {"approve": False, "note": "属于你单位"}).status_code == 200
    assert [t for t in told(number) if t[0] == "return_refused"] == [
        ("return_refused", "handler"), ("return_refused", "cgj_admin")]


def test_reply_review_and_manual_urges_reach_the_department_but_not_the_actor(api, world, dispatched):
    number = dispatched()
    assert api("handler").action(number, "sign").status_code == 200
    assert api("reviewer").action(number, "urge", {"note": "请尽快"}).status_code == 200
    assert api("handler").action(number, "reply", {"content": "已处理", "contacted_citizen": True}).status_code == 200
    assert api("reviewer").action(number, "review-reply", {"approve": False, "note": "未说明处理结果"}).status_code == 200
    assert api("cgj_admin").action(number, "reply", {"content": "已处理完毕", "contacted_citizen": True}).status_code == 200
    assert api("reviewer").action(number, "review-reply", {"approve": True}).status_code == 200
    templates = [t for t in told(number) if t[0] != "dispatched"]
    # urged before its deadline: the text asks to speed up and does not call it overdue
    assert templates == [("urge_before_due", "handler"), ("urge_before_due", "cgj_admin"),
                         ("reply_rejected", "handler"), ("reply_rejected", "cgj_admin"),
                         ("reply_approved", "handler"), ("reply_approved", "cgj_admin")]
    urge = db.session.scalar(sa.select(Message.body).where(Message.template == "urge_before_due").limit(1))
    assert urge.startswith(f"催办：请加快办理工单{number}") and "到期" not in urge and "办理时限" in urge


def test_a_change_that_rolls_back_tells_nobody(app, world, new_ticket):
    """The notice is queued with the dispatch; a failure later in the same unit of work takes both back."""
    from hotline.auth.models import User
    from hotline.core.transactions import writes
    from hotline.tickets.operations.actions import perform
    number = new_ticket()

    def dispatch_then_fail():
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
        perform(ticket, "dispatch", db.session.get(User, world.users["call_taker"].id),
                {"department": world.dept("cgj").id})
        assert [t for t, _u in told(number)] == ["dispatched", "dispatched"]     # queued with the change ...
        raise RuntimeError("the disk filled up before the commit")

    with pytest.raises(RuntimeError):
        writes(dispatch_then_fail)()
    assert told(number) == []                                                  # ... and gone with it
    assert db.session.scalar(sa.select(Ticket.status).where(Ticket.number == number)).value == "registered"


def test_a_sub_units_return_tells_its_parent_not_the_centre(api, world, dispatched):
    number = dispatched(dept="dc")
    assert api("district_handler").action(number, "sign").status_code == 200
    assert api("district_admin").action(number, "sub-dispatch", {"department": world.dept("dc_s1").id}).status_code == 200
    assert api("street_handler").action(number, "sign").status_code == 200
    assert api("street_handler").action(number, "return", {"reason": "不在本街道辖区"}).status_code == 200
    assert sorted(u for t, u in told(number) if t == "returned") == ["district_admin", "district_handler"]


def test_a_handler_reads_their_notices_and_marks_them_read(world, dispatched, browser):
    number = dispatched()
    handler = browser("handler")
    page = handler.get("/notices").get_data(as_text=True)
    assert f"新工单 {number}" in page and 'class="unread"' in page
    assert 'class="count" aria-label="1 unread">1</span>' in page          # the header says so on every page
    assert "1 unread" in handler.get("/tickets").get_data(as_text=True)
    assert f"新工单 {number}" not in browser("handler_b").get("/notices").get_data(as_text=True)
    assert handler.post("/notices/read", csrf=False).status_code == 400
    assert handler.post("/notices/read").status_code == 302
    page = handler.get("/notices").get_data(as_text=True)
    assert f"新工单 {number}" in page and 'class="unread"' not in page and "1 unread" not in page


def sms_sent(path) -> list[dict]:
    import json
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_handler_chooses_text_messages_and_gets_them_by_day_not_at_night(app, world, browser, clock, dispatched,
                                                                            tmp_path):
    from datetime import datetime

    from hotline.messaging.tasks import deliver_due
    from tests.conftest import TZ
    app.config["SMS_LOG_PATH"] = str(tmp_path / "sms.log")
    app.extensions.pop("message_channels", None)
    handler = browser("handler")
    bad = handler.post("/notices/settings", {"mobile": "12345", "wants_sms": "1"})
    assert bad.status_code == 422 and "Enter a mainland mobile number of 11 digits" in bad.get_data(as_text=True)
    assert handler.post("/notices/settings", {"mobile": "139 1234 5678", "wants_sms": "1"}).status_code == 302
    assert "Saved: text messages go to 13912345678." in handler.get("/notices").get_data(as_text=True)

    clock.set(datetime(2026, 6, 15, 23, 30, tzinfo=TZ))               # a routine order dispatched at night
    number = dispatched()
    assert deliver_due() == 0                                          # in-app notices are there at once ...
    assert len(told(number)) == 2
    assert sms_sent(tmp_path / "sms.log") == []                        # ... the text message waits for morning
    clock.set(datetime(2026, 6, 16, 8, 0, tzinfo=TZ))
    assert deliver_due() == 1
    [sms] = sms_sent(tmp_path / "sms.log")
    assert sms["to"] == "13912345678" and number in sms["text"]


def test_an_urgent_order_texts_at_once_at_night_even_those_who_did_not_ask(app, world, browser, clock, dispatched,
                                                                          tmp_path):
    from datetime import datetime

    from hotline.messaging.tasks import deliver_due
    from tests.conftest import TZ
    app.config["SMS_LOG_PATH"] = str(tmp_path / "sms.log")
    app.extensions.pop("message_channels", None)
    assert browser("cgj_admin").post("/notices/settings", {"mobile": "13800000002"}).status_code == 302
    clock.set(datetime(2026, 6, 15, 2, 0, tzinfo=TZ))
    number = dispatched(urgency="urgent")
    deliver_due()
    assert [(s["to"], number in s["text"]) for s in sms_sent(tmp_path / "sms.log")] == [("13800000002", True)]
    # the handler has no mobile number: in-app only
    assert [t for t in told(number)] == [("dispatched", "handler"), ("dispatched", "cgj_admin")]


def test_only_the_user_or_an_administrator_sets_where_notices_go(world):
    from hotline.auth.operations import set_notice_preferences
    from hotline.core.errors import Forbidden
    with pytest.raises(Forbidden):
        set_notice_preferences(world.users["reviewer"], world.users["handler"], "13900000000", True)
    assert set_notice_preferences(world.users["admin"], world.users["handler"], "13900000000", False).mobile == \
        "13900000000"


def test_the_headers_count_follows_notices_written_here_at_once_and_elsewhere_within_seconds(
        app, world, dispatched, browser, monkeypatch):
    """Every page's header counts the unread notices, kept a few seconds per process: a notice queued here
    (a Core insert into the outbox) or read here shows at once; one written by another process (a
    connection of its own) within RECENT_ROWS_SECONDS."""
    import time
    monkeypatch.setitem(app.config, "RECENT_ROWS_SECONDS", 0.5)
    handler = browser("handler")
    assert "unread" not in handler.get("/tickets").get_data(as_text=True)
    dispatched()
    assert "1 unread" in handler.get("/tickets").get_data(as_text=True)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.update(Message).where(Message.recipient_user_id == world.users["handler"].id)
                     .values(read_at=sa.func.now()))
    started = time.monotonic()
    while "1 unread" in handler.get("/tickets").get_data(as_text=True):
        assert time.monotonic() - started < 2, "a notice read elsewhere still counts after 2 s (kept for 0.5 s)"
        time.sleep(0.05)
