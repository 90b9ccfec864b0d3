"""Each role lands on its own queue; the centre's reviewers on "my to-do", the longest-waiting first,
each row with the one step to take, which the order page shows open and which leads back here."""
import re

import pytest

from tests.hotline.auth.test_login import _csrf, _login, logged_in as _client



@pytest.mark.parametrize("user, landing", [
    ("reviewer", "/todo"), ("supervisor", "/todo"), ("manager", "/reports/"), ("call_taker", "/desk"),
    ("expert", "/desk"), ("handler", "/m"), ("cgj_admin", "/m"), ("admin", "/admin/")])
def test_each_role_lands_on_its_own_queue(app, world, user, landing):
    client = app.test_client()
    resp = _login(client, user, "password-123")
    assert resp.headers["Location"] == "/"                  # after logging in: home ...
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == landing   # ... which is the role's queue
    assert client.get(landing).status_code == 200


def _replied(api, world, new_ticket, subject):
    number = new_ticket(subject=subject)
    for user, action, body in (("call_taker", "dispatch", {"department": world.dept("cgj").id}),
                               ("handler", "sign", {}), ("handler", "reply", {"content": "已处理完毕"})):
        assert api(user).action(number, action, body).status_code == 200
    return number


def _rows(html: str) -> list[tuple[str, str, str]]:
    """(kind, number, link of the step) of each row, in the page's order."""
    return re.findall(r'<tr class="todo-(\w+)">.*?<a href="/tickets/(\d+)">.*?<a class="button" href="([^"]+)"',
                      html, re.S)


@pytest.fixture
def waiting(api, world, new_ticket, clock):
    """One of each kind, an hour apart: a reply, a return, an extension request, a return visit."""
    out = {"reply": _replied(api, world, new_ticket, "回复待审")}
    clock.advance(hours=1)
    out["return"] = new_ticket(subject="退单待审")
    api("call_taker").action(out["return"], "dispatch", {"department": world.dept("cgj").id})
    assert api("handler").action(out["return"], "return", {"reason": "不属于本单位"}).status_code == 200
    clock.advance(hours=1)
    out["extension"] = new_ticket(subject="延期待审")
    api("call_taker").action(out["extension"], "dispatch", {"department": world.dept("cgj").id})
    api("handler").action(out["extension"], "sign")
    assert api("handler").action(out["extension"], "request-extension",
                                 {"days": 3, "reason": "需协调多部门"}).status_code == 200
    clock.advance(hours=1)
    out["visit"] = new_ticket(subject="待回访")
    assert api("call_taker").action(out["visit"], "answer", {"reply": "已当场答复"}).status_code == 200
    clock.advance(hours=1)
    new_ticket(subject="尚未派单")                          # nothing for a reviewer yet
    return out


def test_the_queue_holds_what_waits_on_the_centre_oldest_first(app, world, waiting):
    html = _client(app, "reviewer").get("/todo?lang=en").get_data(as_text=True)
    rows = _rows(html)
    assert [(kind, number) for kind, number, _link in rows] == [(k, waiting[k]) for k in
                                                               ("reply", "return", "extension", "visit")]
    steps = {kind: link for kind, _number, link in rows}
    assert steps["reply"] == f"/tickets/{waiting['reply']}?act=review-reply&amp;then=todo#action-review-reply"
    assert "act=review-extension" in steps["extension"] and "act=visit" in steps["visit"]
    # an extension request says how long, why, and which department asks
    extension = html.split('<tr class="todo-extension">')[1].split("</tr>")[0]
    assert "3 working days · 需协调多部门" in extension and world.dept("cgj").name in extension
    assert f'aria-label="Review extension: order {waiting["extension"]}"' in extension
    assert "尚未派单" not in html
    # one kind alone, with its count
    only = _client(app, "reviewer").get("/todo?kind=visit").get_data(as_text=True)
    assert [number for _k, number, _l in _rows(only)] == [waiting["visit"]]
    assert _client(app, "reviewer").get("/todo?kind=bogus").status_code == 404


def test_the_queue_is_paged(app, waiting, monkeypatch):
    from hotline.todo import blueprint
    monkeypatch.setattr(blueprint, "PER_PAGE", 3)
    client = _client(app, "supervisor")
    first = client.get("/todo").get_data(as_text=True)
    second = client.get("/todo?page=2").get_data(as_text=True)
    assert [n for _k, n, _l in _rows(first)] == [waiting["reply"], waiting["return"], waiting["extension"]]
    assert [n for _k, n, _l in _rows(second)] == [waiting["visit"]]
    assert 'href="/todo?page=2" rel="next"' in first


def test_long_queues_are_counted_up_to_the_cap(app, api, world, new_ticket, waiting, monkeypatch):
    """Each kind is counted up to the lists' cap ("1+" past it) and the page still offers the next one."""
    from hotline.core import counts
    from hotline.todo import blueprint
    monkeypatch.setattr(counts, "CAP", 1)
    monkeypatch.setattr(blueprint, "PER_PAGE", 2)
    second = _replied(api, world, new_ticket, "又一回复待审")
    html = _client(app, "reviewer").get("/todo?lang=en").get_data(as_text=True)
    assert "Reply to review (1+)" in html and "Return visit due (1)" in html and "All (4+)" in html
    assert [n for _k, n, _l in _rows(html)] == [waiting["reply"], waiting["return"]]
    assert 'href="/todo?page=2" rel="next"' in html and "Page 1 of" not in html
    last = _client(app, "reviewer").get("/todo?page=3").get_data(as_text=True)
    assert [n for _k, n, _l in _rows(last)] == [second] and 'rel="next"' not in last


def test_the_step_opens_on_the_order_and_leads_back_to_the_queue(app, api, waiting):
    client = _client(app, "reviewer")
    number = waiting["reply"]
    page = client.get(f"/tickets/{number}?act=review-reply&then=todo").get_data(as_text=True)
    assert re.search(r'<details class="action" id="action-review-reply" open>', page)
    assert not re.search(r'id="action-(urge|comment|cancel)" open', page)   # the others stay folded
    assert 'name="then" value="todo"' in page
    resp = client.post(f"/tickets/{number}/act/review-reply",
                       data={"csrf_token": _csrf(page), "approve": "true", "then": "todo"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/todo"
    after = client.get("/todo").get_data(as_text=True)
    link = f'<a href="/tickets/{number}">{number}</a>'                                 # the message links the order
    assert f'<p class="alert ok" role="status">工单 {link}：已审核回复。</p>' in after
    assert (("visit", number) in [(k, n) for k, n, _l in _rows(after)])              # next: its return visit
    assert api("reviewer").get(f"/tickets/{number}").get_json()["status"] == "awaiting_visit"


def test_the_most_likely_step_is_open_on_the_order_page(app, waiting):
    # no ?act=: the step that moves the order on is open, the side steps folded
    page = _client(app, "reviewer").get(f"/tickets/{waiting['return']}").get_data(as_text=True)
    assert 'id="action-review-return" open>' in page
    assert re.findall(r'<details class="action" id="action-([\w-]+)" open>', page) == ["review-return"]
    # a side step asked for by name is the one open
    page = _client(app, "reviewer").get(f"/tickets/{waiting['return']}?act=comment").get_data(as_text=True)
    assert re.findall(r'<details class="action" id="action-([\w-]+)" open>', page) == ["comment"]


def test_only_the_centres_reviewers_have_the_queue(app, world):
    for user in ("handler", "call_taker", "manager", "admin"):
        assert _client(app, user).get("/todo").status_code == 403, user
    resp = app.test_client().get("/todo")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert 'href="/todo"' in _client(app, "reviewer").get("/board/").get_data(as_text=True)   # in the navigation
