"""Logging in: CSRF on the form, wrong passwords, rate limits, expiring and revoked sessions."""
import re
from datetime import timedelta

from hotline.extensions import db


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client, username, password, token=None):
    if token is None:
        token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def logged_in(app, username, password="password-123"):
    """A test client logged in as `username` (the interface in its default language)."""
    client = app.test_client()
    assert _login(client, username, password).status_code == 302
    return client


def test_login_page_is_chinese_by_default_and_english_on_request(app, world):
    client = app.test_client()
    assert "登录" in client.get("/login").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)
    # the choice sticks for the session
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_login_and_logout(app, world):
    client = app.test_client()
    assert "/login" in client.get("/").headers["Location"]
    resp = _login(client, "reviewer", "password-123")
    assert resp.status_code == 302
    assert "reviewer" in client.get("/", follow_redirects=True).get_data(as_text=True)
    # the browser session may call the API too
    assert client.get("/api/v1/me").get_json()["role"] == "centre_reviewer"
    token = _csrf(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert "/login" in client.get("/").headers["Location"]


def test_wrong_password_says_so_in_chinese(app, world):
    client = app.test_client()
    resp = _login(client, "reviewer", "wrong-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(app, world):
    client = app.test_client()
    resp = client.post("/login", data={"username": "reviewer", "password": "password-123"})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302


def test_browser_api_writes_need_the_csrf_token(app, world):
    client = app.test_client()
    _login(client, "call_taker", "password-123")
    body = {"type": "consultation", "subject": "咨询", "content": "办事指南"}
    assert client.post("/api/v1/tickets", json=body).status_code == 400
    token = _csrf(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert client.post("/api/v1/tickets", json=body, headers={"X-CSRFToken": token}).status_code == 201


def test_logins_are_rate_limited(app, world):
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    codes = [_login(client, "reviewer", "nope", token).status_code for _ in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429
    # even the right password waits until the window passes
    assert _login(client, "reviewer", "password-123", token).status_code == 429


def test_session_expires(app, world, clock):
    client = app.test_client()
    _login(client, "reviewer", "password-123")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    assert timedelta(minutes=1) < lifetime <= timedelta(hours=12)


def test_password_change_ends_other_sessions(app, world):
    client = app.test_client()
    _login(client, "reviewer", "password-123")
    assert client.get("/api/v1/me").status_code == 200
    with app.app_context():
        user = db.session.merge(world.users["reviewer"])
        user.set_password("a-new-password")
        db.session.commit()
    assert client.get("/api/v1/me").status_code == 401
    assert "/login" in client.get("/").headers["Location"]


def test_api_token_errors(app, world):
    client = app.test_client()
    assert client.get("/api/v1/tickets").status_code == 401
    resp = client.get("/api/v1/tickets", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    resp = client.get("/api/v1/tickets", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401
