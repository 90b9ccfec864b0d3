"""On the portal the citizen reads the departments' public progress notes, with their time and
nothing of who wrote them, and chooses whether the progress is texted to them."""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from hotline.citizens.models import Citizen
from hotline.extensions import db
from hotline.messaging.models import Message
from tests.conftest import TZ
from tests.hotline.portal.test_portal import _csrf, _submit, _tickets, _track


def signed(api, world, new_ticket, **overrides) -> str:
    number = new_ticket(**overrides)
    assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    assert api("handler").action(number, "sign").status_code == 200
    return number


def progress_section(html: str) -> str:
    start = html.index('id="progress-h"')
    return html[start:html.index("<h3", start)]


def wants_sms(phone: str) -> bool:
    db.session.remove()
    return db.session.scalar(sa.select(Citizen.wants_sms).where(Citizen.phone == phone))


def choose_sms(client, track_html: str, wants: str):
    token = re.search(r'name="token" value="([^"]+)"', track_html).group(1)
    return client.post("/portal/sms", data={"token": token, "csrf_token": _csrf(track_html), "wants_sms": wants})


def test_the_citizen_sees_public_progress_with_its_time_and_nothing_else(app, api, world, new_ticket, clock):
    number = signed(api, world, new_ticket)
    client = app.test_client()
    client.get("/portal?lang=en")
    html = _track(client, number, "13812345678").get_data(as_text=True)
    assert "No progress has been reported yet." in progress_section(html)
    clock.set(datetime(2026, 6, 15, 14, 5, tzinfo=TZ))
    api("handler").action(number, "progress", {"text": "已联系执法中队，明早到现场核查。", "public": True})
    api("cgj_admin").action(number, "progress", {"text": "内部：该摊贩为屡次违规户", "public": False})
    clock.set(datetime(2026, 6, 16, 9, 30, tzinfo=TZ))
    api("handler").action(number, "progress", {"text": "现场已核查，摊贩已劝离。"})
    html = _track(client, number, "13812345678").get_data(as_text=True)
    section = progress_section(html)
    assert re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d)</span><br><span class=\"portal-text\">([^<]+)<", section) == [
        ("2026-06-15 14:05", "已联系执法中队，明早到现场核查。"), ("2026-06-16 09:30", "现场已核查，摊贩已劝离。")]
    assert "内部" not in html and "屡次违规" not in html
    for staff in ("handler", "cgj_admin", "城市管理局"):
        assert staff not in html
    assert "Being handled" in html          # a note changes nothing of the status the citizen reads


def test_the_citizen_stops_and_restarts_the_progress_texts(app, api, world, new_ticket):
    number = signed(api, world, new_ticket)
    client = app.test_client()
    client.get("/portal?lang=en")
    html = _track(client, number, "13812345678").get_data(as_text=True)
    assert wants_sms("13812345678") is True and "Progress is texted to your mobile number." in html
    resp = choose_sms(client, html, "no")
    assert resp.status_code == 200 and "Saved: no more progress texts" in resp.get_data(as_text=True)
    assert wants_sms("13812345678") is False
    api("handler").action(number, "progress", {"text": "已安排人员处理。"})
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.template == "progress")) == 0
    html = resp.get_data(as_text=True)
    assert "Text me the progress" in html
    assert choose_sms(client, html, "yes").status_code == 200 and wants_sms("13812345678") is True
    api("handler").action(number, "progress", {"text": "已处理完毕。"})
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.template == "progress")) == 1
    # an old page (its token expired or forged) changes nothing
    forged = html.replace(re.search(r'name="token" value="([^"]+)"', html).group(1), "forged")
    assert choose_sms(client, forged, "no").status_code == 400 and wants_sms("13812345678") is True


def test_a_reporter_is_told_that_nothing_is_texted_about_a_report(app, api, world, new_ticket):
    number = signed(api, world, new_ticket, type="report")
    client = app.test_client()
    client.get("/portal?lang=en")
    html = _track(client, number, "13812345678").get_data(as_text=True)
    assert "no text messages are sent about a report" in html and 'action="/portal/sms"' not in html


def test_the_request_form_asks_whether_to_text_the_progress(app, world):
    client = app.test_client()
    page = client.get("/portal?lang=en").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" id="f-sms" name="sms" value="yes"[^>]*checked', page)
    assert _submit(client, sms="yes").status_code == 302
    assert wants_sms("13900001111") is True
    assert _submit(app.test_client(), sms=None, phone="13900002222").status_code == 302   # box left unticked
    assert wants_sms("13900002222") is False
    assert len(_tickets()) == 2
