"""SMPP 3.4 through smpplib: messages to an SMS centre over a transmitter bind; what the centre
delivers back (citizens' messages and delivery receipts) over a receiver bind (`SmppReceiver`,
run by `hotline sms smpp-receiver`).

Chinese goes as UCS-2 (data_coding 8); a long message is split into parts carrying a
concatenation header (esm_class UDHI), which the phone joins. The centre gives each part an
id of its own and sends a delivery receipt for each: the receipt of `send` carries every
part's id (the first is also the message's provider id), and the outbox reports the message
delivered once all its parts are, failed as soon as one fails.
"""
from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
import smpplib.gsm

from integrations import messaging

log = logging.getLogger(__name__)

#: Command statuses that sending again cannot cure: a bad number, a bad text, a refused sender.
PERMANENT = {c.SMPP_ESME_RINVMSGLEN, c.SMPP_ESME_RINVSRCADR, c.SMPP_ESME_RINVDSTADR, c.SMPP_ESME_RINVESMCLASS,
             c.SMPP_ESME_RINVNUMDESTS}
#: esm_class of a deliver_sm that is the SMS centre's delivery receipt (SMPP 3.4, 5.2.12).
DELIVERY_RECEIPT = 0x04
#: A delivery receipt's text: "id:IIIII sub:SSS dlvrd:DDD ... stat:DDDDDDD err:E ...".
_RECEIPT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)", re.S)


def provider_id(centre_id: str) -> str:
    """How an SMPP message (the centre's id of its first part) or one of its parts is named in the outbox."""
    return f"smpp-{centre_id}"


def _text_of(data_coding: int, raw: bytes) -> str:
    if data_coding == c.SMPP_ENCODING_ISO10646:
        return raw.decode("utf-16-be", "replace")
    if data_coding == c.SMPP_ENCODING_ISO88591:
        return raw.decode("latin-1")
    return raw.decode("ascii", "replace")      # GSM default alphabet: its ASCII part


def _str(value) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")


class SmppSms:
    """A transmitter bind kept open between messages (re-bound after the centre drops it)."""

    name = "smpp"

    def __init__(self, *, host: str, port: int, system_id: str, password: str, sender: str,
                 system_type: str = "", timeout: float = 10.0) -> None:
        self.host, self.port, self.system_id, self.password = host, port, system_id, password
        self.sender, self.system_type, self.timeout = sender, system_type, timeout
        self._client: smpplib.client.Client | None = None
        self._lock = threading.Lock()

    def _bound(self) -> smpplib.client.Client:
        if self._client is None:
            client = smpplib.client.Client(self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True)
            try:
                client.connect()
                client.bind_transmitter(system_id=self.system_id, password=self.password,
                                        system_type=self.system_type)
            except Exception:
                client.disconnect()
                raise
            self._client = client
        return self._client

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            try:
                self._client.unbind()
            except Exception:  # noqa: BLE001  (the connection may be gone already)
                pass
            try:
                self._client.disconnect()
            except Exception:  # noqa: BLE001
                pass
            self._client = None

    def _response(self, client: smpplib.client.Client, sequence: int):
        """The submit_sm_resp of `sequence`, answering the centre's keep-alives meanwhile."""
        while True:
            pdu = client.read_pdu()
            if pdu.command == "submit_sm_resp" and pdu.sequence == sequence:
                return pdu
            if pdu.command == "enquire_link":
                client._enquire_link_received(pdu)
            elif pdu.command == "generic_nack":
                return pdu

    def send(self, message: messaging.Outgoing) -> messaging.Receipt:
        parts, coding, esm_class = smpplib.gsm.make_parts(message.text)
        ids = []
        with self._lock:
            try:
                client = self._bound()
                for part in parts:
                    pdu = client.send_message(
                        source_addr_ton=c.SMPP_TON_ALNUM if not self.sender.isdigit() else c.SMPP_TON_UNK,
                        source_addr=self.sender, dest_addr_ton=c.SMPP_TON_INTL if message.address.startswith("+")
                        else c.SMPP_TON_UNK, destination_addr=message.address.lstrip("+"), short_message=part,
                        data_coding=coding, esm_class=esm_class, registered_delivery=True,
                        priority_flag=1 if message.urgent else 0)
                    resp = self._response(client, pdu.sequence)
                    if resp.status != c.SMPP_ESME_ROK:
                        description = c.DESCRIPTIONS.get(resp.status, "unknown error")
                        raise messaging.DeliveryError(
                            f"the SMS centre refused part {len(ids) + 1} of {len(parts)}: {description} "
                            f"(status 0x{resp.status:08X})", permanent=resp.status in PERMANENT)
                    ids.append(_str(getattr(resp, "message_id", "")))
            except messaging.DeliveryError:
                raise
            except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError, socket.timeout) as err:
                self._drop()
                raise messaging.DeliveryError(
                    f"SMPP to {self.host}:{self.port} failed after {len(ids)} of {len(parts)} part(s): "
                    f"{type(err).__name__}: {err}") from None
        # a part the centre gave no id can never be reported on: then the parts are not followed one by one
        part_ids = tuple(provider_id(i) for i in ids) if ids and all(ids) else ()
        return messaging.Receipt(provider_id=provider_id(ids[0]) if ids and ids[0] else None, delivered=False,
                                 part_ids=part_ids)


@dataclass(frozen=True)
class Incoming:
    """A citizen's message as the centre delivered it (concatenated parts joined)."""

    centre_id: str
    sender: str
    receiver: str
    text: str


class SmppReceiver:
    """A receiver bind: hands each citizen's message to `on_message` and each delivery receipt to
    `on_receipt(centre id of the message, delivered?, status word)`; answers the centre once handled."""

    def __init__(self, *, host: str, port: int, system_id: str, password: str, system_type: str = "",
                 on_message: Callable[[Incoming], None], on_receipt: Callable[[str, bool, str], None]) -> None:
        self.host, self.port, self.system_id, self.password, self.system_type = host, port, system_id, password, system_type
        self.on_message, self.on_receipt = on_message, on_receipt
        self._parts: dict[tuple[str, int, int], dict[int, bytes]] = {}
        self.client = smpplib.client.Client(host, port, timeout=None, allow_unknown_opt_params=True)

    def handle(self, pdu) -> int:
        if pdu.esm_class & DELIVERY_RECEIPT:
            found = _RECEIPT.search(_text_of(c.SMPP_ENCODING_DEFAULT, pdu.short_message or b""))
            centre_id = _str(getattr(pdu, "receipted_message_id", None)) or (found.group("id") if found else "")
            stat = found.group("stat") if found else ""
            if centre_id:
                self.on_receipt(centre_id, stat == "DELIVRD", stat)
            return c.SMPP_ESME_ROK
        raw, sender = pdu.short_message or b"", _str(pdu.source_addr)
        if pdu.esm_class & c.SMPP_GSMFEAT_UDHI and len(raw) > 6 and raw[0] == 5 and raw[1] == 0:
            ref, total, seq = raw[3], raw[4], raw[5]
            parts = self._parts.setdefault((sender, ref, total), {})
            parts[seq] = raw[6:]
            if len(parts) < total:
                return c.SMPP_ESME_ROK
            raw = b"".join(parts[i] for i in sorted(parts))
            del self._parts[(sender, ref, total)]
        centre_id = f"{sender}-{pdu.sequence}-{_str(getattr(pdu, 'receipted_message_id', None))}"
        self.on_message(Incoming(centre_id, sender, _str(pdu.destination_addr), _text_of(pdu.data_coding, raw)))
        return c.SMPP_ESME_ROK

    def run(self) -> None:
        """Bind and listen until the connection ends (the caller restarts it)."""
        self.client.set_message_received_handler(lambda pdu: self.handle(pdu))
        self.client.connect()
        self.client.bind_receiver(system_id=self.system_id, password=self.password, system_type=self.system_type)
        log.info("SMPP receiver bound to %s:%s as %s", self.host, self.port, self.system_id)
        self.client.listen()


def _factory(settings: Mapping[str, object]) -> SmppSms:
    missing = [key for key in ("host", "port", "system_id", "password", "sender") if not settings.get(key)]
    if missing:
        raise LookupError(f"SMPP needs {', '.join('SMS_SMPP_' + k.upper() for k in missing)}")
    return SmppSms(host=str(settings["host"]), port=int(settings["port"]), system_id=str(settings["system_id"]),
                   password=str(settings["password"]), sender=str(settings["sender"]),
                   system_type=str(settings.get("system_type") or ""), timeout=float(settings.get("timeout") or 10))


messaging.register("smpp", _factory)
