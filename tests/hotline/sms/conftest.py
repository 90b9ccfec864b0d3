"""Fixtures of the SMS tests: the application served on a socket, and a real Kannel in front of it."""
from __future__ import annotations

import pytest

from tests.hotline.sms.kannel import PASSWORD, USERNAME, Kannel
from tests.live_server import LiveServer

TOKEN = "sms-gateway-test-token"


@pytest.fixture(scope="module")
def sms_server(app):
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    assert not server.errors, "\n".join(server.errors)


@pytest.fixture(scope="module")
def kannel_gateway(app, sms_server, tmp_path_factory):
    """Kannel (bearerbox, smsbox, fakesmsc) calling back `sms_server`; the app sends its SMS through it."""
    kannel = Kannel(tmp_path_factory.mktemp("kannel"), sms_server.url, TOKEN).start()
    yield kannel
    kannel.stop()


@pytest.fixture
def kannel(app, kannel_gateway, sms_server):
    """This test's application sends SMS through Kannel and hears its callbacks."""
    saved = {k: app.config[k] for k in ("SMS_GATEWAY", "SMS_SETTINGS", "SMS_GATEWAY_TOKEN")}
    app.config.update(SMS_GATEWAY="kannel", SMS_GATEWAY_TOKEN=TOKEN, SMS_SETTINGS={
        "url": kannel_gateway.sendsms_url, "username": USERNAME, "password": PASSWORD, "sender": "12345",
        "dlr_url": f"{sms_server.url}/sms/kannel/dlr?key={TOKEN}"})
    app.extensions.pop("message_channels", None)
    yield kannel_gateway
    app.config.update(saved)
    app.extensions.pop("message_channels", None)


@pytest.fixture
def gateway_token(app):
    saved = app.config.get("SMS_GATEWAY_TOKEN")
    app.config["SMS_GATEWAY_TOKEN"] = TOKEN
    yield TOKEN
    app.config["SMS_GATEWAY_TOKEN"] = saved
