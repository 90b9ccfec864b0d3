"""Which gateway carries each message channel, built once per application from its configuration."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from hotline.messaging.models import MessageChannel
from integrations import messaging
from integrations.messaging import DeliveryError, Outgoing, Receipt


class InApp:
    """In-app notices: the row is the notice, delivered when queued; a notice sent again goes this way."""

    name = "inapp"

    def send(self, message: Outgoing) -> Receipt:
        return Receipt(provider_id=None, delivered=True)


class NotConfigured:
    """A channel no gateway is configured for: every message to it fails at once, saying so."""

    def __init__(self, channel: MessageChannel) -> None:
        self.name = channel.value
        self.channel = channel

    def send(self, message: Outgoing) -> Receipt:
        raise DeliveryError(f"no gateway is configured for {self.channel.en} messages", permanent=True)


def _build(channel: MessageChannel) -> messaging.Channel:
    config = current_app.config
    if channel is MessageChannel.INAPP:
        return InApp()
    if channel is MessageChannel.SMS:
        kind = config["SMS_GATEWAY"]
        settings = {"name": "sms", "path": config["SMS_LOG_PATH"]} if kind == "log" else dict(config["SMS_SETTINGS"])
        return messaging.build(kind, settings)
    if channel is MessageChannel.VOICE and config.get("VOICE_GATEWAY"):
        return messaging.build(config["VOICE_GATEWAY"], {})
    return NotConfigured(channel)


def channel_for(channel: MessageChannel) -> messaging.Channel:
    """The configured gateway of `channel` (built on first use, then reused)."""
    cache = current_app.extensions.setdefault("message_channels", {})
    if channel not in cache:
        cache[channel] = _build(channel)
    return cache[channel]


def sms_log_path() -> Path:
    return Path(current_app.config["SMS_LOG_PATH"])
