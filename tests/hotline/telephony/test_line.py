"""The line's status in sight: when no telephony worker has reported lately, the agent's page and
the wallboard say the line is down, and an agent set to ready shows "line down", not "ready"."""
import re

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.models import QueueEvent
from hotline.telephony.operations import workers
from workflows.acd import AgentState

BANNER = re.compile(r'<div class="alert error line-down" role="alert">(.*?)</div>', re.S)


def _worker_reports(name="w1"):
    workers.heartbeat(name, "host", 123, 0)
    db.session.commit()


def _banner(html: str) -> str | None:
    found = BANNER.search(html)
    return " ".join(found.group(1).split()) if found else None


def test_the_agent_sees_the_line_is_down_and_is_not_shown_as_ready(browser, calls, phones, clock):
    calls.agent(phones.users["call_taker"].id, AgentState.READY)
    db.session.commit()
    client = browser("call_taker", lang="zh")
    page = client.get("/agent").get_data(as_text=True)
    assert _banner(page) == "线路中断：当前没有运行中的电话系统，来电无法接入，也无法外呼，请通知系统管理员。"
    state = page[page.index('id="h-state"'):page.index("</p>", page.index('class="agent-state"'))]
    assert '<span class="state-badge line-down">线路中断</span>' in state and "(示闲)" in state
    assert 'class="state-badge ready"' not in state

    _worker_reports()
    page = client.get("/agent").get_data(as_text=True)
    assert _banner(page) is None
    assert '<span class="state-badge ready">示闲</span>' in page and "线路中断" not in page


def test_a_worker_that_stops_reporting_brings_the_banner_to_an_open_page(browser, calls, phones, clock):
    calls.agent(phones.users["call_taker"].id, AgentState.READY)
    _worker_reports()
    client = browser("call_taker")
    page = client.get("/agent").get_data(as_text=True)
    assert _banner(page) is None
    version = re.search(r'/agent/panel\?v=([0-9a-f]+)', page).group(1)
    assert client.get(f"/agent/panel?v={version}").status_code == 204
    clock.advance(seconds=workers.WORKER_TIMEOUT.total_seconds() - 1)
    assert client.get(f"/agent/panel?v={version}").status_code == 204  # still within the time allowed
    clock.advance(seconds=2)
    panel = client.get(f"/agent/panel?v={version}")
    assert panel.status_code == 200  # the polling page redraws the panel with the banner
    assert _banner(panel.get_data(as_text=True)).startswith("Line down: the telephone system last reported at ")
    assert '<span class="state-badge line-down">Line down</span>' in panel.get_data(as_text=True)


def test_agents_not_waiting_for_calls_keep_their_state(browser, calls, phones):
    calls.agent(phones.users["call_taker"].id, AgentState.NOT_READY, reason="meeting")
    db.session.commit()
    page = browser("call_taker").get("/agent").get_data(as_text=True)
    assert _banner(page) is not None  # the line is down all the same
    assert '<span class="state-badge not_ready">Not ready</span>' in page


def test_the_wallboard_says_the_line_is_down(browser, calls, phones, clock):
    calls.agent(phones.users["call_taker"].id, AgentState.READY)
    db.session.commit()
    client = browser("supervisor", lang="zh")
    html = client.get("/telephony/wallboard").get_data(as_text=True)
    assert _banner(html).startswith("线路中断：")
    agents = html[html.index('id="h-agents"'):]
    assert '<span class="state-badge line-down">线路中断</span>' in agents
    version = re.search(r'/telephony/wallboard/panel\?v=([0-9a-f]+)', html).group(1)
    _worker_reports()
    panel = client.get(f"/telephony/wallboard/panel?v={version}")
    assert panel.status_code == 200 and _banner(panel.get_data(as_text=True)) is None
    assert '<span class="state-badge ready">示闲</span>' in panel.get_data(as_text=True)


def test_the_wallboard_chart_says_no_calls_yet_instead_of_drawing_zeros(browser, calls, phones):
    _worker_reports()
    html = browser("supervisor", lang="zh").get("/telephony/wallboard").get_data(as_text=True)
    assert "今日暂无来电" in html and "chart-title" not in html
    call = calls.call(caller="13511112222", queue=calls.queue())
    calls.log(call, calls.queue(), QueueEvent.ENTERED, utcnow())
    db.session.commit()
    html = browser("supervisor", lang="zh").get("/telephony/wallboard").get_data(as_text=True)
    assert "今日暂无来电" not in html and 'aria-labelledby="chart-title chart-desc"' in html
