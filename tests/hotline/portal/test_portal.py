"""The citizen portal: submit with a challenge, check progress with number + phone, rate the answer."""
import io
import re

import sqlalchemy as sa

from hotline.extensions import db
from hotline.tickets.models import Attachment, Comment, Ticket, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FORM = {"type": "complaint", "category": "1001", "description": "幸福路口每天早上有摊贩占道经营，影响通行。",
        "address": "东城区幸福路12号", "lat": "", "lon": "", "name": "王五", "phone": "139 0000 1111"}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _answer(html: str) -> str:
    a, op, b = re.search(r"(\d+) ([+−]) (\d+) = \?", html).groups()
    return str(int(a) + int(b) if op == "+" else int(a) - int(b))


def _form_from(html: str, *, wrong: bool = False, **overrides) -> dict:
    data = {**FORM, **overrides, "csrf_token": _csrf(html),
            "challenge_token": re.search(r'name="challenge_token" value="([^"]+)"', html).group(1)}
    if re.search(r"(\d+) ([+−]) (\d+) = \?", html):
        data["challenge"] = "999" if wrong else _answer(html)
    return {k: v for k, v in data.items() if v is not None}


def _submit(client, *, wrong=False, photos=None, **overrides):
    data = _form_from(client.get("/portal").get_data(as_text=True), wrong=wrong, **overrides)
    if photos:
        data["photos"] = photos
    return client.post("/portal", data=data, content_type="multipart/form-data")


def _tickets():
    db.session.remove()
    return db.session.scalars(sa.select(Ticket)).all()


def _track(client, number, phone):
    html = client.get("/portal/track").get_data(as_text=True)
    return client.post("/portal/track", data={"number": number, "phone": phone, "csrf_token": _csrf(html)})


def test_submitting_with_the_right_answer_registers_a_web_order_and_shows_its_number(app, world):
    client = app.test_client()
    page = client.get("/portal").get_data(as_text=True)
    assert "占道经营" in page  # active categories, code and name
    resp = _submit(client, photos=[(io.BytesIO(PNG), "street.png")])
    assert resp.status_code == 302
    done = client.get(resp.headers["Location"])
    [ticket] = _tickets()
    assert ticket.channel.value == "web" and ticket.status.value == "registered"
    assert ticket.citizen.phone == "13900001111" and ticket.category.code == "1001"
    assert ticket.created_by.username == "portal" and ticket.created_by.role.value == "call_taker"
    assert not ticket.created_by.check_password("")  # the service user cannot log in
    assert ticket.number in done.get_data(as_text=True)
    assert 'class="order-number"' in done.get_data(as_text=True)
    assert db.session.scalar(sa.select(Attachment.content_type)) == "image/png"
    actors = {e.actor.username for e in db.session.scalars(sa.select(TicketEvent))}
    assert actors == {"portal"}
    # a second request reuses the same service user
    assert _submit(client, description="路灯不亮").status_code == 302
    assert {t.created_by_id for t in _tickets()} == {ticket.created_by_id}


def test_a_wrong_answer_keeps_what_was_typed_and_registers_nothing(app, world):
    client = app.test_client()
    resp = _submit(client, wrong=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="e-challenge"' in html and 'aria-invalid="true"' in html
    assert FORM["description"] in html and FORM["address"] in html and 'value="139 0000 1111"' in html
    assert re.search(r'<option value="complaint"\s+selected', html)
    assert _tickets() == []
    # a new question is asked; answering it registers the order
    assert client.post("/portal", data=_form_from(html)).status_code == 302
    assert len(_tickets()) == 1


def test_a_missing_phone_is_named_next_to_the_field_and_registers_nothing(app, world):
    client = app.test_client()
    resp = _submit(client, phone="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'id="e-phone">[^<]+<', html)
    assert FORM["description"] in html and 'value="王五"' in html
    assert _tickets() == []
    # the question was answered right: not asked again
    assert not re.search(r"(\d+) ([+−]) (\d+) = \?", html)
    assert client.post("/portal", data=_form_from(html, phone="13900001111")).status_code == 302
    assert len(_tickets()) == 1


def test_a_challenge_is_accepted_once(app, world):
    client = app.test_client()
    data = _form_from(client.get("/portal").get_data(as_text=True))
    assert client.post("/portal", data=data).status_code == 302
    resp = client.post("/portal", data=data)
    assert resp.status_code == 422 and 'id="e-challenge"' in resp.get_data(as_text=True)
    assert len(_tickets()) == 1


def test_only_photos_may_be_attached(app, world):
    client = app.test_client()
    resp = _submit(client, photos=[(io.BytesIO(b"%PDF-1.4 nothing"), "doc.pdf")])
    assert resp.status_code == 422
    assert re.search(r'id="e-photos">[^<]+<', resp.get_data(as_text=True))
    assert _tickets() == []


def test_the_sixth_submission_within_the_hour_is_refused(app, world):
    client = app.test_client()
    codes = [_submit(client, wrong=True).status_code for _ in range(6)]
    assert codes[:5] == [422] * 5
    assert codes[5] == 429
    assert _submit(client).status_code == 429
    assert client.get("/portal").status_code == 200  # reading the form is not limited
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _submit(other).status_code == 302  # another address is not held back


def test_tracking_shows_status_and_public_answer_but_nothing_internal(app, world, api, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    api("handler").action(number, "sign")
    client = app.test_client()
    client.get("/portal?lang=en")
    html = _track(client, number, "+86 138-1234-5678").get_data(as_text=True)
    assert number in html and "Being handled" in html and "There is no answer yet" in html
    api("handler").action(number, "reply", {"content": "已清理占道摊贩，并安排巡查。"})
    api("reviewer").action(number, "review-reply", {"approve": True})
    api("reviewer").action(number, "comment", {"content": "内部：该路段多次投诉", "internal": True})
    api("reviewer").action(number, "comment", {"content": "感谢您的反映，我们将持续关注。", "internal": False})
    resp = _track(client, number, "13812345678")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "已清理占道摊贩，并安排巡查。" in html
    assert "感谢您的反映，我们将持续关注。" in html
    assert "内部：该路段多次投诉" not in html
    assert "城市管理局" not in html  # no department names
    for staff in ("handler", "reviewer", "call_taker"):
        assert staff not in html
    assert 'name="satisfaction"' in html  # the answer may be rated


def test_a_wrong_phone_looks_exactly_like_an_unknown_number(app, world, new_ticket):
    number = new_ticket()
    client = app.test_client()
    wrong_phone = _track(client, number, "13900009999")
    unknown = _track(client, "20260615999999", "13812345678")
    assert wrong_phone.status_code == unknown.status_code == 404

    def scrub(resp, n, p):
        # CSRF tokens carry the second they were signed in: two requests may straddle one
        html = re.sub(r'name="csrf-token" content="[^"]+"', "", resp.get_data(as_text=True))
        return re.sub(r'name="csrf_token" value="[^"]+"', "", html).replace(f'value="{n}"', "N").replace(f'value="{p}"', "P")

    assert scrub(wrong_phone, number, "13900009999") == scrub(unknown, "20260615999999", "13812345678")
    assert "幸福路" not in wrong_phone.get_data(as_text=True)


def test_tracking_is_rate_limited(app, world):
    client = app.test_client()
    codes = [_track(client, "20260615999999", "13812345678").status_code for _ in range(11)]
    assert codes[:10] == [404] * 10 and codes[10] == 429


def _rate(client, track_html, **data):
    token = re.search(r'name="token" value="([^"]+)"', track_html).group(1)
    return client.post("/portal/rate", data={"token": token, "csrf_token": _csrf(track_html), **data})


def test_the_citizen_rates_the_answer_once(app, world, api, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "answer", {"reply": "办事指南已发送。"})
    client = app.test_client()
    html = _track(client, number, "13812345678").get_data(as_text=True)
    # a missing choice is named next to it; nothing is recorded
    resp = _rate(client, html, resolved="yes")
    assert resp.status_code == 422 and 'id="e-satisfaction"' in resp.get_data(as_text=True)
    resp = _rate(client, html, satisfaction="basically_satisfied", resolved="yes", comment="回复很快")
    assert resp.status_code == 200
    after = resp.get_data(as_text=True)
    assert 'name="satisfaction"' not in after and "回复很快" in after
    assert _rate(client, html, satisfaction="dissatisfied", resolved="no").status_code == 409
    db.session.remove()
    events = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.action == "citizen-rating")).all()
    assert [(e.data, e.actor.username) for e in events] == [
        ({"satisfaction": "basically_satisfied", "resolved": True}, "portal")]
    [comment] = db.session.scalars(sa.select(Comment)).all()
    assert comment.is_internal is False and "基本满意" in comment.content and "回复很快" in comment.content
    # the centre sees the rating on the order; the official return visit is still theirs
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assert detail["status"] == "awaiting_visit"
    assert any("基本满意" in c["content"] for c in detail["comments"])
    assert api("reviewer").action(number, "visit", {"satisfaction": "satisfied", "resolved": True}).status_code == 200


def test_an_order_without_an_answer_cannot_be_rated(app, world, new_ticket):
    number = new_ticket()
    client = app.test_client()
    html = _track(client, number, "13812345678").get_data(as_text=True)
    assert 'name="satisfaction"' not in html
    token_page = html.replace('<input type="hidden" name="csrf_token"', '<input type="hidden" name="token" '
                              'value="forged"><input type="hidden" name="csrf_token"', 1)
    assert _rate(client, token_page, satisfaction="satisfied", resolved="yes").status_code == 400
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_forms_without_the_csrf_token_are_refused(app, world, new_ticket):
    client = app.test_client()
    page = client.get("/portal").get_data(as_text=True)
    data = _form_from(page)
    del data["csrf_token"]
    assert client.post("/portal", data=data).status_code == 400
    assert client.post("/portal/track", data={"number": "1", "phone": "13812345678"}).status_code == 400
    assert client.post("/portal/rate", data={"token": "x", "satisfaction": "satisfied"}).status_code == 400
    assert _tickets() == []


def test_the_portal_speaks_chinese_by_default_and_english_on_request(app, world):
    client = app.test_client()
    assert "Submit a request" in client.get("/portal?lang=en").get_data(as_text=True)
    assert client.get("/portal/track").status_code == 200
