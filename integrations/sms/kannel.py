"""Kannel's HTTP interface (smsbox `sendsms`): one GET per message, with a delivery-report URL.

Kannel turns the UTF-8 text into UCS-2 (`coding=2`), splits a long message into concatenated
parts (the sendsms-user's `max-messages` and `concatenation`, see kannel.conf.example) and
calls `dlr_url` with our message id and each report's status (Kannel's `%d`: 1 delivered to
the phone, 2 failed at the phone, 4 buffered, 8 accepted by the SMSC, 16 rejected by it).

For a concatenated message Kannel reports on the whole message's acceptance once (bearerbox joins
its parts' SMSC outcomes into one 8 or 16: handle_split in bb_smscconn.c), but the phone's
reports (1, 2) come from the SMSC per part where it sends one per part (SMPP centres do): every
one on the same dlr-url, which names our message and not the part. With its fake SMSC, the one
we test against, a three-part message gets a single 1 and a single 8. So the outbox cannot wait
for every part of a Kannel message: it marks the message delivered at the first report of
delivery and failed by any report of failure, even a later one (hotline/messaging/operations.py).
Incoming messages reach the application through the sms-service's `get-url`
(hotline/sms/blueprint.py).
"""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from integrations import messaging
from integrations.sms import is_gsm_text

#: Ask for every report: delivered (1), failed (2), SMSC accepted (8) and SMSC rejected (16).
DLR_MASK = 1 + 2 + 8 + 16
#: Kannel's answers that mean the request itself is wrong: sending it again cannot help.
PERMANENT_STATUSES = {400, 404, 413}


class KannelSms:
    name = "kannel"

    def __init__(self, *, url: str, username: str, password: str, sender: str, dlr_url: str = "",
                 timeout: float = 10.0) -> None:
        self.url, self.username, self.password, self.sender = url, username, password, sender
        self.dlr_url, self.timeout = dlr_url, timeout

    def request_url(self, message: messaging.Outgoing) -> str:
        """The sendsms request for `message` (its password included: never log it)."""
        params = {"username": self.username, "password": self.password, "from": self.sender,
                  "to": message.address, "text": message.text, "charset": "UTF-8"}
        if not is_gsm_text(message.text):
            params["coding"] = "2"           # UCS-2: Chinese
        if message.urgent:
            params["priority"] = "1"
        if self.dlr_url:
            separator = "&" if "?" in self.dlr_url else "?"
            params["dlr-mask"] = str(DLR_MASK)
            # %d is Kannel's: replaced by each report's status when it calls back
            params["dlr-url"] = f"{self.dlr_url}{separator}id={message.message_id}&status=%d"
        return f"{self.url}?{urllib.parse.urlencode(params)}"

    def send(self, message: messaging.Outgoing) -> messaging.Receipt:
        try:
            with urllib.request.urlopen(self.request_url(message), timeout=self.timeout) as response:
                answer = response.read(500).decode("utf-8", "replace").strip()
        except urllib.error.HTTPError as err:
            answer = err.read(500).decode("utf-8", "replace").strip()
            raise messaging.DeliveryError(f"Kannel refused the message (HTTP {err.code}): {answer}",
                                          permanent=err.code in PERMANENT_STATUSES) from None
        except (OSError, ValueError) as err:   # connection refused, timeout, DNS ...
            raise messaging.DeliveryError(f"Kannel at {self.url} cannot be reached: {err}") from None
        # "0: Accepted for delivery" or "3: Queued for later delivery"
        return messaging.Receipt(provider_id=provider_id(message.message_id), delivered=False)


def provider_id(message_id: int | str) -> str:
    """How a Kannel message is named in the outbox: its delivery reports carry our id."""
    return f"kannel-{message_id}"


def _factory(settings: Mapping[str, object]) -> KannelSms:
    missing = [key for key in ("url", "username", "password", "sender") if not settings.get(key)]
    if missing:
        raise LookupError(f"Kannel needs {', '.join('SMS_KANNEL_' + k.upper() for k in missing)}")
    return KannelSms(url=str(settings["url"]), username=str(settings["username"]),
                     password=str(settings["password"]), sender=str(settings["sender"]),
                     dlr_url=str(settings.get("dlr_url") or ""), timeout=float(settings.get("timeout") or 10))


messaging.register("kannel", _factory)
