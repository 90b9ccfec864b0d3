"""The supervision board: queues, live counts, bulk urge, and who may see it."""
import re

from tests.hotline.auth.test_login import _csrf, _login


def _client(app, user):
    client = app.test_client()
    assert _login(client, user, "password-123").status_code == 302
    return client


def _dispatched(api, world, new_ticket, **kw):
    number = new_ticket(**kw)
    assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    return number


def test_board_shows_each_queue(app, api, world, new_ticket, clock):
    late = _dispatched(api, world, new_ticket, subject="已超期的工单")
    clock.advance(days=10)
    fresh = _dispatched(api, world, new_ticket, subject="新派的工单")
    returned = _dispatched(api, world, new_ticket, subject="被退回的工单")
    api("handler").action(returned, "return", {"reason": "不属于本单位"})
    page = _client(app, "reviewer").get("/board/").get_data(as_text=True)
    red = page[page.index('id="q-red"'):page.index('id="q-yellow"')]
    assert late in red and fresh not in red
    returns = page[page.index('id="q-returned"'):page.index('id="q-extensions"')]
    assert returned in returns and late not in returns


def test_counts_refresh_without_reloading(app, api, world, new_ticket, clock):
    client = _client(app, "supervisor")
    before = client.get("/board/counts").get_data(as_text=True)
    assert 'hx-trigger="every 30s, liverefresh from:body"' in before      # and on a live event
    _dispatched(api, world, new_ticket)
    clock.advance(days=10)
    after = client.get("/board/counts").get_data(as_text=True)
    overdue = lambda html: int(re.search(r'class="red"><a href="#q-red"><strong>(\d+)', html).group(1))  # noqa
    assert overdue(before) == 0 and overdue(after) == 1


def test_bulk_urge(app, api, world, new_ticket, clock):
    first = _dispatched(api, world, new_ticket)
    second = _dispatched(api, world, new_ticket)
    answered = new_ticket()
    api("call_taker").action(answered, "answer", {"reply": "已答复"})
    clock.advance(days=10)
    client = _client(app, "reviewer")
    token = _csrf(client.get("/board/").get_data(as_text=True))
    resp = client.post("/board/urge", data={"csrf_token": token, "number": [first, second, answered],
                                            "note": "请尽快办理"}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert answered in text  # named as not urged
    for number in (first, second):
        assert api("reviewer").get(f"/tickets/{number}").get_json()["urge_count"] == 1
    assert api("reviewer").get(f"/tickets/{answered}").get_json()["urge_count"] == 0
    assert client.post("/board/urge", data={"number": [first]}).status_code == 400  # no CSRF token


def test_who_may_see_the_board(app, world):
    assert _client(app, "manager").get("/board/").status_code == 200
    assert "urge-form" not in _client(app, "manager").get("/board/").get_data(as_text=True)
    assert _client(app, "handler").get("/board/").status_code == 403
    assert _client(app, "call_taker").get("/board/").status_code == 403
    manager = _client(app, "manager")
    token = _csrf(manager.get("/board/").get_data(as_text=True))
    assert manager.post("/board/urge", data={"csrf_token": token, "number": ["x"]}).status_code == 403


def test_the_board_marks_what_the_sweep_escalated_and_urged(app, api, world, new_ticket, clock):
    from hotline.escalation.tasks import run_sweep
    escalated = _dispatched(api, world, new_ticket, subject="久拖未办")
    clock.advance(days=12)                                          # past the deadline and 5 working days more
    urged_only = _dispatched(api, world, new_ticket, subject="刚刚超期")
    clock.advance(days=8)                                           # this one: overdue by a day or two
    run_sweep()
    page = _client(app, "reviewer").get("/board/?lang=en").get_data(as_text=True)
    red = page[page.index('id="q-red"'):page.index('id="q-yellow"')]
    row = lambda number: red[red.index(number):red.index("</tr>", red.index(number))]  # noqa: E731
    assert "Supervised" in row(escalated) and "Urged once" in row(escalated)   # its sign-for urge
    assert "Supervised" not in row(urged_only) and "Urged once" in row(urged_only)
