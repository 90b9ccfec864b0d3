"""The board's "no progress for N working days": signed-for work whose department has given no word
(sign-for, progress note, reply) for N working days of the official calendar."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.conftest import TZ
from tests.hotline.board.test_board import _client


def quiet_rows(page: str) -> list[tuple[str, str]]:
    """(number, department) of each row of the section, in its order."""
    section = page[page.index('id="q-quiet"'):]
    section = section[:section.index("</section>")]
    return re.findall(r'<td class="num"><a href="/tickets/(\d+)">\d+</a></td>\s*<td>.*?</td>\s*'
                      r'<td><span class="cut" title="[^"]*">([^<]+)</span></td>', section, re.S)


def quiet_count(app) -> int:
    html = _client(app, "supervisor").get("/board/counts").get_data(as_text=True)
    return int(re.search(r'href="#q-quiet"><strong>(\d+)', html).group(1))


@pytest.fixture
def orders(api, world, new_ticket, clock):
    """Orders with cgj, all dispatched on Monday 2026-06-15 10:00 (conftest's clock)."""
    def dispatched(subject: str, sign: bool = True) -> str:
        number = new_ticket(subject=subject)
        assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
        if sign:
            assert api("handler").action(number, "sign").status_code == 200
        return number

    o = {name: dispatched(name, sign=name != "unsigned") for name in
         ("silent", "noted", "replied", "rejected", "unsigned")}
    clock.set(datetime(2026, 6, 15, 11, 0, tzinfo=TZ))
    assert api("handler").action(o["rejected"], "reply", {"content": "已处理"}).status_code == 200
    assert api("reviewer").action(o["rejected"], "review-reply",
                                  {"approve": False, "note": "未说明处理结果"}).status_code == 200
    clock.set(datetime(2026, 6, 16, 10, 0, tzinfo=TZ))
    assert api("handler").action(o["noted"], "progress", {"text": "内部协调中", "public": False}).status_code == 200
    assert api("handler").action(o["replied"], "reply", {"content": "已处理"}).status_code == 200
    return o


def test_quiet_orders_at_a_given_time(app, orders, clock):
    # Thursday 06-18 10:30: three working days back is Monday 10:30
    clock.set(datetime(2026, 6, 18, 10, 30, tzinfo=TZ))
    page = _client(app, "reviewer").get("/board/").get_data(as_text=True)
    assert quiet_rows(page) == [(orders["silent"], "城市管理局")]
    assert quiet_count(app) == 1
    # Friday 06-19 is the Dragon Boat Festival, the weekend follows: by Monday 06-22 10:30 the three working
    # days back reach Tuesday 10:30; the quietest come first
    clock.set(datetime(2026, 6, 22, 10, 30, tzinfo=TZ))
    page = _client(app, "reviewer").get("/board/?lang=en").get_data(as_text=True)
    assert [n for n, _d in quiet_rows(page)] == [orders["silent"], orders["rejected"], orders["noted"]]
    assert "No progress for 3 working days" in page
    assert quiet_count(app) == 3
    # the holiday itself is no working day: at its noon nothing new has gone quiet since Thursday
    clock.set(datetime(2026, 6, 19, 12, 0, tzinfo=TZ))
    assert [n for n, _d in quiet_rows(_client(app, "reviewer").get("/board/").get_data(as_text=True))] == [
        orders["silent"], orders["rejected"]]


def test_a_progress_note_takes_an_order_off_the_list(app, api, orders, clock):
    clock.set(datetime(2026, 6, 18, 10, 30, tzinfo=TZ))
    assert quiet_count(app) == 1
    assert api("handler").action(orders["silent"], "progress", {"text": "已到现场核查。"}).status_code == 200
    assert quiet_count(app) == 0
    assert quiet_rows(_client(app, "reviewer").get("/board/").get_data(as_text=True)) == []


def test_how_many_working_days_is_configured(app, orders, clock):
    clock.set(datetime(2026, 6, 17, 10, 30, tzinfo=TZ))     # Wednesday
    assert quiet_count(app) == 0
    app.config["PROGRESS_QUIET_WORKING_DAYS"] = 1
    try:
        # one working day back from Wednesday 10:30 is Tuesday 10:30: all but nobody who spoke since
        page = _client(app, "reviewer").get("/board/?lang=en").get_data(as_text=True)
        assert "No progress for 1 working day" in page
        assert sorted(n for n, _d in quiet_rows(page)) == sorted([orders["silent"], orders["rejected"], orders["noted"]])
    finally:
        app.config["PROGRESS_QUIET_WORKING_DAYS"] = 3


def test_the_quiet_list_is_the_centres(app, orders, clock):
    clock.set(datetime(2026, 6, 22, 10, 30, tzinfo=TZ))
    assert _client(app, "handler").get("/board/").status_code == 403
    manager = _client(app, "manager").get("/board/").get_data(as_text=True)
    assert len(quiet_rows(manager)) == 3 and 'id="pick-quiet-' not in manager       # managers read, do not urge
    assert 'id="pick-quiet-' in _client(app, "reviewer").get("/board/").get_data(as_text=True)


def test_a_quiet_row_says_when_the_department_last_spoke_and_how_often_it_was_urged(app, api, orders, clock):
    clock.set(datetime(2026, 6, 18, 10, 30, tzinfo=TZ))
    assert api("reviewer").action(orders["silent"], "urge", {"note": "请尽快处理"}).status_code == 200
    page = _client(app, "reviewer").get("/board/?lang=en").get_data(as_text=True)
    section = page[page.index('id="q-quiet"'):]
    row = re.search(r"<tr>(?:(?!</tr>).)*?/tickets/%s\".*?</tr>" % orders["silent"], section, re.S).group(0)
    assert '<span class="badge">Urged once</span>' in row
    # its last word is the sign-for at dispatch, Monday 10:00: the day and time, the year in the title
    assert '<span class="when" title="2026-06-15 10:00">06-15 10:00</span>' in row
    state, word = re.search(r'<span class="sla (\w+)">([^<]+)</span>', row).groups()
    assert (state, word) in {("green", "On time"), ("yellow", "Due soon"), ("red", "Overdue")}
    assert "Urged" not in "".join(r for r in re.findall(r"<tr>.*?</tr>", section, re.S) if r != row)
