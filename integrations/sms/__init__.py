"""SMS gateways: Kannel's HTTP interface (integrations/sms/kannel.py) and SMPP (smpp.py).

Both register as outbox channels (integrations/messaging); `SMS_GATEWAY` picks one. The
text they are handed is final (the sender's signature 【12345】 is part of it); a gateway
encodes it (UCS-2 for Chinese), splits a long one into concatenated parts and asks for
delivery reports that name the outbox's message id.
"""
from __future__ import annotations

#: Characters of one SMS in UCS-2 (any Chinese text), and of each part of a concatenated one
#: (six bytes of each part go to the concatenation header).
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm_text(text: str) -> bool:
    """Whether the GSM 7-bit alphabet can carry `text` (plain ASCII here); else UCS-2."""
    return all(32 <= ord(ch) < 127 or ch in "\r\n" for ch in text)


def ucs2_parts(text: str) -> list[str]:
    """`text` as the parts a phone reassembles: one if it fits, else 67-character pieces."""
    if len(text) <= UCS2_SINGLE:
        return [text]
    return [text[i:i + UCS2_PART] for i in range(0, len(text), UCS2_PART)]
