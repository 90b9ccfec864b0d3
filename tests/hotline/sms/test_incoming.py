"""The gateway's callbacks and what a citizen's text does, without a gateway in between."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hotline.extensions import db
from hotline.messaging.models import Message, MessageState
from hotline.sms import operations
from hotline.sms.models import IncomingOutcome, IncomingSms, SmsSurvey, SurveyState
from hotline.tickets.models import Ticket
from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (the logged-in page client)
from workflows.states import TicketStatus

CITIZEN = "13812345678"


def _text(client, token, *, sender=CITIZEN, text="路灯不亮", msg_id="k-1", key=None):
    return client.get("/sms/kannel/incoming", query_string={
        "key": token if key is None else key, "from": sender, "to": "12345", "text": text, "id": msg_id})


def test_the_callbacks_answer_only_the_gateway_holding_the_secret(app, world, gateway_token):
    client = app.test_client()
    assert _text(client, gateway_token, key="wrong").status_code == 403
    assert client.get("/sms/kannel/dlr", query_string={"id": "1", "status": "1"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(IncomingSms.id))) == 0
    assert _text(client, gateway_token, sender="").status_code == 400


def test_a_message_delivered_twice_by_the_gateway_is_one_order(app, world, gateway_token):
    client = app.test_client()
    first = _text(client, gateway_token)
    again = _text(client, gateway_token)
    assert first.status_code == again.status_code == 200 and first.get_data() == b""
    assert first.headers["X-Hotline-Outcome"] == again.headers["X-Hotline-Outcome"] == "registered"
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
    # one acknowledgement, queued to the citizen's phone with the signature
    [ack] = db.session.scalars(sa.select(Message).where(Message.address == CITIZEN)).all()
    assert ack.body.startswith("【12345】") and ack.state is MessageState.QUEUED


def test_a_text_naming_an_order_adds_to_that_one_and_an_old_order_is_left_alone(app, world, clock, gateway_token,
                                                                                new_ticket):
    older = new_ticket()
    clock.advance(days=10)
    client = app.test_client()
    # ten days later a plain text is a new order (the open one is older than SMS_APPEND_DAYS) ...
    assert _text(client, gateway_token, msg_id="k-2", text="又有人占道了").headers["X-Hotline-Outcome"] == "registered"
    # ... but one that names the old order adds to it
    named = _text(client, gateway_token, msg_id="k-3", text=f"工单{older}的摊贩又回来了")
    assert named.headers["X-Hotline-Outcome"] == "appended"
    db.session.remove()
    appended = db.session.scalar(sa.select(IncomingSms).where(IncomingSms.provider_id == "k-3"))
    assert db.session.get(Ticket, appended.ticket_id).number == older


def test_a_text_from_something_that_is_not_a_phone_is_kept_and_ignored(app, world, gateway_token):
    resp = _text(app.test_client(), gateway_token, sender="abc")
    assert resp.headers["X-Hotline-Outcome"] == "ignored"
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


def _awaiting_visit(api, new_ticket) -> str:
    number = new_ticket()
    assert api("call_taker").action(number, "answer", {"reply": "已直接答复"}).status_code == 200
    return number


def test_not_satisfied_closes_the_visit_and_waits_for_a_reviewer_who_reopens(app, world, api, new_ticket, browser,
                                                                            gateway_token):
    number = _awaiting_visit(api, new_ticket)
    reviewer = browser("reviewer")
    reviewer.get(f"/tickets/{number}")
    assert reviewer.post(f"/orders/{number}/sms-survey").status_code == 302
    # a second survey while the first waits is refused, and said so
    page = reviewer.post(f"/orders/{number}/sms-survey", follow_redirects=True).get_data(as_text=True)
    assert "already waiting" in page
    # while it waits, the order is not on the board's phone-visit list
    assert number not in reviewer.get("/board/").get_data(as_text=True).split('id="q-awaiting_visit"')[1]
    assert _text(app.test_client(), gateway_token, msg_id="k-9", text="不满意").headers["X-Hotline-Outcome"] == \
        "survey_answer"
    db.session.remove()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    assert ticket.status is TicketStatus.CLOSED and ticket.satisfaction.value == "dissatisfied"
    assert ticket.is_resolved is False
    survey = db.session.scalar(sa.select(SmsSurvey))
    assert survey.needs_review and survey.answer == "3"
    page = reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Not satisfied: reopen the order or keep it closed" in page
    # the reviewer reopens the order: the answer is settled
    assert reviewer.act(number, "reopen", {"reason": "市民不满意，重新办理"}).status_code in (200, 302)
    db.session.remove()
    assert not db.session.scalar(sa.select(SmsSurvey)).needs_review


def _todo(reviewer) -> list[tuple[str, str, str]]:
    """(kind, number, link of the step) of each row of the reviewer's to-do."""
    import re
    return re.findall(r'<tr class="todo-(\w+)">.*?<a href="/tickets/(\d+)">.*?<a class="button" href="([^"]+)"',
                      reviewer.get("/todo").get_data(as_text=True), re.S)


def test_a_3_puts_the_order_on_the_reviewers_to_do_until_it_is_reopened_or_kept_closed(
        app, world, api, new_ticket, browser, clock, gateway_token):
    reviewer = browser("reviewer")
    numbers = {}
    for n, (phone, answer) in enumerate((("13800000001", "1"), ("13800000002", "3"), ("13800000003", "3"))):
        number = new_ticket(citizen={"name": "市民", "phone": phone})
        assert api("call_taker").action(number, "answer", {"reply": "已直接答复"}).status_code == 200
        reviewer.get(f"/tickets/{number}")
        assert reviewer.post(f"/orders/{number}/sms-survey").status_code == 302
        clock.advance(minutes=10)
        assert _text(app.test_client(), gateway_token, sender=phone, text=answer, msg_id=f"k-{n}") \
            .headers["X-Hotline-Outcome"] == "survey_answer"
        numbers[number] = answer
    _satisfied, first, second = numbers
    rows = _todo(reviewer)
    # the "3"s wait on the reviewer, the oldest first, each with its step: reopen the order; the "1" does not
    assert [(kind, number) for kind, number, _l in rows] == [("survey", first), ("survey", second)]
    assert rows[0][2] == f"/tickets/{first}?act=reopen&amp;then=todo#action-reopen"
    assert "Dissatisfied by SMS survey" in reviewer.get("/todo?kind=survey").get_data(as_text=True)
    page = reviewer.get(f"/tickets/{first}?act=reopen&then=todo").get_data(as_text=True)
    assert '<details class="action" id="action-reopen" open>' in page
    # reopened: off the list
    assert reviewer.act(first, "reopen", {"reason": "市民不满意，重新办理", "then": "todo"}).status_code == 302
    assert [number for _k, number, _l in _todo(reviewer)] == [second]
    # the reviewer keeps the other closed: off the list too
    survey = db.session.scalar(sa.select(SmsSurvey).join(Ticket).where(Ticket.number == second))
    reviewer.get(f"/tickets/{second}")
    assert reviewer.post(f"/sms-surveys/{survey.id}/keep-closed").status_code == 302
    assert _todo(reviewer) == []
    from tests.hotline.auth.test_login import logged_in
    assert "短信回访不满意" in logged_in(app, "reviewer").get("/todo").get_data(as_text=True)   # the default: Chinese


def test_no_answer_in_time_puts_the_order_back_on_the_phone_visit_list(app, world, clock, api, new_ticket, browser):
    number = _awaiting_visit(api, new_ticket)
    reviewer = browser("reviewer")
    reviewer.get(f"/tickets/{number}")
    reviewer.post(f"/orders/{number}/sms-survey")
    db.session.remove()
    assert operations.expire_surveys(clock.now + timedelta(hours=23)) == 0
    assert operations.expire_surveys(clock.now + timedelta(hours=24)) == 1
    db.session.commit()
    assert db.session.scalar(sa.select(SmsSurvey)).state is SurveyState.EXPIRED
    board = reviewer.get("/board/").get_data(as_text=True)
    assert number in board.split('id="q-awaiting_visit"')[1]
    # a late "1" is no longer an answer: it becomes a note on the order, which is still open
    clock.advance(hours=25)
    incoming = operations.receive("k-late", CITIZEN, "12345", "1")
    db.session.commit()
    assert incoming.outcome is IncomingOutcome.APPENDED


def test_a_handler_may_not_send_surveys(app, world, api, new_ticket, browser):
    number = _awaiting_visit(api, new_ticket)
    handler = browser("call_taker")
    page = handler.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Send the survey by SMS" not in page
    resp = handler.post(f"/orders/{number}/sms-survey", follow_redirects=True)
    assert "Only centre reviewers and supervisors" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(SmsSurvey.id))) == 0
