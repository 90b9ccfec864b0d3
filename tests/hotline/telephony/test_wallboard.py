"""The wallboard: queue figures from known rows, agents, live calls, and monitoring them."""
import re
from datetime import timedelta

import sqlalchemy as sa

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony import queries
from hotline.telephony.models import CallLeg, MonitorRequest, QueueEntry, QueueEvent
from workflows.acd import AgentState


def _today(calls, phones):
    """Queue `general` today: 5 callers entered, 3 answered (after 5, 15 and 30 s), 1 abandoned,
    1 still waiting for 90 s with another for 30 s; yesterday's traffic must not count."""
    queue = calls.queue()
    now = utcnow()
    agent = phones.users["call_taker"].id
    for wait in (5, 15, 30):
        call = calls.call(queue=queue, agent=agent)
        calls.log(call, queue, QueueEvent.ENTERED, now - timedelta(minutes=30))
        calls.log(call, queue, QueueEvent.OFFERED, now - timedelta(minutes=30), agent_user_id=agent)
        calls.log(call, queue, QueueEvent.OFFERED, now - timedelta(minutes=29), agent_user_id=agent)
        calls.log(call, queue, QueueEvent.ANSWERED, now - timedelta(minutes=29), agent_user_id=agent,
                  wait_seconds=wait)
    gone = calls.call(queue=queue, disposition=None, answered=True)
    calls.log(gone, queue, QueueEvent.ENTERED, now - timedelta(minutes=20))
    calls.log(gone, queue, QueueEvent.ABANDONED, now - timedelta(minutes=19), wait_seconds=60)
    for seconds in (90, 30):
        waiting = calls.call(queue=queue, ended=False)
        calls.log(waiting, queue, QueueEvent.ENTERED, now - timedelta(seconds=seconds))
        db.session.add(QueueEntry(call_id=waiting.id, queue_id=queue.id, rank=0,
                                  entered_at=now - timedelta(seconds=seconds), worker="w1"))
    old = calls.call(queue=queue, started=now - timedelta(days=1))
    calls.log(old, queue, QueueEvent.ENTERED, now - timedelta(days=1))
    calls.log(old, queue, QueueEvent.ANSWERED, now - timedelta(days=1), wait_seconds=3)
    db.session.commit()


def test_queue_figures_from_known_rows(calls, phones, clock):
    _today(calls, phones)
    figures = {q["queue"].code: q for q in queries.queue_figures(utcnow())}
    general = figures["general"]
    assert (general["waiting"], general["longest_wait"]) == (2, 90)
    assert (general["offered"], general["answered"], general["abandoned"], general["overflow"]) == (6, 3, 1, 0)
    assert general["within"] == 2  # 5 s and 15 s are within the 20 s threshold
    assert general["service_level"] == 50.0  # 2 of the 4 who stopped waiting
    assert general["answer_rate"] == 50.0  # 3 of 6 offered
    assert general["asa"] == 17  # (5 + 15 + 30) / 3
    assert figures["enterprise"]["offered"] == 0 and figures["enterprise"]["service_level"] is None


def test_wallboard_page_shows_queues_agents_and_live_calls(browser, calls, phones):
    _today(calls, phones)
    agent_id = phones.users["call_taker"].id
    caller = calls.call(caller="13511112222", queue=calls.queue(), agent=agent_id, ended=False)
    calls.call(leg=CallLeg.AGENT, parent=caller, agent=agent_id, callee="8001", ended=False)
    calls.agent(agent_id, AgentState.ON_CALL, current_call_id=caller.sip_call_id)
    calls.agent(phones.users["expert"].id, AgentState.NOT_READY, reason="meeting")
    db.session.commit()
    client = browser("supervisor")
    resp = client.get("/telephony/wallboard")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    row = re.search(r'<th scope="row">综合服务</th>(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[0] == "<strong>2</strong>" and "1:30" in cells[1]
    assert [c.strip() for c in cells[2:6]] == ["6", "3", "1", "0"]
    assert cells[6].startswith("50.0%") and cells[7] == "50.0%"
    assert "<svg" in html and 'aria-labelledby="chart-title chart-desc"' in html
    assert "综合服务: offered 6, answered 3, abandoned 1" in html  # the chart's description
    agents = html[html.index('id="h-agents"'):]
    assert "On a call" in agents and "13511112222" in agents and "Meeting" in agents
    live = html[html.index('id="h-live"'):html.index('id="h-agents"')]
    assert "13511112222" in live and 'value="listen"' in live and 'value="barge"' in live
    # refreshed every 2 s; 204 while nothing changed
    version = re.search(r'hx-get="/telephony/wallboard/panel\?v=([0-9a-f]+)" hx-trigger="every 2s"', html).group(1)
    assert client.get(f"/telephony/wallboard/panel?v={version}").status_code == 204
    calls.agent(phones.users["expert"].id, AgentState.READY)
    db.session.commit()
    assert client.get(f"/telephony/wallboard/panel?v={version}").status_code == 200
    # managers and administrators watch too, without the monitoring buttons
    manager = browser("manager").get("/telephony/wallboard").get_data(as_text=True)
    assert "13511112222" in manager and 'value="listen"' not in manager
    assert browser("admin").get("/telephony/wallboard").status_code == 200
    for key in ("call_taker", "reviewer", "handler"):
        assert browser(key).get("/telephony/wallboard").status_code == 403, key
        assert browser(key).get("/telephony/wallboard/panel").status_code == 403, key


def _live_agent_leg(calls, phones, user_key="call_taker", number="13511112222"):
    agent_id = phones.users[user_key].id
    caller = calls.call(caller=number, agent=agent_id, ended=False)
    return calls.call(leg=CallLeg.AGENT, parent=caller, agent=agent_id, callee="8001", ended=False).id


def _monitors():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(MonitorRequest).order_by(MonitorRequest.id)))


def test_monitoring_listen_whisper_barge_and_stop(browser, calls, phones):
    first = _live_agent_leg(calls, phones)
    second = _live_agent_leg(calls, phones, "expert", "13600001111")
    db.session.commit()
    client = browser("supervisor")
    client.get("/telephony/wallboard")
    resp = client.post("/telephony/monitor", {"call": str(first), "mode": "listen"})
    assert resp.status_code == 302
    [row] = _monitors()
    assert (row.call_id, row.mode, row.ended_at) == (first, "listen", None)
    assert row.supervisor_id == phones.users["supervisor"].id
    page = client.get("/telephony/wallboard").get_data(as_text=True)
    assert "You: Listen" in page and 'value="stop"' in page
    client.post("/telephony/monitor", {"call": str(first), "mode": "whisper"})
    [row] = _monitors()
    assert row.mode == "whisper" and row.ended_at is None  # the same request, its mode changed
    client.post("/telephony/monitor", {"call": str(second), "mode": "barge"})
    old, new = _monitors()
    assert old.ended_at is not None and (new.call_id, new.mode, new.ended_at) == (second, "barge", None)
    bad = client.post("/telephony/monitor", {"call": str(second), "mode": "shout"}, follow_redirects=True)
    assert "Must be one of: listen, whisper, barge." in bad.get_data(as_text=True)
    client.post("/telephony/monitor", {"mode": "stop"})
    assert all(m.ended_at is not None for m in _monitors())


def test_monitoring_is_refused_when_it_cannot_work(browser, calls, phones, world):
    live = _live_agent_leg(calls, phones)
    ended = calls.call(leg=CallLeg.AGENT, agent=phones.users["expert"].id).id
    db.session.commit()
    client = browser("supervisor")
    client.get("/telephony/wallboard")
    gone = client.post("/telephony/monitor", {"call": str(ended), "mode": "listen"}, follow_redirects=True)
    assert "This call has ended" in gone.get_data(as_text=True) and not _monitors()
    # a manager watches the wallboard but does not monitor
    manager = browser("manager")
    manager.get("/telephony/wallboard")
    refused = manager.post("/telephony/monitor", {"call": str(live), "mode": "listen"}, follow_redirects=True)
    assert "Only supervisors monitor calls." in refused.get_data(as_text=True) and not _monitors()
    # without an extension there is no phone to ring
    from hotline.auth.models import User
    db.session.execute(sa.update(User).where(User.id == world.users["supervisor"].id).values(extension=None))
    db.session.commit()
    page = client.get("/telephony/wallboard").get_data(as_text=True)
    assert "To listen to calls you need an extension" in page and 'value="listen"' not in page
    refused = client.post("/telephony/monitor", {"call": str(live), "mode": "listen"}, follow_redirects=True)
    assert "ask an administrator" in refused.get_data(as_text=True) and not _monitors()
