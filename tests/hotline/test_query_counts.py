"""SQL statements per request on the hot paths: the same at 12 and at 24 orders (no query per row),
and no more than a fixed number, so that a list, an inbox or a board cannot creep back to one
query per order. A count is behaviour, not timing: it holds on SQLite and PostgreSQL alike."""
from __future__ import annotations

import re
from contextlib import contextmanager

import sqlalchemy as sa

from hotline.extensions import db

#: The most statements each hot path may run (the logged-in user, a token's user and the page header's unread
#: count are kept a few seconds between requests, hotline/core/recent.py, so a warm server does not read them).
#: A list whose first page holds all its rows is not counted; a longer one runs one more (its capped count).
LIMITS = {
    "list as the centre": 1,
    "list as a handler": 2,
    "list as a handler, filtered by status": 2,
    "an order's page": 9,
    "an order's similar orders (drawn after its page)": 3,
    "inbox /m": 2,
    "an order on /m": 8,
    "board": 4,
    "to-do": 3,
    "desk caller lookup": 3,
    "API list": 2,
    "API list as a handler": 3,
    "API detail": 3,
    "API history by phone": 2,
    # the order, its number, its caller, its trail's first step, its words for similar orders and its letter pairs
    # for the keyword search (migration 0038: a keyword few orders hold reads those, not every order)
    "API register": 6,
}
PHONE = "13812345678"
#: As the order page's script asks for a section drawn after the page.
HTMX = {"HX-Request": "true"}


@contextmanager
def counting():
    """Count the statements sent to the database inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _login(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": username, "password": "password-123", "csrf_token": token})
    assert resp.status_code == 302
    return client


def _orders(api, world, clock, count: int) -> list[str]:
    """`count` more orders from one caller, dispatched to the city management bureau; every third a report
    (confidential), every other one signed for, every fourth replied."""
    numbers = []
    for i in range(count):
        body = {"type": "report" if i % 3 == 0 else "complaint", "subject": f"占道经营 {i}"}
        resp = api("call_taker").post("/tickets", json={
            "type": body["type"], "channel": "phone", "subject": body["subject"], "content": "幸福路口摊贩占道经营。",
            "category": "1001", "citizen": {"name": "张三", "phone": PHONE}})
        assert resp.status_code == 201, resp.get_json()
        number = resp.get_json()["number"]
        assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
        if i % 2:
            assert api("handler").action(number, "sign").status_code == 200
        if i % 4 == 1:   # replied: waits on the centre's review (the board's and the to-do's queue)
            assert api("handler").action(number, "reply", {"content": "已处理完毕"}).status_code == 200
        numbers.append(number)
    return numbers


def _measure(app, api, world, numbers: list[str]) -> dict[str, int]:
    """Statements of each hot path, each asked once before (caches warm, as in a running server)."""
    reviewer, handler, calltaker = (_login(app, u) for u in ("reviewer", "handler", "call_taker"))
    number = numbers[-1]
    gets = {
        "list as the centre": (reviewer, "/tickets?per_page=50"),
        "list as a handler": (handler, "/tickets?per_page=50"),
        "list as a handler, filtered by status": (handler, "/tickets?per_page=50&status=in_progress,awaiting_sign"),
        "an order's page": (reviewer, f"/tickets/{number}"),
        "an order's similar orders (drawn after its page)": (reviewer, f"/tickets/{number}/panels/similar"),
        "inbox /m": (handler, "/m"),
        "an order on /m": (handler, f"/m/tickets/{number}"),
        "board": (reviewer, "/board/"),
        "to-do": (reviewer, "/todo"),
        "desk caller lookup": (calltaker, f"/desk/caller?phone={PHONE}"),
    }
    out = {}
    for name, (client, path) in gets.items():
        headers = HTMX if "/panels/" in path else {}
        assert client.get(path, headers=headers).status_code == 200, name
        with counting() as seen:
            assert client.get(path, headers=headers).status_code == 200, name
        out[name] = len(seen)
    calls = {
        "API list": lambda: api("reviewer").get(f"/tickets?department={world.dept('cgj').id}&per_page=50"),
        "API list as a handler": lambda: api("handler").get("/tickets?per_page=50"),
        "API detail": lambda: api("reviewer").get(f"/tickets/{number}"),
        "API history by phone": lambda: api("call_taker").get(f"/citizens?phone={PHONE}"),
    }
    for name, call in calls.items():
        assert call().status_code == 200, name
        with counting() as seen:
            assert call().status_code == 200, name
        out[name] = len(seen)
    register = {"type": "complaint", "channel": "phone", "subject": "噪声扰民", "content": "夜间施工噪声扰民。",
                "category": "1001", "citizen": {"name": "张三", "phone": PHONE}}
    api("call_taker").post("/tickets", json=register)
    with counting() as seen:
        assert api("call_taker").post("/tickets", json=register).status_code == 201
    out["API register"] = len(seen)
    return out


def test_hot_paths_run_a_fixed_number_of_statements_whatever_the_number_of_orders(app, api, world, clock,
                                                                                    monkeypatch):
    from hotline.board import blueprint as board
    # a list holding no more than it shows is not counted: make the board's lists longer than they
    # show both times (12 and 24 orders), and the order lists shorter than a page (50) both times
    monkeypatch.setattr(board, "FOLD", 2)
    numbers = _orders(api, world, clock, 12)
    clock.advance(days=20)  # all of them overdue: the board's and the inbox's lists are full
    few = _measure(app, api, world, numbers)
    clock.advance(days=-20)
    numbers += _orders(api, world, clock, 12)
    clock.advance(days=20)
    many = _measure(app, api, world, numbers)
    grown = {name: (few[name], many[name]) for name in few if many[name] != few[name]}
    assert not grown, f"statements grow with the number of orders (12 -> 24): {grown}"
    over = {name: (count, LIMITS[name]) for name, count in many.items() if count > LIMITS[name]}
    assert not over, f"more statements than allowed (count, limit): {over}"
