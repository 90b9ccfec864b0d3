"""SDP: the remote offer or answer read into a SessionDescription, and our own written."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
                    "inactive": "inactive"}
STATIC_CODECS = {0: "PCMU", 8: "PCMA"}


@dataclass(frozen=True)
class SessionDescription:
    """The first audio stream of a remote SDP, reduced to what we can use."""
    address: str
    port: int
    codecs: tuple[int, ...]    # PCMU (0) / PCMA (8), in the remote's order of preference
    event_pt: int | None       # telephone-event/8000
    direction: str

    @property
    def answer_direction(self) -> str:
        if self.port == 0 or self.address == "0.0.0.0":
            return "recvonly" if self.direction != "inactive" else "inactive"
        return ANSWER_DIRECTION[self.direction]


def parse_sdp(body: bytes) -> SessionDescription | None:
    session: dict[str, Any] = {"address": None, "direction": "sendrecv"}
    audio: dict[str, Any] | None = None
    section: dict[str, Any] | None = session
    for line in body.decode("utf-8", "replace").splitlines():
        kind, _, value = line.strip().partition("=")
        if kind == "m":
            fields = value.split()
            section = None
            if audio is None and len(fields) >= 3 and fields[0] == "audio":
                audio = section = {"port": int(fields[1].split("/")[0]), "address": None, "direction": None,
                                   "pts": [int(pt) for pt in fields[3:] if pt.isdigit()], "rtpmap": {}}
        elif section is None:
            continue
        elif kind == "c" and len(value.split()) >= 3:
            section["address"] = value.split()[2].split("/")[0]
        elif kind == "a" and value in DIRECTIONS:
            section["direction"] = value
        elif kind == "a" and value.startswith("rtpmap:") and section is audio:
            number, _, encoding = value[7:].partition(" ")
            if number.isdigit():
                section["rtpmap"][int(number)] = encoding.strip().lower()
    if audio is None or not (audio["address"] or session["address"]):
        return None
    codecs = tuple(pt for pt in audio["pts"]
                   if pt in STATIC_CODECS and audio["rtpmap"].get(pt, f"{STATIC_CODECS[pt]}/8000".lower())
                   .startswith(STATIC_CODECS[pt].lower()))
    events = [pt for pt in audio["pts"] if audio["rtpmap"].get(pt) == "telephone-event/8000"]
    return SessionDescription(audio["address"] or session["address"], audio["port"], codecs,
                              events[0] if events else None,
                              audio["direction"] or session["direction"])


def build_sdp(*, address: str, port: int, session_id: str, version: int, codecs: Iterable[int],
              event_pt: int | None, direction: str) -> str:
    codecs = list(codecs)
    payload_types = [*codecs, *([event_pt] if event_pt is not None else [])]
    lines = ["v=0", f"o=hotline {session_id} {version} IN IP4 {address}", "s=hotline",
             f"c=IN IP4 {address}", "t=0 0", f"m=audio {port} RTP/AVP {' '.join(map(str, payload_types))}"]
    lines += [f"a=rtpmap:{pt} {STATIC_CODECS[pt]}/8000" for pt in codecs]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-15"]
    lines += ["a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"
