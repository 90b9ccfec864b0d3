"""UDP ports for the telephony tests' media, handed out below the kernel's ephemeral range.

A port found free by binding to 0 is an ephemeral port: the moment it is released the kernel may
give it (or its neighbours) to any other socket. SIPp binds four media ports from its `-mp` (audio
and video, each with RTCP) and a telephony worker binds RTP ports anywhere in its range as calls
come, so both get blocks from here: below 32768 nothing is handed out by the kernel, and this
process never hands the same block out twice until the whole span has been used.
"""
from __future__ import annotations

import os
import socket
import threading

LOCALHOST = "127.0.0.1"
SPAN = (12000, 32000)

_lock = threading.Lock()
_next = SPAN[0] + (os.getpid() * 2 % (SPAN[1] - SPAN[0]) // 2 * 2)


def _bindable(low: int, count: int) -> bool:
    sockets: list[socket.socket] = []
    try:
        for port in range(low, low + count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sockets.append(sock)
            sock.bind((LOCALHOST, port))
        return True
    except OSError:
        return False
    finally:
        for sock in sockets:
            sock.close()


def udp_block(count: int) -> int:
    """The first (even) port of `count` consecutive UDP ports nobody else is using or will be given."""
    global _next
    size = count + count % 2
    with _lock:
        for _ in range((SPAN[1] - SPAN[0]) // size + 1):
            low = _next if _next + size <= SPAN[1] else SPAN[0]
            _next = low + size
            if _bindable(low, count):
                return low
    raise RuntimeError(f"no {count} consecutive free UDP ports between {SPAN[0]} and {SPAN[1]} on {LOCALHOST}")


def sipp_media_port() -> int:
    """SIPp's `-mp`: it binds that port and the three after it."""
    return udp_block(4)
