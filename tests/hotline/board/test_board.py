"""The supervision board: queues, live counts, bulk urge, and who may see it."""
import re

from tests.hotline.auth.test_login import _csrf, logged_in as _client



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


def test_centre_viewers_share_the_counts_for_a_few_seconds(app, api, world, new_ticket, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_COUNT_SECONDS", 10)
    returns = lambda who: int(re.search(r'<strong>(\d+)</strong> returns to review',  # noqa: E731
                                        _client(app, who).get("/board/counts?lang=en").get_data(as_text=True)).group(1))
    number = _dispatched(api, world, new_ticket)
    clock.set(clock.now.replace(second=0, microsecond=0))                # the start of a ten-second window
    assert returns("reviewer") == 0
    assert api("handler").action(number, "return", {"reason": "不属于本单位"}).status_code == 200
    clock.advance(seconds=9)
    assert returns("supervisor") == 0           # another viewer, the same window: the count is shared
    clock.advance(seconds=1)
    assert returns("supervisor") == 1           # the next window counts again
    assert returns("manager") == 1


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


def test_each_list_folds_with_a_link_to_the_whole_list_a_page_at_a_time(app, api, world, new_ticket, clock,
                                                                         monkeypatch):
    from hotline.board import blueprint
    monkeypatch.setattr(blueprint, "FOLD", 2)
    monkeypatch.setattr(blueprint, "PER_PAGE", 2)
    late = [_dispatched(api, world, new_ticket, subject=f"超期工单{i}") for i in range(3)]
    clock.advance(days=10)
    client = _client(app, "reviewer")
    page = client.get("/board/?lang=en").get_data(as_text=True)
    red = page[page.index('id="q-red"'):page.index('id="q-yellow"')]
    assert late[0] in red and late[1] in red and late[2] not in red          # the oldest deadlines first
    assert '<a href="/board/list/red">View all (3)</a>' in red
    assert "View all" not in page[page.index('id="q-returned"'):]            # short lists are whole
    first = client.get("/board/list/red").get_data(as_text=True)
    second = client.get("/board/list/red?page=2").get_data(as_text=True)
    assert late[0] in first and late[1] in first and late[2] not in first
    assert late[2] in second and late[0] not in second
    assert 'href="/board/list/red?page=2" rel="next"' in first
    assert 'form="urge-form"' in first and 'name="back" value="red"' in first   # urged from the list itself
    token = _csrf(first)
    resp = client.post("/board/urge", data={"csrf_token": token, "number": [late[2]], "back": "red"})
    assert resp.headers["Location"] == "/board/list/red"
    assert client.get("/board/list/nonsense").status_code == 404
    assert _client(app, "handler").get("/board/list/red").status_code == 403


def test_long_titles_and_names_are_cut_not_wrapped(app, api, world, new_ticket, clock):
    subject = "关于幸福路与和平街交叉口东北角长期占道经营、噪音扰民及垃圾乱堆乱放问题的反映"
    number = _dispatched(api, world, new_ticket, subject=subject)
    clock.advance(days=10)
    page = _client(app, "reviewer").get("/board/").get_data(as_text=True)
    red = page[page.index('id="q-red"'):page.index('id="q-yellow"')]
    assert '<table class="list board-table">' in red and '<col class="c-number">' in red   # fixed column widths
    assert f'<span class="cut" title="{subject}">{subject}</span>' in red                  # the whole title on hover
    assert f'<a href="/tickets/{number}">{number}</a>' in red


def test_each_queue_keeps_its_own_order_when_read_together(app, api, world, new_ticket, clock, monkeypatch):
    from hotline.board import blueprint
    monkeypatch.setattr(blueprint, "FOLD", 2)
    # registered in one order, due in the reverse: suggestion 13, complaint 5, consultation 3 working days
    late = [_dispatched(api, world, new_ticket, type=t) for t in ("suggestion", "complaint", "consultation")]
    replied = [_dispatched(api, world, new_ticket, type=t) for t in ("consultation", "suggestion", "complaint")]
    for number in replied:
        assert api("handler").action(number, "sign").status_code == 200
        assert api("handler").action(number, "reply", {"content": "已处理"}).status_code == 200
    clock.advance(days=40)
    page = _client(app, "reviewer").get("/board/?lang=en").get_data(as_text=True)
    red = page[page.index('id="q-red"'):page.index('id="q-yellow"')]
    # overdue: the oldest deadline first, two shown
    assert late[2] in red and late[1] in red and late[0] not in red
    assert red.index(late[2]) < red.index(late[1])
    waiting = page[page.index('id="q-replied"'):]
    waiting = waiting[:waiting.index("</section>")]
    # replies waiting for review: in registration order, two shown
    assert replied[0] in waiting and replied[1] in waiting and replied[2] not in waiting
    assert waiting.index(replied[0]) < waiting.index(replied[1])
