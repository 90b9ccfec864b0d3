"""An agent's phone page in the browser: the panel follows the phone by itself (a call rings, is
answered, ends in after-call work) without reloading, and the time in the state ticks; the
screen-pop leads to the desk with the caller and the call filled in."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.helpers import check, login, zh

pytestmark = pytest.mark.e2e


def _agent(world, **values):
    from hotline.extensions import db
    from hotline.telephony.models import Agent
    user_id = world.users["call_taker"].id
    agent = db.session.get(Agent, user_id) or Agent(user_id=user_id)
    for key, value in values.items():
        setattr(agent, key, value)
    db.session.add(agent)
    db.session.commit()


def test_the_agent_panel_follows_the_phone(pages, world, new_ticket, clock):
    from hotline.auth.models import User
    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.telephony.models import Call, CallLeg
    from workflows.acd import AgentState

    new_ticket()  # the caller rang before
    db.session.execute(sa.update(User).where(User.id == world.users["call_taker"].id).values(extension="8001"))
    db.session.add(Call(sip_call_id="e2e-1@w1", leg=CallLeg.INBOUND, caller="13812345678", callee="12345",
                        worker="w1", started_at=utcnow(), answered_at=utcnow()))
    db.session.commit()
    page = pages.new()
    login(page, "call_taker")
    page.goto("/agent")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Ready"), exact=True).click()
    panel = page.locator("#agent-panel")
    expect(panel).to_contain_text(zh("Ready"))
    ticking = panel.locator(".ticking")
    first = ticking.text_content()
    expect(ticking).not_to_have_text(first, timeout=3000)  # the time in the state counts on its own

    _agent(world, state=AgentState.RINGING, current_call_id="e2e-1@w1", state_since=utcnow())
    expect(panel).to_contain_text(zh("Incoming call"), timeout=5000)  # no reload: the panel polls
    expect(panel).to_contain_text("张三")
    check(page, "ringing")
    _agent(world, state=AgentState.AFTER_CALL_WORK, current_call_id=None, state_since=utcnow(),
           acw_until=utcnow() + timedelta(seconds=30))
    expect(panel.locator(".countdown")).to_be_visible(timeout=5000)
    expect(panel).not_to_contain_text("张三")
    check(page, "after-call-work")

    _agent(world, state=AgentState.ON_CALL, current_call_id="e2e-1@w1", state_since=utcnow())
    expect(panel).to_contain_text(zh("On the line"), timeout=5000)
    with page.expect_navigation():
        panel.get_by_role("link", name=zh("Register an order for this call")).click()
    assert re.search(r"/desk\?phone=13812345678&call=e2e-1", page.url), page.url
    assert page.locator('input[name="call_id"]').get_attribute("value") == "e2e-1@w1"
    expect(page.locator("#caller-panel")).to_contain_text("张三")


def _worker_reports():
    from hotline.extensions import db
    from hotline.telephony.operations import workers
    workers.heartbeat("w1", "host", 1, 0)
    db.session.commit()


def test_the_agent_and_the_supervisor_see_when_the_line_is_down(pages, world, clock):
    from hotline.auth.models import User
    from hotline.extensions import db
    from hotline.telephony.operations.configuration import install_defaults
    from workflows.acd import AgentState

    install_defaults()  # the queues, with no calls yet today
    for key, ext in (("call_taker", "8001"), ("supervisor", "8101")):
        db.session.execute(sa.update(User).where(User.id == world.users[key].id).values(extension=ext))
    db.session.commit()
    _agent(world, state=AgentState.READY)
    page = pages.new(width=1366, height=800)
    login(page, "call_taker")
    page.goto("/agent")
    banner = page.locator(".alert.line-down")
    expect(banner).to_contain_text("线路中断")
    panel = page.locator("#agent-panel")
    expect(panel.locator(".state-badge")).to_have_text("线路中断")
    check(page, "agent-line-down")
    _worker_reports()  # the worker is back: the open page says so by itself
    expect(banner).to_have_count(0, timeout=5000)
    expect(panel.locator(".state-badge")).to_have_text(zh("Ready"))
    check(page, "agent-line-up")

    from hotline.telephony.models import TelephonyWorker
    db.session.execute(sa.delete(TelephonyWorker))
    db.session.commit()
    board = pages.new(width=1366, height=800)
    login(board, "supervisor")
    board.goto("/telephony/wallboard")
    expect(board.locator(".alert.line-down")).to_be_visible()
    expect(board.locator(".chart-empty")).to_have_text("今日暂无来电")
    check(board, "wallboard-line-down-no-calls")
