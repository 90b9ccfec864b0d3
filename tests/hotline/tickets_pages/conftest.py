"""Browser-like clients for the work-order pages: logged in through the form, with CSRF tokens."""
import re

import pytest


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Browser:
    """A test client logged in as one user of the world, speaking English."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, path, headers=None, **kw):
        resp = self.client.get(path, headers={"Accept-Language": "en", **(headers or {})}, **kw)
        html = resp.get_data(as_text=True)
        if 'name="csrf_token"' in html:
            self.token = csrf_of(html)
        return resp

    def post(self, path, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token
        return self.client.post(path, data=data, headers={"Accept-Language": "en"}, **kw)

    def act(self, number, action, data=None, **kw):
        if self.token is None:
            self.get(f"/tickets/{number}")
        return self.post(f"/tickets/{number}/act/{action}", data, **kw)


@pytest.fixture
def browser(app, world):
    """browser("reviewer") -> a Browser logged in as that user."""
    def login(key: str) -> Browser:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": key, "password": "password-123", "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        b = Browser(client)
        b.get("/tickets?lang=en")
        return b
    return login


@pytest.fixture
def dispatched(api, world, new_ticket):
    """new ticket dispatched to the city management bureau (cgj); returns its number."""
    def make(dept="cgj", **overrides) -> str:
        number = new_ticket(**overrides)
        resp = api("call_taker").action(number, "dispatch", {"department": world.dept(dept).id})
        assert resp.status_code == 200, resp.get_json()
        return number
    return make
