"""Calls the centre places: callbacks owed to citizens, click-to-dial and survey calls from an order."""
import re
from datetime import timedelta

import sqlalchemy as sa

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.models import (Callback, CallbackReason, CallbackStatus, OutboundKind, OutboundRequest,
                                      OutboundStatus)
from hotline.tickets.models import Ticket
from workflows.acd import AgentState


def _callback(phone, reason=CallbackReason.ABANDONED, status=CallbackStatus.PENDING, minutes=30, **values):
    row = Callback(phone=phone, reason=reason, status=status, created_at=utcnow() - timedelta(minutes=minutes),
                   **values)
    db.session.add(row)
    db.session.flush()
    return row.id


def _requests():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboundRequest).order_by(OutboundRequest.id)))


def test_callbacks_pending_first_then_call_back_and_mark_done(browser, calls, phones):
    done = _callback("13000000001", status=CallbackStatus.DONE, minutes=5, done_at=utcnow())
    late = _callback("13000000002", minutes=90)
    early = _callback("13000000003", reason=CallbackReason.VOICEMAIL, minutes=10)
    db.session.commit()
    client = browser("call_taker")
    html = client.get("/telephony/callbacks?status=all").get_data(as_text=True)
    assert html.index("13000000002") < html.index("13000000003") < html.index("13000000001")
    pending = client.get("/telephony/callbacks").get_data(as_text=True)
    assert "2 callbacks" in pending and "13000000001" not in pending and "Voicemail" in pending
    resp = client.post(f"/telephony/callbacks/{late}/call", {"next": "/telephony/callbacks"})
    assert resp.status_code == 302
    [req] = _requests()
    assert (req.kind, req.status, req.phone) == (OutboundKind.CALLBACK, OutboundStatus.QUEUED, "13000000002")
    assert req.agent_user_id == req.requested_by_id == phones.users["call_taker"].id and req.callback_id == late
    assert db.session.get(Callback, late).status == CallbackStatus.DIALLING
    # the same callback is not dialled twice, and the agent waits for the first call to be placed
    twice = client.post(f"/telephony/callbacks/{late}/call")
    assert twice.status_code == 409 and "already being dialled" in twice.get_data(as_text=True)
    busy = client.post(f"/telephony/callbacks/{early}/call")
    assert busy.status_code == 409 and "still being placed" in busy.get_data(as_text=True)
    assert len(_requests()) == 1
    elsewhere = client.post(f"/telephony/callbacks/{early}/done", {"next": "/\\evil.example/"})
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"] == "/telephony/callbacks"
    row = db.session.get(Callback, early)
    assert row.status == CallbackStatus.DONE and row.done_by_id == phones.users["call_taker"].id
    assert client.post(f"/telephony/callbacks/{done}/done").status_code == 409


def test_callbacks_need_the_desk_and_an_extension(browser, calls, phones, world):
    cb = _callback("13000000009")
    calls.agent(phones.users["expert"].id, AgentState.ON_CALL, current_call_id="x@1")
    db.session.commit()
    on_call = browser("expert").post(f"/telephony/callbacks/{cb}/call")
    assert on_call.status_code == 409 and "You are on a call" in on_call.get_data(as_text=True)
    reviewer = browser("reviewer")  # no extension
    page = reviewer.get("/telephony/callbacks").get_data(as_text=True)
    assert "you need an extension" in page and f"/telephony/callbacks/{cb}/call" not in page
    assert reviewer.post(f"/telephony/callbacks/{cb}/call").status_code == 409
    manager = browser("manager")
    assert manager.get("/telephony/callbacks").status_code == 200
    assert manager.post(f"/telephony/callbacks/{cb}/done").status_code == 403
    assert browser("handler").get("/telephony/callbacks").status_code == 403
    assert browser("handler").post(f"/telephony/callbacks/{cb}/done").status_code == 403
    assert not _requests() and db.session.get(Callback, cb).status == CallbackStatus.PENDING


def test_click_to_dial_from_an_order(browser, calls, phones, new_ticket):
    number = new_ticket()
    client = browser("call_taker")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert f'action="/telephony/orders/{number}/dial"' in page and f"/telephony/orders/{number}/survey" not in page
    resp = client.post(f"/telephony/orders/{number}/dial")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tickets/{number}#h-calls")
    [req] = _requests()
    ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.number == number))
    assert (req.kind, req.phone, req.ticket_id, req.agent_user_id) == (
        OutboundKind.CLICK_TO_DIAL, "13812345678", ticket_id, phones.users["call_taker"].id)
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert re.search(r'Latest call placed from this order:\s*Click to dial ·\s*<span class="badge">Queued</span>',
                     page)
    # without an extension: no button, and the address refuses
    reviewer = browser("reviewer")
    assert f"/telephony/orders/{number}/dial" not in reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    assert "ask an administrator" in reviewer.post(f"/telephony/orders/{number}/dial",
                                                   follow_redirects=True).get_data(as_text=True)
    # departments see no calls and cannot dial
    assert browser("handler").post(f"/telephony/orders/{number}/dial").status_code == 403
    assert len(_requests()) == 1


def test_survey_call_when_the_order_awaits_its_return_visit(browser, phones, new_ticket, api):
    number = new_ticket(type="consultation")
    reviewer = browser("reviewer")
    assert f"/telephony/orders/{number}/survey" not in reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    early = reviewer.post(f"/telephony/orders/{number}/survey", follow_redirects=True)
    assert "awaits its return visit" in early.get_data(as_text=True) and not _requests()
    api("call_taker").action(number, "answer", {"reply": "已答复。"})
    page = reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    assert f'action="/telephony/orders/{number}/survey"' in page
    assert reviewer.post(f"/telephony/orders/{number}/survey").status_code == 302
    [req] = _requests()
    assert (req.kind, req.agent_user_id, req.requested_by_id, req.phone) == (
        OutboundKind.SURVEY, None, phones.users["reviewer"].id, "13812345678")
    again = reviewer.post(f"/telephony/orders/{number}/survey", follow_redirects=True)
    assert "already waiting" in again.get_data(as_text=True) and len(_requests()) == 1
    # the call taker may not record return visits, so places no survey either
    taker = browser("call_taker")
    assert f"/telephony/orders/{number}/survey" not in taker.get(f"/tickets/{number}").get_data(as_text=True)
    taker.post(f"/telephony/orders/{number}/survey")
    assert len(_requests()) == 1
