"""Fixtures of the SMS tests: the application served on a socket, and a real Kannel in front of it
(the one `scripts/services start kannel` runs, calling back HOTLINE_TEST_SMS_APP_PORT)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.hotline.sms.kannel import PASSWORD, USERNAME, Kannel
from tests.live_server import LiveServer

TOKEN = os.environ.get("HOTLINE_TEST_SMS_TOKEN", "sms-gateway-test-token")


def _reports_started() -> int:
    """Delivery reports Kannel's smsbox has started calling back with (0 without Kannel's logs)."""
    log = Path(os.environ.get("HOTLINE_TEST_KANNEL_DIR", "/nonexistent")) / "smsbox.log"
    return log.read_bytes().count(b"Starting delivery report") if log.exists() else 0


@pytest.fixture(scope="module")
def sms_server(app):
    """The application where Kannel calls it back (its port fixed by scripts/services).

    It stops only once every delivery report Kannel started has reached it: smsbox (Kannel 1.4.5)
    panics when a report's callback finds the address closed, and every later test would find
    Kannel down."""
    port = int(os.environ.get("HOTLINE_TEST_SMS_APP_PORT", "0"))
    try:
        server = LiveServer(app, port)
    except OSError as error:
        pytest.fail(f"the SMS tests cannot serve the application on 127.0.0.1:{port}, where Kannel calls it "
                    f"back: {error}", pytrace=False)
    before, received, inner = _reports_started(), [], app.wsgi_app

    def counting(environ, start_response):
        if environ.get("PATH_INFO") == "/sms/kannel/dlr":
            received.append(environ.get("QUERY_STRING"))
        return inner(environ, start_response)

    app.wsgi_app = counting
    server.start()
    try:
        yield server
        deadline = time.monotonic() + 15
        while len(received) < _reports_started() - before and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)  # the last report's answer
    finally:
        server.stop()
        app.wsgi_app = inner
    assert not server.errors, "\n".join(server.errors)


@pytest.fixture(scope="module")
def kannel_gateway(sms_server):
    """Kannel (bearerbox, smsbox, fakesmsc) calling back `sms_server`; the app sends its SMS through it."""
    return Kannel.service()


@pytest.fixture
def kannel(app, kannel_gateway, sms_server):
    """This test's application sends SMS through Kannel and hears its callbacks."""
    saved = {k: app.config[k] for k in ("SMS_GATEWAY", "SMS_SETTINGS", "SMS_GATEWAY_TOKEN")}
    app.config.update(SMS_GATEWAY="kannel", SMS_GATEWAY_TOKEN=TOKEN, SMS_SETTINGS={
        "url": kannel_gateway.sendsms_url, "username": USERNAME, "password": PASSWORD, "sender": "12345",
        "dlr_url": f"{sms_server.url}/sms/kannel/dlr?key={TOKEN}"})
    app.extensions.pop("message_channels", None)
    kannel_gateway.forget_delivered()        # this test's phones start empty
    yield kannel_gateway
    app.config.update(saved)
    app.extensions.pop("message_channels", None)


@pytest.fixture
def gateway_token(app):
    saved = app.config.get("SMS_GATEWAY_TOKEN")
    app.config["SMS_GATEWAY_TOKEN"] = TOKEN
    yield TOKEN
    app.config["SMS_GATEWAY_TOKEN"] = saved
