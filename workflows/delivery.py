"""When to try a message again: the outbox's retry rule, pure.

Temporary failures are retried with a growing pause; after `MAX_ATTEMPTS` (or at once for a
permanent failure) the message is failed and shown to the centre, which may send it again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

#: Pause before attempt 2, 3, ... (the last pause repeats); about 2.5 hours from first try to giving up.
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
           timedelta(hours=1))
MAX_ATTEMPTS = 6


def next_attempt(attempts: int, failed_at: datetime, *, permanent: bool = False,
                 max_attempts: int = MAX_ATTEMPTS) -> datetime | None:
    """When to try again after `attempts` tries, the last failing at `failed_at`; None: give up."""
    if attempts < 1:
        raise ValueError(f"a failure comes after at least one attempt, got {attempts}")
    if permanent or attempts >= max_attempts:
        return None
    return failed_at + BACKOFF[min(attempts, len(BACKOFF)) - 1]
