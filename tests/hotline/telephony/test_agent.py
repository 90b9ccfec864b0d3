"""The agent's phone page: who may use it, choosing a state, and the screen-pop of a ringing call."""
import re
from datetime import timedelta

import sqlalchemy as sa

from hotline.citizens.models import Citizen
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.models import Agent, Call, QueueEvent, QueueLogEntry
from hotline.tickets.models import Ticket
from workflows.acd import AgentState


def _agent(world, key):
    db.session.expire_all()
    return db.session.get(Agent, world.users[key].id)


def test_only_people_who_take_calls_have_the_page(browser, phones):
    for key in ("call_taker", "expert", "supervisor"):
        resp = browser(key).get("/agent")
        assert resp.status_code == 200, key
        assert "extension 80" in resp.get_data(as_text=True) or key == "supervisor"
    for key in ("reviewer", "manager", "admin", "handler"):
        resp = browser(key).get("/agent")
        assert resp.status_code == 403, key
        assert "people who answer the hotline" in resp.get_data(as_text=True)
    chinese = browser("handler", lang="zh").get("/agent")
    assert chinese.status_code == 403 and "接听热线电话" in chinese.get_data(as_text=True)
    assert browser("handler").post("/agent/state", {"state": "ready"}).status_code == 403
    # the navigation shows the link to those who have the page
    assert 'href="/agent"' in browser("call_taker").get("/tickets").get_data(as_text=True)
    assert 'href="/agent"' not in browser("reviewer").get("/tickets").get_data(as_text=True)


def test_without_an_extension_the_agent_is_told_to_ask_an_administrator(browser, world):
    client = browser("call_taker")
    page = client.get("/agent").get_data(as_text=True)
    assert "ask an administrator" in page
    resp = client.post("/agent/state", {"state": "ready"})
    assert resp.status_code == 409 and "ask an administrator" in resp.get_data(as_text=True)
    assert _agent(world, "call_taker") is None


def test_ready_not_ready_and_offline(browser, phones, clock):
    client = browser("call_taker")
    assert _agent(phones, "call_taker") is None
    resp = client.post("/agent/state", {"state": "ready"})
    assert resp.status_code == 302
    agent = _agent(phones, "call_taker")
    assert agent.state == AgentState.READY and agent.idle_since == clock.now and agent.state_since == clock.now
    clock.advance(minutes=5)
    missing = client.post("/agent/state", {"state": "not_ready", "reason": ""})
    assert missing.status_code == 422
    assert re.search(r'<p class="field-error" id="e-reason">Choose or type why you are not ready.</p>',
                     missing.get_data(as_text=True))
    assert _agent(phones, "call_taker").state == AgentState.READY
    chinese = browser("call_taker", lang="zh").post("/agent/state", {"state": "not_ready"})
    assert "请选择或填写示忙原因" in chinese.get_data(as_text=True)
    assert client.post("/agent/state", {"state": "not_ready", "reason": "meal"}).status_code == 302
    agent = _agent(phones, "call_taker")
    assert (agent.state, agent.reason, agent.state_since) == (AgentState.NOT_READY, "meal", clock.now)
    page = client.get("/agent").get_data(as_text=True)
    assert "Not ready" in page and "Meal" in page
    assert client.post("/agent/state", {"state": "not_ready", "reason": "other",
                                        "reason_text": "帮新同事"}).status_code == 302
    assert _agent(phones, "call_taker").reason == "帮新同事"
    assert client.post("/agent/state", {"state": "offline"}).status_code == 302
    agent = _agent(phones, "call_taker")
    assert agent.state == AgentState.OFFLINE and agent.reason is None
    bad = client.post("/agent/state", {"state": "on_call"})
    assert bad.status_code == 422 and "Choose Ready, Not ready or Offline." in bad.get_data(as_text=True)


def test_a_ringing_or_talking_agent_cannot_change_state(browser, calls, phones):
    user_id = phones.users["call_taker"].id
    calls.agent(user_id, AgentState.RINGING, current_call_id="abc@1")
    db.session.commit()
    client = browser("call_taker")
    resp = client.post("/agent/state", {"state": "offline"})
    assert resp.status_code == 409 and "Your phone is ringing" in resp.get_data(as_text=True)
    calls.agent(user_id, AgentState.ON_CALL, current_call_id="abc@1")
    db.session.commit()
    resp = browser("call_taker", lang="zh").post("/agent/state", {"state": "not_ready", "reason": "break"})
    assert resp.status_code == 409 and "通话结束后" in resp.get_data(as_text=True)
    agent = _agent(phones, "call_taker")
    assert agent.state == AgentState.ON_CALL and agent.current_call_id == "abc@1"


def test_after_call_work_counts_down_and_ends_with_ready(browser, calls, phones, clock):
    user_id = phones.users["call_taker"].id
    queue = calls.queue()
    call = calls.call(agent=user_id, queue=queue)
    call_id = call.id
    calls.log(call, queue, QueueEvent.COMPLETED, utcnow() - timedelta(seconds=20), agent_user_id=user_id,
              talk_seconds=50)
    calls.agent(user_id, AgentState.AFTER_CALL_WORK, state_since=utcnow() - timedelta(seconds=20),
                acw_until=utcnow() + timedelta(seconds=10))
    db.session.commit()
    client = browser("call_taker")
    panel = client.get("/agent").get_data(as_text=True)
    assert "After-call work" in panel and 'class="countdown"' in panel and ">0:10<" in panel
    assert 'name="state" value="ready"' in panel
    assert client.post("/agent/state", {"state": "ready"}).status_code == 302
    agent = _agent(phones, "call_taker")
    assert agent.state == AgentState.READY and agent.acw_until is None and agent.idle_since == clock.now
    ended = db.session.scalar(sa.select(QueueLogEntry).where(QueueLogEntry.event == QueueEvent.ACW_ENDED))
    assert ended.call_id == call_id and ended.acw_seconds == 20


def test_screen_pop_of_a_ringing_call_shows_the_vip_caller_and_their_orders(browser, calls, phones, new_ticket, api):
    first = new_ticket(subject="早先的投诉")
    api("call_taker").action(first, "cancel", {"reason": "市民撤回"})
    second = new_ticket(subject="路灯不亮")
    citizen = db.session.scalar(sa.select(Citizen).where(Citizen.phone == "13812345678"))
    citizen.is_vip = True
    call = calls.call(caller="13812345678", answered=True, ended=False, citizen_id=citizen.id,
                      sip="pop-1@10.0.0.1:5060")
    calls.agent(phones.users["call_taker"].id, AgentState.RINGING, current_call_id="pop-1@10.0.0.1:5060")
    db.session.commit()
    client = browser("call_taker")
    html = client.get("/agent/panel").get_data(as_text=True)
    assert "Incoming call" in html and "13812345678" in html and "张三" in html
    assert '<span class="badge vip">VIP</span>' in html
    assert html.index(second) < html.index(first)
    assert re.search(rf'<li class="open">\s*<a href="/tickets/{second}">', html)
    assert re.search(rf'<li class="done">\s*<a href="/tickets/{first}">', html)
    assert "2 earlier orders, 1 still open." in html
    assert 'href="/desk?phone=13812345678&amp;call=pop-1@10.0.0.1:5060"' in html
    # the panel polls with what it shows: unchanged means 204, nothing to redraw
    version = re.search(r'hx-get="/agent/panel\?v=([0-9a-f]+)"', html).group(1)
    assert client.get(f"/agent/panel?v={version}").status_code == 204
    calls.agent(phones.users["call_taker"].id, AgentState.ON_CALL, current_call_id="pop-1@10.0.0.1:5060")
    db.session.commit()
    changed = client.get(f"/agent/panel?v={version}")
    assert changed.status_code == 200 and "On the line" in changed.get_data(as_text=True)


def test_registering_from_the_screen_pop_links_the_call_to_the_order(browser, calls, phones):
    call_id = calls.call(caller="13900001111", ended=False, sip="desk-link-1@10.0.0.1:5060").id
    db.session.commit()
    client = browser("call_taker")
    page = client.get("/desk?phone=13900001111&call=desk-link-1@10.0.0.1:5060").get_data(as_text=True)
    assert '<input type="hidden" name="call_id" value="desk-link-1@10.0.0.1:5060">' in page
    data = {"call_id": "desk-link-1@10.0.0.1:5060", "phone": "13900001111", "caller_name": "李四",
            "type": "consultation", "subject": "办事指南", "content": "询问社保转移。",
            "reply": "已答复。", "finish": "answer", "channel": "phone"}
    resp = client.post("/desk", data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/desk")   # fresh for the next call
    desk = client.get("/desk").get_data(as_text=True)
    number = re.search(r'role="status">[^<]*<a href="/tickets/(\d+)">', desk).group(1)    # the message links it
    db.session.expire_all()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    ticket_id = ticket.id
    # the one link: the call names the order (tickets keep no call id of their own)
    assert db.session.get(Call, call_id).ticket_id == ticket_id
    # a second order taken on the same call leaves the call naming the first
    again = client.post("/desk", {**data, "subject": "另一件事"})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call_id).ticket_id == ticket_id
    # the order page lists the call
    detail = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="h-calls"' in detail and f'/telephony/calls/{call_id}' in detail


def test_the_agents_calls_today(browser, calls, phones, clock):
    user_id = phones.users["call_taker"].id
    inbound = calls.call(caller="13700001234", agent=user_id, queue=calls.queue())
    calls.call(leg=inbound.leg.AGENT, parent=inbound, agent=user_id, caller="13700001234", callee="8001")
    calls.call(caller="13700009999", agent=user_id, started=utcnow() - timedelta(days=1))
    db.session.commit()
    html = browser("call_taker").get("/agent").get_data(as_text=True)
    section = html[html.index('id="h-today"'):]
    assert section.count("13700001234") == 1 and "13700009999" not in section
