"""Helpers for the department workspace: a logged-in browser, orders dispatched to a department."""
import re

import pytest


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def browser(app, world):
    """browser("handler") -> a test client logged in through the form, speaking English."""
    def login(key: str):
        client = app.test_client()
        client.get("/login?lang=en")
        token = csrf_token(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": key, "password": "password-123", "csrf_token": token})
        assert resp.status_code == 302
        return client
    return login


@pytest.fixture
def dispatched(api, new_ticket, world):
    """dispatched("cgj", signed_by="handler") -> the number of an order dispatched (and signed)."""
    def make(dept_key: str, signed_by: str | None = None, **overrides) -> str:
        number = new_ticket(**overrides)
        resp = api("call_taker").action(number, "dispatch", {"department": world.dept(dept_key).id})
        assert resp.status_code == 200, resp.get_json()
        if signed_by:
            resp = api(signed_by).action(number, "sign")
            assert resp.status_code == 200, resp.get_json()
        return number
    return make


def section(html: str, anchor: str) -> str:
    """The HTML of the inbox group whose heading has id `anchor` (up to the next group)."""
    start = html.index(f'<h2 id="{anchor}"')
    end = html.find("<h2 ", start + 1)
    return html[start:end if end != -1 else len(html)]


def post_action(client, number, action, data=None, **kw):
    token = csrf_token(client.get(f"/m/tickets/{number}").get_data(as_text=True))
    return client.post(f"/m/tickets/{number}/act/{action}", data={"csrf_token": token, **(data or {})}, **kw)
