"""The interface language: Chinese unless someone chose otherwise; a user's choice is saved on
them, an anonymous visitor's in a cookie. A browser that prefers English is not a choice."""
import re

from hotline.auth.models import User
from hotline.extensions import db

ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client, username):
    token = _csrf(client.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True))
    resp = client.post("/login", data={"username": username, "password": "password-123", "csrf_token": token},
                       headers=ENGLISH_BROWSER)
    assert resp.status_code == 302


def _choose(client, language, page="/tickets"):
    token = _csrf(client.get(page, headers=ENGLISH_BROWSER).get_data(as_text=True))
    return client.post("/language", data={"language": language, "next": page, "csrf_token": token},
                       headers=ENGLISH_BROWSER)


def test_a_browser_preferring_english_still_gets_chinese(app, world):
    client = app.test_client()
    assert "登录" in client.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True)
    _login(client, "reviewer")
    page = client.get("/tickets", headers=ENGLISH_BROWSER).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "工单" in page
    # the user menu offers English, marked as the language it is written in
    assert re.search(r'<button[^>]*value="en" lang="en"[^>]*aria-pressed="false"[^>]*>English</button>', page)


def test_a_user_chooses_english_from_the_user_menu_and_it_is_remembered(app, world):
    client = app.test_client()
    _login(client, "reviewer")
    resp = _choose(client, "en")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/tickets")
    page = client.get("/tickets").get_data(as_text=True)
    assert '<html lang="en">' in page and "Work orders" in page
    assert db.session.get(User, world.users["reviewer"].id).locale == "en"
    # another browser, another day: the same user gets English; somebody else still Chinese
    elsewhere = app.test_client()
    _login(elsewhere, "reviewer")
    assert '<html lang="en">' in elsewhere.get("/tickets").get_data(as_text=True)
    other = app.test_client()
    _login(other, "supervisor")
    assert '<html lang="zh-CN">' in other.get("/tickets").get_data(as_text=True)
    # and back to Chinese
    _choose(elsewhere, "zh")
    assert '<html lang="zh-CN">' in elsewhere.get("/tickets").get_data(as_text=True)
    assert db.session.get(User, world.users["reviewer"].id).locale == "zh"


def test_the_saved_choice_wins_over_an_earlier_one_for_the_session(app, world):
    client = app.test_client()
    client.get("/login?lang=en")  # a link's one-off choice, kept for the session
    _login(client, "reviewer")
    assert '<html lang="en">' in client.get("/tickets").get_data(as_text=True)
    _choose(client, "zh")
    assert '<html lang="zh-CN">' in client.get("/tickets").get_data(as_text=True)


def test_an_anonymous_visitor_switches_the_portal_with_a_cookie(app, world):
    client = app.test_client()
    assert '<html lang="zh-CN">' in client.get("/portal", headers=ENGLISH_BROWSER).get_data(as_text=True)
    resp = _choose(client, "en", page="/portal")
    assert resp.status_code == 302
    assert re.search(r"lang=en;.*Max-Age=\d+", resp.headers["Set-Cookie"]), resp.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/portal/track").get_data(as_text=True)
    # the cookie alone carries it (a new session, as after the browser restarted)
    fresh = app.test_client()
    fresh.set_cookie("lang", "en")
    assert '<html lang="en">' in fresh.get("/portal").get_data(as_text=True)
    assert '<html lang="zh-CN">' in app.test_client().get("/portal").get_data(as_text=True)


def test_the_switch_ignores_unknown_languages_and_foreign_addresses(app, world):
    client = app.test_client()
    _login(client, "reviewer")
    token = _csrf(client.get("/tickets").get_data(as_text=True))
    resp = client.post("/language", data={"language": "fr", "next": "https://evil.example/", "csrf_token": token})
    assert resp.status_code == 302 and "evil" not in resp.headers["Location"]
    assert db.session.get(User, world.users["reviewer"].id).locale is None
    # without the form's token nothing changes
    assert client.post("/language", data={"language": "en", "next": "/tickets"}).status_code == 400
    assert '<html lang="zh-CN">' in client.get("/tickets").get_data(as_text=True)


def test_api_clients_still_ask_with_accept_language(api):
    assert api("reviewer").get("/nothing-here").get_json()["error"]["message"] == "There is nothing at this address."
    assert api("reviewer").get("/nothing-here", headers={"Accept-Language": "zh-CN"}).get_json()["error"]["message"] != \
        "There is nothing at this address."
