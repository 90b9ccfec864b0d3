"""A channel that sends nothing: it writes each message to a log file and says so.

The embedded default (`scripts/run`) uses it for SMS when no gateway is configured, so
the outbox, retries and the centre's pages work on a laptop; nobody is told anything.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from integrations import messaging

_lock = threading.Lock()


class LogSink:
    """Appends one JSON line per message to `path`; `fail` (for drills) makes it refuse."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    def send(self, message: messaging.Outgoing) -> messaging.Receipt:
        line = json.dumps({
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "channel": self.name, "message_id": message.message_id, "to": message.address,
            "subject": message.subject, "text": message.text,
            "note": "NOT SENT: log sink, no gateway configured for this channel",
        }, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as err:
            raise messaging.DeliveryError(f"log sink {self.path}: {err}") from err
        return messaging.Receipt(provider_id=f"log-{message.message_id}", delivered=True)


def _factory(settings: Mapping[str, object]) -> LogSink:
    return LogSink(str(settings.get("name", "log")), Path(str(settings["path"])))


messaging.register("log", _factory)
