"""Text messages through a real Kannel: notices reach phones in UCS-2 with the signature, long ones
concatenated, delivery reports come back; citizens' texts register orders, add to them, answer surveys."""
from __future__ import annotations

import time

import sqlalchemy as sa

from hotline.extensions import db
from hotline.messaging import operations
from hotline.messaging.models import Message, MessageChannel, MessageState
from hotline.messaging.tasks import deliver_due
from hotline.sms.models import IncomingOutcome, IncomingSms, SmsSurvey, SurveyState
from hotline.tickets.models import Comment, Ticket
from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (the logged-in page client)
from workflows.states import TicketStatus

CITIZEN = "13812345678"


def _state(message_id: int) -> MessageState:
    db.session.remove()                       # read what the callback's own request committed
    return db.session.get(Message, message_id).state


def _wait(predicate, what: str, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {what}"
        time.sleep(0.1)
    return value


def _queue(world, text_params: dict, intent: str) -> int:
    message = operations.queue_message(intent=intent, channel=MessageChannel.SMS, template="urge",
                                       params=text_params, recipient=world.users["handler"],
                                       address="13900000001", urgent=True)
    db.session.commit()
    return message.id


def test_a_notice_reaches_the_phone_in_chinese_with_the_signature_and_its_delivery_report_comes_back(world, kannel):
    message_id = _queue(world, {"number": "20260615000001", "title": "幸福路占道经营", "due": "2026-06-16 10:00"},
                        "urge:kannel:1")
    assert deliver_due() == 1
    # Kannel took it (its delivery report may already be back: fakesmsc answers at once)
    assert _state(message_id) in (MessageState.SENT, MessageState.DELIVERED)
    [phone] = kannel.wait_for(lambda: [m for m in kannel.delivered() if m.receiver == "13900000001"],
                              what="the urge on the handler's phone")
    assert phone.text == "【12345】催办：工单20260615000001（幸福路占道经营）已于2026-06-16 10:00到期，请立即办理。"
    assert phone.sender == "12345" and phone.parts == 1
    # the network's delivery report reaches the outbox through Kannel's dlr-url
    _wait(lambda: _state(message_id) is MessageState.DELIVERED, "the delivery report")
    assert deliver_due() == 0                                # and nothing is sent twice


def test_a_long_message_arrives_as_one_text_from_concatenated_parts(world, kannel):
    title = "幸福路与和平街交叉口东北角人行道上长期有人摆摊卖水果和早点，占用盲道，雨天垃圾遍地，附近居民多次反映未果"
    message_id = _queue(world, {"number": "20260615000002", "title": title * 2, "due": "2026-06-16 10:00"}, "urge:kannel:2")
    deliver_due()
    expected = db.session.get(Message, message_id).body
    assert len(expected) > 134                               # more than two UCS-2 parts' worth
    [phone] = kannel.wait_for(lambda: [m for m in kannel.delivered() if "20260615000002" in m.text],
                              what="the long message")
    assert phone.text == expected and phone.parts == 3
    # its fake SMSC reports the three parts' delivery once, on the dlr-url naming our message
    _wait(lambda: _state(message_id) is MessageState.DELIVERED, "the delivery report")
    assert db.session.get(Message, message_id).parts == []     # Kannel does not name the parts


def test_kannel_down_means_a_retry_later_not_a_lost_message(app, world, kannel, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_MAX_ATTEMPTS", 6)
    app.config["SMS_SETTINGS"] = {**app.config["SMS_SETTINGS"], "url": "http://127.0.0.1:9/cgi-bin/sendsms"}
    app.extensions.pop("message_channels", None)
    message_id = _queue(world, {"number": "20260615000003", "title": "井盖缺失", "due": "—"}, "urge:kannel:3")
    deliver_due()
    db.session.remove()
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.QUEUED and message.attempts == 1
    assert "cannot be reached" in message.last_error


def _incoming(sender: str) -> list[IncomingSms]:
    db.session.remove()
    return list(db.session.scalars(sa.select(IncomingSms).where(IncomingSms.sender == sender).order_by(IncomingSms.id)))


def test_a_citizens_text_registers_an_order_and_a_second_adds_to_it(world, kannel):
    kannel.text_from_phone(CITIZEN, "我家楼下的路灯坏了三天了，晚上很黑，地址是幸福路8号")
    [first] = _wait(lambda: _incoming(CITIZEN), "the text to reach the application")
    assert first.outcome is IncomingOutcome.REGISTERED
    ticket = db.session.get(Ticket, first.ticket_id)
    assert ticket.channel.value == "sms" and ticket.status is TicketStatus.REGISTERED
    assert ticket.citizen.phone == CITIZEN and "幸福路8号" in ticket.content
    deliver_due()
    reply = kannel.wait_for(lambda: [m for m in kannel.delivered() if m.receiver == CITIZEN and ticket.number in m.text],
                            what="the acknowledgement")
    assert reply[0].text.startswith("【12345】") and "已受理" in reply[0].text

    kannel.text_from_phone(CITIZEN, "补充一下：坏的是8号楼东侧那盏")
    second = _wait(lambda: _incoming(CITIZEN)[1:], "the second text")[0]
    assert second.outcome is IncomingOutcome.APPENDED and second.ticket_id == ticket.id
    comments = db.session.scalars(sa.select(Comment).where(Comment.ticket_id == ticket.id)).all()
    assert [c.is_internal for c in comments] == [False] and "8号楼东侧" in comments[0].content
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_a_survey_by_sms_answered_1_records_the_return_visit(world, kannel, api, new_ticket, browser):
    number = new_ticket()
    assert api("call_taker").action(number, "answer", {"reply": "已直接答复：摊贩已劝离"}).status_code == 200
    reviewer = browser("reviewer")
    assert "Send the survey by SMS" in reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    assert reviewer.post(f"/orders/{number}/sms-survey").status_code == 302
    deliver_due()
    kannel.wait_for(lambda: [m for m in kannel.delivered() if m.receiver == CITIZEN and "回复1" in m.text and number in m.text],
                    what="the survey")
    kannel.text_from_phone(CITIZEN, "１")
    _wait(lambda: [i for i in _incoming(CITIZEN) if i.outcome is IncomingOutcome.SURVEY_ANSWER], "the answer")
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    assert ticket.status is TicketStatus.CLOSED and ticket.satisfaction.value == "satisfied"
    survey = db.session.scalar(sa.select(SmsSurvey))
    assert survey.state is SurveyState.ANSWERED and survey.answer == "1" and not survey.needs_review
    deliver_due()
    kannel.wait_for(lambda: [m for m in kannel.delivered() if m.receiver == CITIZEN and "感谢" in m.text],
                    what="the thanks")
