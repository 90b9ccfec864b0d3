"""On which channels one notice reaches one person, and when: pure rules.

Every notice is an in-app notice at once. A text message goes too where the person has a mobile
number and either wants text messages or the order is urgent (danger to life or property:
DOMAIN.md); an urgent one goes at once, day or night, any other waits for the end of the quiet
hours so that nobody is woken for a routine reminder.

An urgent order at night also rings the department's duty phone (值班电话) when a new order
reaches it or it is urged or escalated, as the seeds ask: the call goes first, the text
messages follow a little later.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

#: Local hours in which only urgent text messages are sent.
QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)
#: The notices that ring a department's duty phone for an urgent order at night.
DUTY_CALL_TEMPLATES = frozenset({"dispatched", "urge", "sign_urge", "escalation"})
#: The text messages of a notice that rang the duty phone follow the call after this long.
FOLLOW_CALL_AFTER = timedelta(minutes=2)


def _local(local_now: datetime) -> datetime:
    if local_now.tzinfo is None:
        raise ValueError(f"local_now must be timezone-aware, got naive {local_now!r}")
    return local_now


def quiet(local_now: datetime) -> bool:
    """Whether `local_now` is in the night's quiet hours."""
    clock = _local(local_now).time()
    return clock >= QUIET_FROM or clock < QUIET_UNTIL


def duty_call(*, template: str, urgent: bool, has_duty_phone: bool, local_now: datetime) -> bool:
    """Whether this notice first rings the department's duty phone."""
    return urgent and has_duty_phone and template in DUTY_CALL_TEMPLATES and quiet(local_now)


def sms_at(*, urgent: bool, wants_sms: bool, has_mobile: bool, local_now: datetime,
           after_call: bool = False) -> datetime | None:
    """When a text message of this notice should go (local time), or None when none should;
    `after_call`: the notice rang the duty phone first, and the message follows the call."""
    _local(local_now)
    if not has_mobile or not (urgent or wants_sms):
        return None
    if urgent:
        return local_now + FOLLOW_CALL_AFTER if after_call else local_now
    clock = local_now.time()
    if clock >= QUIET_FROM:
        return datetime.combine(local_now.date() + timedelta(days=1), QUIET_UNTIL, tzinfo=local_now.tzinfo)
    if clock < QUIET_UNTIL:
        return datetime.combine(local_now.date(), QUIET_UNTIL, tzinfo=local_now.tzinfo)
    return local_now
