"""SIP messages: header parsing, URIs, Via, building requests, and pyVoIP's SIPMessage that reads them all."""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from pyVoIP import SIP

log = logging.getLogger(__name__)

# Every method a SIP peer may send us; pyVoIP alone refuses to parse anything but four.
METHODS = ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "PRACK", "REFER",
           "NOTIFY", "SUBSCRIBE", "MESSAGE", "REGISTER", "PUBLISH"]
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS"

COMPACT_NAMES = {"i": "Call-ID", "f": "From", "t": "To", "v": "Via", "m": "Contact",
                 "l": "Content-Length", "c": "Content-Type", "k": "Supported", "e": "Content-Encoding"}
KNOWN_NAMES = {name.lower(): name for name in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type", "Route",
    "Record-Route", "WWW-Authenticate", "Proxy-Authenticate", "Authorization", "Proxy-Authorization",
    "Supported", "Allow", "Expires", "Min-Expires", "Max-Forwards", "User-Agent", "Server", "Require",
    "Content-Encoding")}
LIST_HEADERS = {"Via", "Route", "Record-Route", "Contact"}


def canonical_name(name: str) -> str:
    lower = name.strip().lower()
    return COMPACT_NAMES.get(lower) or KNOWN_NAMES.get(lower) or name.strip()


def unfold(lines: Iterable[str]) -> list[str]:
    """Join header continuation lines (starting with white space) to the line above."""
    joined: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and joined:
            joined[-1] = f"{joined[-1]} {line.strip()}"
        else:
            joined.append(line)
    return joined


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value; commas in quotes or <...> do not count."""
    items: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth -= 1
        elif char == "," and not quoted and depth == 0:
            items.append(value[start:index].strip())
            start = index + 1
    items.append(value[start:].strip())
    return [item for item in items if item]


def header_lines(raw: bytes) -> list[tuple[str, str]]:
    """(canonical name, value) of every header field, list headers split into values."""
    head = raw.partition(b"\r\n\r\n")[0].decode("utf-8", "replace")
    fields: list[tuple[str, str]] = []
    for line in unfold(head.split("\r\n")[1:]):
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = canonical_name(name)
        values = split_list(value) if name in LIST_HEADERS else [value.strip()]
        fields.extend((name, item) for item in values)
    return fields


def body_of(message: SIP.SIPMessage) -> bytes:
    return message.raw.partition(b"\r\n\r\n")[2]


def uri_of(name_addr: str) -> str:
    if "<" in name_addr:
        return name_addr[name_addr.index("<") + 1:name_addr.index(">")]
    return name_addr.split(";")[0].strip()


def user_of(uri: str) -> str:
    """The user part of a sip:/sips: URI, the number of a tel: URI."""
    scheme, _, address = uri.partition(":")
    if "@" in address:
        return address.split("@")[0].split(";")[0]
    return address.split(";")[0] if scheme.lower() == "tel" else ""


def display_of(name_addr: str) -> str:
    return name_addr.split("<")[0].strip().strip('"') if "<" in name_addr else ""


def tag_of(name_addr: str) -> str:
    params = name_addr[name_addr.index(">") + 1:] if ">" in name_addr else name_addr
    match = re.search(r";\s*tag=([^;\s]+)", params, re.IGNORECASE)
    return match.group(1) if match else ""


def without_tag(name_addr: str) -> str:
    if ">" not in name_addr:
        return re.sub(r";\s*tag=[^;\s]+", "", name_addr, flags=re.IGNORECASE)
    end = name_addr.index(">") + 1
    return name_addr[:end] + re.sub(r";\s*tag=[^;\s]+", "", name_addr[end:], flags=re.IGNORECASE)


def via_parts(via: str) -> tuple[str, int | None, dict[str, str]]:
    """Host, port and parameters of one Via value."""
    sent_by, *params = via.split(None, 1)[1].split(";")
    host, _, port = sent_by.strip().partition(":")
    values = {}
    for param in params:
        name, _, value = param.strip().partition("=")
        values[name.lower()] = value
    return host, int(port) if port else None, values


def branch_of(via: str) -> str:
    return via_parts(via)[2].get("branch", "")


def reply_address(via: str) -> tuple[str, int]:
    """Where responses go (RFC 3261 18.2.2, RFC 3581): received and rport win."""
    host, port, params = via_parts(via)
    rport = params.get("rport")
    return params.get("received") or host, int(rport) if rport else port or 5060


def reason_phrase(status: int) -> str:
    try:
        return SIP.SIPStatus(status).phrase
    except ValueError:
        return "Unknown"


def build_request(method: str, uri: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    payload = body.encode()
    lines = [f"{method} {uri} SIP/2.0", *(f"{name}: {value}" for name, value in headers),
             f"Content-Length: {len(payload)}", "", ""]
    return "\r\n".join(lines).encode() + payload


class Message(SIP.SIPMessage):
    """pyVoIP's SIPMessage with its raw header lines kept (``lines``); any method or
    status code is read, and an SDP line pyVoIP cannot read no longer drops the message."""

    def __init__(self, data: bytes) -> None:
        self.lines = header_lines(data)
        self.status_code = 0
        self.received_at = time.monotonic()
        super().__init__(data)

    def first(self, name: str) -> str | None:
        return next((value for key, value in self.lines if key == name), None)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.lines if key == name]

    @property
    def top_via(self) -> str:
        return self.values("Via")[0]

    @property
    def request_uri(self) -> str:
        return self.heading.split(b" ")[1].decode()

    @property
    def cseq(self) -> int:
        return int(self.headers["CSeq"]["check"])

    def parse(self, data: bytes) -> None:
        self.SIPCompatibleMethods = METHODS
        super().parse(data)

    def parse_sip_response(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.heading = lines.pop(0)
        version, code = self.heading.split(b" ")[:2]
        self.version = version.decode()
        if self.version not in self.SIPCompatibleVersions:
            raise SIP.SIPParseError(f"SIP Version {self.version} not compatible.")
        self.status_code = int(code)
        try:
            self.status = SIP.SIPStatus(self.status_code)
        except ValueError:
            self.status = SIP.SIPStatus(self.status_code // 100 * 100)
        self.parse_raw_header(lines, self.parse_header)
        self.parse_raw_body(body, self.parse_body)

    def parse_sip_message(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.heading = lines.pop(0)
        method, _, version = self.heading.split(b" ")[:3]
        self.version = version.decode()
        if self.version not in self.SIPCompatibleVersions:
            raise SIP.SIPParseError(f"SIP Version {self.version} not compatible.")
        self.method = method.decode()
        self.parse_raw_header(lines, self.parse_header)
        self.parse_raw_body(body, self.parse_body)

    @staticmethod
    def parse_raw_body(body: bytes, handle: Callable[[str, str], None]) -> None:
        for line in body.decode("utf-8", "replace").split("\r\n"):
            kind, equals, value = line.partition("=")
            if equals:
                handle(kind, value)

    def parse_header(self, header: str, data: Any) -> None:
        """pyVoIP reads only sip: URIs in From and To; a tel: or sips: caller is kept too."""
        if header in ("From", "To") and not re.search(r"<?sip:", data):
            raw, _, tag = data.partition(";tag=")
            address = uri_of(raw).split(":", 1)[-1]
            self.headers[header] = {"raw": raw, "tag": tag, "address": address, "number": address.split("@")[0],
                                    "caller": display_of(raw), "host": address.partition("@")[2]}
            return
        super().parse_header(header, data)

    def parse_body(self, header: str, data: str) -> None:
        try:
            super().parse_body(header, data)
        except (ValueError, KeyError, IndexError, UnboundLocalError):
            log.debug("SDP line %s=%s not understood by pyVoIP", header, data)
