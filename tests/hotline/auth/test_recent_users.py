"""Who a request acts as is kept a few seconds between requests (hotline/core/recent.py): a change made
in this process takes effect at once, one made by another process within RECENT_ROWS_SECONDS."""
import time

import sqlalchemy as sa

from hotline.auth.models import ApiToken, User
from hotline.auth.operations import set_user_active
from hotline.extensions import db
from tests.hotline.auth.test_login import logged_in


def _bearer(world, key):
    return {"Authorization": f"Bearer {world.tokens[key]}"}


def test_a_user_switched_off_here_is_refused_at_once_by_session_and_token(app, world):
    browser = logged_in(app, "handler")
    client = app.test_client()
    assert browser.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(world, "handler")).status_code == 200
    with app.app_context():
        admin = db.session.merge(world.users["admin"])
        set_user_active(admin, db.session.merge(world.users["handler"]), False)
        db.session.commit()
    assert browser.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(world, "handler")).status_code == 401


def test_a_token_revoked_by_another_process_stops_within_the_configured_seconds(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "RECENT_ROWS_SECONDS", 0.5)
    client = app.test_client()
    assert client.get("/api/v1/me", headers=_bearer(world, "call_taker")).status_code == 200
    # another process's write: a connection of its own, not this process's ORM session
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.update(ApiToken).where(ApiToken.user_id == world.users["call_taker"].id)
                     .values(is_revoked=True))
    started = time.monotonic()
    while client.get("/api/v1/me", headers=_bearer(world, "call_taker")).status_code == 200:
        assert time.monotonic() - started < 2, "the revoked token still works after 2 s (kept for 0.5 s)"
        time.sleep(0.05)
    resp = client.get("/api/v1/me", headers=_bearer(world, "call_taker"))
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"


def test_a_renamed_user_shows_the_new_name_at_once(app, world):
    browser = logged_in(app, "reviewer")
    assert browser.get("/api/v1/me").get_json()["display_name"] != "新名字"
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == world.users["reviewer"].id)
                           .values(display_name="新名字"))
        db.session.commit()
    assert browser.get("/api/v1/me").get_json()["display_name"] == "新名字"
