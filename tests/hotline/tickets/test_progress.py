"""Progress replies (过程回复): who may record one, what it records, and that the clock runs on."""
from __future__ import annotations

from datetime import datetime


from tests.conftest import TZ
from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (order pages as a logged-in user)

NOTE = "已联系执法中队，明早到现场核查。"



def events(api, number: str, action: str = "progress") -> list[dict]:
    return [e for e in api("reviewer").get(f"/tickets/{number}/events").get_json()["items"] if e["action"] == action]


def test_the_handling_department_records_notes_as_often_as_it_likes(api, signed, clock):
    number = signed()
    assert api("handler").action(number, "progress", {"text": NOTE}).status_code == 200
    clock.advance(hours=3)
    resp = api("cgj_admin").action(number, "progress", {"text": "现场已核查，摊贩已劝离。", "public": False})
    assert resp.status_code == 200
    notes = events(api, number)
    assert [(e["actor"], e["note"], e["data"]) for e in notes] == [
        ("handler", NOTE, {"text": NOTE, "public": True}),          # public unless said otherwise
        ("cgj_admin", "现场已核查，摊贩已劝离。", {"text": "现场已核查，摊贩已劝离。", "public": False})]
    assert all(e["from_status"] == e["to_status"] == "in_progress" for e in notes)
    detail = resp.get_json()
    assert detail["status"] == "in_progress" and detail["assignments"][0]["status"] == "in_progress"


def test_who_may_not_record_progress(api, world, signed, new_ticket):
    number = signed()
    for user, status in (("handler_b", 404),          # another department does not even see the order
                         ("reviewer", 403), ("supervisor", 403), ("call_taker", 403), ("manager", 403)):
        resp = api(user).action(number, "progress", {"text": NOTE})
        assert resp.status_code == status, (user, resp.get_json())
    assert api(None).action(number, "progress", {"text": NOTE}).status_code == 401    # no citizen, no anonymous
    # not before signing for it, and not once the department has replied
    waiting = new_ticket()
    assert api("call_taker").action(waiting, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    refused = api("handler").action(waiting, "progress", {"text": NOTE})
    assert refused.status_code == 409 and "Awaiting sign-for" in refused.get_json()["error"]["message"]
    assert api("handler").action(number, "reply", {"content": "已处理", "contacted_citizen": True}).status_code == 200
    assert api("handler").action(number, "progress", {"text": NOTE}).status_code == 409
    assert events(api, number) == [] and events(api, waiting) == []


def test_an_assisting_department_reports_on_its_own_part(api, world, new_ticket):
    number = new_ticket()
    assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id,
                                                         "assist": [world.dept("scj").id]}).status_code == 200
    assert api("handler_b").action(number, "progress", {"text": "协办"}).status_code == 409   # not signed yet
    assert api("handler_b").action(number, "sign").status_code == 200
    assert api("handler_b").action(number, "progress", {"text": "已抽检摊点食品。"}).status_code == 200
    (note,) = events(api, number)
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assist = next(a for a in detail["assignments"] if a["role"] == "assist")
    assert note["actor"] == "handler_b" and assist["status"] == "in_progress"


def test_text_is_required_and_limited_in_the_callers_language(api, signed):
    number = signed()
    for body in ({}, {"text": "   "}):
        resp = api("handler").action(number, "progress", body, headers={"Accept-Language": "zh-CN"})
        assert resp.status_code == 422
        assert resp.get_json()["error"]["fields"] == {"text": "请填写目前的办理进展，内容不能为空。"}
    resp = api("handler").action(number, "progress", {"text": "进" * 1001})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"text": "At most 1000 characters (got 1001)."}
    resp = api("handler").action(number, "progress", {"text": NOTE, "public": "maybe"})
    assert resp.status_code == 422 and "public" in resp.get_json()["error"]["fields"]
    assert api("handler").action(number, "progress", {"text": "进" * 1000}).status_code == 200
    assert len(events(api, number)) == 1


def test_a_note_does_not_stop_or_move_the_clock(api, signed, clock):
    number = signed()
    # a complaint has 5 working days: Friday 06-19 is the Dragon Boat Festival, so it is due Tuesday 06-23
    clock.set(datetime(2026, 6, 22, 16, 0, tzinfo=TZ))     # more than three quarters used: yellow
    before = api("reviewer").get(f"/tickets/{number}").get_json()
    assert datetime.fromisoformat(before["sla"]["due_at"]) == datetime(2026, 6, 23, 10, 0, tzinfo=TZ)
    assert before["sla"]["state"] == "yellow"
    assert api("handler").action(number, "progress", {"text": NOTE}).status_code == 200
    after = api("reviewer").get(f"/tickets/{number}").get_json()
    assert after["sla"] == before["sla"]
    for mine, was in zip(after["assignments"], before["assignments"]):
        assert {k: mine[k] for k in ("status", "sign_due_at", "reply_due_at", "return_due_at", "sla")} == \
            {k: was[k] for k in ("status", "sign_due_at", "reply_due_at", "return_due_at", "sla")}
    clock.set(datetime(2026, 6, 24, 10, 0, tzinfo=TZ))     # past the deadline: red, note or no note
    assert api("handler").action(number, "progress", {"text": "仍在协调。"}).status_code == 200
    late = api("reviewer").get(f"/tickets/{number}").get_json()
    assert late["sla"]["state"] == "red" and late["sla"]["due_at"] == before["sla"]["due_at"]
    assert late["replied_at"] is None and late["status"] == "in_progress"


def test_the_last_word_is_kept_on_the_assignment(api, signed, clock):
    number = signed()
    signed_at = api("reviewer").get(f"/tickets/{number}").get_json()["assignments"][0]["last_progress_at"]
    clock.advance(days=2)
    assert api("handler").action(number, "progress", {"text": NOTE, "public": False}).status_code == 200
    after = api("reviewer").get(f"/tickets/{number}").get_json()["assignments"][0]["last_progress_at"]
    assert datetime.fromisoformat(after) == clock.now and datetime.fromisoformat(signed_at) < clock.now


def test_a_sub_units_note_is_progress_of_its_parent_too(api, world, new_ticket, clock):
    number = new_ticket()
    assert api("call_taker").action(number, "dispatch", {"department": world.dept("dc").id}).status_code == 200
    assert api("district_handler").action(number, "sign").status_code == 200
    assert api("district_admin").action(number, "sub-dispatch", {"department": world.dept("dc_s1").id}).status_code == 200
    assert api("street_handler").action(number, "sign").status_code == 200
    clock.advance(days=1)
    assert api("street_handler").action(number, "progress", {"text": "街道已到现场。"}).status_code == 200
    parent, child = api("reviewer").get(f"/tickets/{number}").get_json()["assignments"]
    assert child["parent"] == parent["id"]
    assert datetime.fromisoformat(parent["last_progress_at"]) == datetime.fromisoformat(child["last_progress_at"]) \
        == clock.now


def test_the_order_page_offers_the_form_and_stays_on_the_order(app, api, signed, browser):
    number = signed()
    handler = browser("handler")
    page = handler.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-progress"' in page and "Progress update" in page
    reviewer = browser("reviewer")
    assert 'id="action-progress"' not in reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    resp = handler.act(number, "progress", {"text": NOTE})                     # "public" box unticked
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tickets/{number}")
    page = handler.get(f"/tickets/{number}").get_data(as_text=True)
    assert NOTE in page and "Internal" in page
    assert events(api, number)[0]["data"] == {"text": NOTE, "public": False}
    resp = handler.act(number, "progress", {"text": ""})
    assert resp.status_code == 422 and "the note cannot be empty" in resp.get_data(as_text=True)
    assert reviewer.act(number, "progress", {"text": NOTE, "public": "true"}).status_code == 403


def test_the_api_history_and_open311_carry_the_notes(app, api, world, signed, clock):
    number = signed()
    api("handler").action(number, "progress", {"text": NOTE})
    clock.advance(minutes=5)
    api("handler").action(number, "progress", {"text": "内部：需要借用清障车", "public": False})
    (first, second) = events(api, number)
    assert first["actor_role"] == "department_handler" and first["data"]["public"] is True
    assert second["data"]["public"] is False
    # the department reads its own notes in the order's history too
    assert [e["note"] for e in events(api, number)] == [
        e["note"] for e in api("handler").get(f"/tickets/{number}/events").get_json()["items"] if e["action"] == "progress"]
    # Open311's status notes: the newest public note (never an internal one), else the status
    key = world.tokens["reviewer"]
    client = app.test_client()
    (row,) = client.get(f"/open311/v2/requests/{number}.json?api_key={key}").get_json()
    assert row["status_notes"] == NOTE
    quiet = signed()
    rows = {r["service_request_id"]: r for r in client.get(f"/open311/v2/requests.json?api_key={key}").get_json()}
    assert rows[number]["status_notes"] == NOTE and rows[quiet]["status_notes"] == "办理中"
    report = signed(type="report")
    api("handler").action(report, "progress", {"text": "已约谈被举报商户。"})
    (row,) = app.test_client().get(
        f"/open311/v2/requests/{report}.json?api_key={world.tokens['handler']}").get_json()
    assert row["status_notes"] == "办理中"          # a report's notes stay off where its details are hidden
