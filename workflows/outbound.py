"""Calls the centre places: which failed ones are tried again, how often, and when.

Pure rules; the telephony operations apply them to outbound requests.
"""
from __future__ import annotations

from datetime import datetime, timedelta

#: Kinds of call placed again when they fail (an agent's own click-to-dial is not: they are right there).
RETRIED_KINDS = frozenset({"survey", "notification", "callback"})
#: Results worth another try; anything else (a bad number, refused by the trunk) is final.
RETRIED_RESULTS = frozenset({"busy", "no_answer", "failed", "no_digit"})
#: A failed call is tried again after this long.
RETRY_AFTER = timedelta(minutes=5)


def retry_at(kind: str, result: str | None, *, ok: bool, attempts: int, max_attempts: int,
             now: datetime) -> datetime | None:
    """When to place a finished call again, or None when it is done (succeeded or given up)."""
    if ok or str(kind) not in RETRIED_KINDS or result not in RETRIED_RESULTS or attempts >= max_attempts:
        return None
    return now + RETRY_AFTER
