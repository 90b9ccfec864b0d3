"""The intake desk: register and finish a call in one step, recognise a repeat caller."""
import re

import pytest


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def login(app, world):
    """login("call_taker") -> a test client logged in through the form as that user."""
    def as_user(key):
        client = app.test_client()
        token = _csrf(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": key, "password": "password-123", "csrf_token": token})
        assert resp.status_code == 302
        return client
    return as_user


def _total(api):
    return api("reviewer").get("/tickets").get_json()["total"]


def _finished(client, resp) -> str:
    """After a call is finished the desk is fresh for the next one; its message links the order."""
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/desk"), resp.headers.get("Location")
    html = client.get("/desk").get_data(as_text=True)
    match = re.search(r'<p class="alert ok" role="status">[^<]*<a href="/tickets/(\d+)">\1</a>', html)
    assert match, "the message names the order as a link"
    assert 'value="夜市占道"' not in html and 'id="f-phone" name="phone" value=""' in html  # an empty form
    return match.group(1)


def _post(client, path="/desk", **fields):
    token = _csrf(client.get("/desk").get_data(as_text=True))
    data = {"csrf_token": token, "channel": "phone", **fields}
    return client.post(path, data=data)


CALL = {"phone": "139 0000 1111", "caller_name": "李四", "type": "complaint", "category": "1001 占道经营",
        "subject": "夜市占道", "content": "和平街夜市占用人行道。", "address": "和平街3号"}


def test_desk_page_is_for_call_takers_only(login):
    client = login("call_taker")
    resp = client.get("/desk")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="intake"' in html
    assert re.search(r'<input type="tel" id="f-phone" name="phone"[^>]*autofocus', html, re.S)
    assert '<option value="1001 占道经营">' in html  # the category picker's list
    assert 'name="finish" value="dispatch"' in html and 'name="finish" value="answer"' in html
    assert '<option value="phone" selected>' in html  # channel defaults to phone
    for label in ('for="f-phone"', 'for="f-type"', 'for="f-category"', 'for="f-department"', 'for="f-reply"'):
        assert label in html
    assert login("handler").get("/desk").status_code == 403
    assert login("handler").get("/desk/caller?phone=13812345678").status_code == 403
    assert login("reviewer").get("/desk").status_code == 200


def test_caller_lookup_shows_earlier_orders_with_open_ones_marked(login, api, new_ticket):
    first = new_ticket(subject="早先的投诉")
    api("call_taker").action(first, "cancel", {"reason": "市民撤回"})
    second = new_ticket(subject="路灯不亮")
    client = login("call_taker")
    html = client.get("/desk/caller?phone=13812345678").get_data(as_text=True)
    assert "张三" in html
    assert html.index(second) < html.index(first)  # newest first
    items = re.findall(r'<li class="(open|done)">(.*?)</li>', html, re.S)
    by_number = {next(n for n in (first, second) if n in body): (cls, body) for cls, body in items}
    assert by_number[second][0] == "open" and "badge open-badge" in by_number[second][1]
    assert by_number[first][0] == "done" and "open-badge" not in by_number[first][1]
    assert 'value="%s"' % second in html  # the "record as repeat call" button
    # telephony opens the page with the caller's number: the panel is there at once, the name filled in
    page = client.get("/desk?phone=13812345678").get_data(as_text=True)
    assert second in page and 'value="张三"' in page
    assert "新来电人" in client.get("/desk/caller?phone=13700000000").get_data(as_text=True)


def test_register_and_dispatch_in_one_step(login, api, world):
    client = login("call_taker")
    cgj = world.dept("cgj")
    resp = _post(client, **CALL, department=str(cgj.id), assist=str(world.dept("dc").id),
                 note="请尽快处理", finish="dispatch")
    number = _finished(client, resp)
    order = api("reviewer").get(f"/tickets/{number}").get_json()
    assert order["status"] == "awaiting_sign"
    assert order["lead_department"]["id"] == cgj.id
    assert {a["department"]["id"] for a in order["assignments"]} == {cgj.id, world.dept("dc").id}
    assert order["citizen"]["phone"] == "13900001111" and order["category"]["code"] == "1001"


def test_choosing_a_category_suggests_its_department(login, world):
    client = login("call_taker")
    html = client.get("/desk/suggest?category=0401+食品安全").get_data(as_text=True)
    assert f'<option value="{world.dept("scj").id}" selected>' in html


def test_register_and_answer_in_one_step(login, api):
    client = login("expert")
    resp = _post(client, **{**CALL, "type": "consultation"}, reply="办理指南见政务网。", finish="answer")
    number = _finished(client, resp)
    order = api("reviewer").get(f"/tickets/{number}").get_json()
    assert order["status"] == "awaiting_visit"
    assert order["answer"] == "办理指南见政务网。"


def test_failed_dispatch_leaves_no_order_and_says_why_at_the_field(login, api):
    client = login("call_taker")
    before = _total(api)
    resp = _post(client, **CALL, department="999999", finish="dispatch")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _total(api) == before
    error = re.search(r'<p class="field-error" id="e-department">(.*?)</p>', html, re.S)
    assert error and "999999" in error.group(1)
    # every field kept
    assert 'value="夜市占道"' in html and "和平街夜市占用人行道。" in html and 'value="1001 占道经营"' in html
    assert '<option value="complaint" selected>' in html


def test_missing_fields_are_all_named_at_once(login, api):
    client = login("call_taker")
    resp = _post(client, phone="13900001111", finish="dispatch")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for name in ("type", "subject", "content", "department"):
        assert f'id="e-{name}"' in html
    assert re.search(r'<select id="f-type"[^>]*autofocus', html)  # the first field to fix has the focus
    assert not re.search(r'id="f-phone"[^>]*autofocus', html)


def test_repeat_call_is_recorded_on_the_existing_order(login, api, new_ticket, world):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    before = _total(api)
    client = login("call_taker")
    html = client.get("/desk?phone=13812345678").get_data(as_text=True)
    assert 'name="link_urge"' not in html  # a call taker may not urge
    resp = _post(client, "/desk/link", phone="13812345678", content="摊贩又来了", link=number)
    assert _finished(client, resp) == number
    assert _total(api) == before
    events = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
    assert events[-1]["action"] == "comment" and "摊贩又来了" in events[-1]["note"]
    # the department sees the repeat call too
    assert any("摊贩又来了" in e["note"] for e in api("handler").get(f"/tickets/{number}/events").get_json()["items"]
               if e["note"])
    # a centre reviewer may record it and urge at once
    reviewer = login("reviewer")
    assert 'name="link_urge"' in reviewer.get("/desk?phone=13812345678").get_data(as_text=True)
    assert _post(reviewer, "/desk/link", link_urge=number).status_code == 302
    order = api("reviewer").get(f"/tickets/{number}").get_json()
    assert order["urge_count"] == 1 and _total(api) == before


def test_linking_to_an_unknown_order_says_so(login, api):
    client = login("call_taker")
    resp = _post(client, "/desk/link", link="20260615999999")
    assert resp.status_code == 404
    assert "20260615999999" in resp.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(login, api, world):
    client = login("call_taker")
    before = _total(api)
    resp = client.post("/desk", data={**CALL, "department": str(world.dept("cgj").id), "finish": "dispatch"})
    assert resp.status_code == 400
    assert client.post("/desk/link", data={"link": "x"}).status_code == 400
    assert _total(api) == before


def test_a_repeat_call_is_not_recorded_on_an_ended_order(app, world, new_ticket, api):
    from hotline.core.errors import Conflict
    from hotline.desk.operations import record_repeat_call
    from hotline.extensions import db
    number = new_ticket()
    api("reviewer").action(number, "cancel", {"reason": "撤回"})
    with app.test_request_context():
        actor = db.session.merge(world.users["call_taker"])
        try:
            record_repeat_call(actor, number, note="又来电")
        except Conflict as err:
            assert number in err.message
        else:
            raise AssertionError("a repeat call was recorded on a cancelled order")
        db.session.rollback()
