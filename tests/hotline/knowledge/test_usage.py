"""For the knowledge team: hot articles, articles followed by repeat calls, and validity ending told
to the owning department's administrators."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from hotline.extensions import db
from hotline.knowledge import operations
from hotline.knowledge.tasks import notify_expiring_task
from hotline.messaging.models import Message
from tests.hotline.desk.test_desk import _csrf, login  # noqa: F401

A = {"title": "居住证到期签注续期", "body": "<p>居住证有效期为一年，持居住证和身份证到派出所办理签注。</p>"}
B = {"title": "占道经营投诉受理范围", "body": "<p>流动摊贩占道经营由城市管理部门查处。</p>"}


def _publish(api, body) -> int:
    created = api("cgj_admin").post("/knowledge", json=body)
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200
    return article_id


def _answer(client, article_id, phone, category="1001 占道经营"):
    token = _csrf(client.get("/desk").get_data(as_text=True))
    resp = client.post(f"/desk?article={article_id}", data={
        "csrf_token": token, "finish": "answer", "channel": "phone", "phone": phone, "type": "consultation",
        "category": category,
        "subject": "咨询", "content": "来电咨询相关问题。"})
    assert resp.status_code == 302, re.findall(r"desk-error-list.*?</ul>", resp.get_data(as_text=True), re.S)


def _rows(html: str, heading: str) -> list[tuple[str, ...]]:
    section = html[html.index(heading):]
    return [tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr>(<td>.*?)</tr>", section, re.S)]


def test_hot_articles_count_this_weeks_answers(login, api, clock):
    a, b = _publish(api, A), _publish(api, B)
    desk = login("call_taker")
    _answer(desk, a, "13900000001")
    clock.advance(days=8)  # last week's use no longer counts as hot
    for phone in ("13900000002", "13900000003"):
        _answer(desk, a, phone)
    _answer(desk, b, "13900000004")
    html = login("cgj_admin").get("/knowledge?tab=hot").get_data(as_text=True)
    assert "本周热点" in html
    rows = _rows(html, 'id="h-tab"')
    assert [(r[0], r[-1]) for r in rows] == [(A["title"], "2"), (B["title"], "1")]
    # call takers read the knowledge base but do not see the editors' lists
    assert "tab=hot" not in login("call_taker").get("/knowledge").get_data(as_text=True)


def test_articles_whose_callers_call_again_about_the_same_are_listed(login, api, clock, new_ticket):
    a, b = _publish(api, A), _publish(api, B)
    desk = login("call_taker")
    _answer(desk, a, "13812345678")   # 张三, then calls again about the same category two days later
    _answer(desk, a, "13900000009")   # another caller, who does not call again
    _answer(desk, b, "13900000010")   # calls again, but about something else
    clock.advance(days=2)
    new_ticket()                       # 张三 (13812345678), category 1001
    new_ticket(citizen={"name": "王五", "phone": "13900000010"}, category="0401")
    clock.advance(days=10)
    new_ticket(citizen={"name": "赵六", "phone": "13900000009"})  # after CALL_REPEAT_DAYS (7): not a repeat
    html = login("cgj_admin").get("/knowledge?tab=repeats").get_data(as_text=True)
    rows = _rows(html, 'id="h-tab"')
    assert [(r[0], r[2], r[3]) for r in rows] == [(A["title"], "2", "1")]


def _notices(user_id):
    return db.session.scalars(sa.select(Message).where(Message.recipient_user_id == user_id,
                                                       Message.template == "knowledge_expiry")).all()


def test_an_article_ending_soon_is_told_once_to_its_departments_admins(api, world, clock, app):
    ending = _publish(api, {**A, "valid_until": (clock.now.date() + timedelta(days=10)).isoformat()})
    _publish(api, {**B, "valid_until": (clock.now.date() + timedelta(days=200)).isoformat()})
    assert notify_expiring_task() == 1
    notices = _notices(world.users["cgj_admin"].id)
    assert len(notices) == 1 and A["title"] in notices[0].body and f"/knowledge/{ending}" in notices[0].body
    assert _notices(world.users["handler"].id) == [] and _notices(world.users["district_admin"].id) == []
    # the next day's run tells no one again; a renewed validity that nears its end is told anew
    clock.advance(days=1)
    assert notify_expiring_task() == 0
    assert api("cgj_admin").put(f"/knowledge/{ending}", json={**A, "valid_until": (
        clock.now.date() + timedelta(days=20)).isoformat()}).status_code == 200
    assert operations.notify_expiring(clock.now.date(), app.config["KNOWLEDGE_EXPIRY_NOTICE_DAYS"]) == 1
    db.session.commit()
    assert len(_notices(world.users["cgj_admin"].id)) == 2


def test_the_expiry_notices_run_daily_from_the_beat_schedule(app):
    celery_app = app.extensions["celery"]
    entry = celery_app.conf.beat_schedule["knowledge-expiry"]
    assert entry["task"] == "knowledge.notify_expiring" and entry["task"] in celery_app.tasks
    assert entry["schedule"].hour == {7}
