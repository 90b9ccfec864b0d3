"""Browsers keep stylesheets and scripts until they change: pages link them by content digest."""
import hashlib
import re
from pathlib import Path

from flask import Flask

from hotline.web.assets import YEAR, install
from tests.hotline.auth.test_login import logged_in


def test_pages_link_assets_by_digest_and_those_are_kept_for_a_year(app, world):
    page = logged_in(app, "reviewer").get("/tickets").get_data(as_text=True)
    links = dict(re.findall(r'/static/(css/app\.css|js/app\.js|vendor/htmx\.min\.js)\?v=([0-9a-f]{12})"', page))
    assert set(links) == {"css/app.css", "js/app.js", "vendor/htmx.min.js"}, links
    client = app.test_client()
    for filename, digest in links.items():
        body = Path(app.static_folder, filename).read_bytes()
        assert digest == hashlib.sha256(body).hexdigest()[:12]
        resp = client.get(f"/static/{filename}?v={digest}")
        assert resp.status_code == 200 and resp.data == body
        cache = resp.cache_control
        assert cache.public and cache.max_age == YEAR and cache.immutable and not cache.no_cache
        resp.close()
    # an address without the digest, or with an old one, is checked with the server every time
    for query in ("", "?v=000000000000"):
        resp = client.get(f"/static/css/app.css{query}")
        assert resp.status_code == 200 and resp.cache_control.no_cache and resp.cache_control.max_age is None
        resp.close()


def test_a_changed_file_gets_a_new_address(tmp_path):
    (tmp_path / "site.css").write_text("body { color: black }")
    app = Flask("assets-test", static_folder=str(tmp_path), static_url_path="/static")
    install(app)
    with app.test_request_context():
        from flask import url_for
        before = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: navy; background: white }")
        after = url_for("static", filename="site.css")
        missing = url_for("static", filename="none.css")
    assert before != after and after.endswith(hashlib.sha256(b"body { color: navy; background: white }").hexdigest()[:12])
    assert missing == "/static/none.css"
