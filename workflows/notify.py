"""On which channels one notice reaches one person, and when: pure rules.

Every notice is an in-app notice at once. A text message goes too where the person has a mobile
number and either wants text messages or the order is urgent (danger to life or property:
DOMAIN.md); an urgent one goes at once, day or night, any other waits for the end of the quiet
hours so that nobody is woken for a routine reminder.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

#: Local hours in which only urgent text messages are sent.
QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)


def sms_at(*, urgent: bool, wants_sms: bool, has_mobile: bool, local_now: datetime) -> datetime | None:
    """When a text message of this notice should go (local time), or None when none should."""
    if local_now.tzinfo is None:
        raise ValueError(f"local_now must be timezone-aware, got naive {local_now!r}")
    if not has_mobile or not (urgent or wants_sms):
        return None
    if urgent:
        return local_now
    clock = local_now.time()
    if clock >= QUIET_FROM:
        return datetime.combine(local_now.date() + timedelta(days=1), QUIET_UNTIL, tzinfo=local_now.tzinfo)
    if clock < QUIET_UNTIL:
        return datetime.combine(local_now.date(), QUIET_UNTIL, tzinfo=local_now.tzinfo)
    return local_now
