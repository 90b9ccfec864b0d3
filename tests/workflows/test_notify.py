"""When a notice also goes as a text message (workflows/notify.py), no database."""
from datetime import datetime

import pytest

from workflows.deadlines import DEFAULT_TZ as TZ
from workflows.notify import duty_call, sms_at


def at(h, m=0, day=15):
    return datetime(2026, 6, day, h, m, tzinfo=TZ)


@pytest.mark.parametrize("now, urgent, wants, mobile, expected", [
    (at(10), False, True, True, at(10)),            # by day, for whoever wants them
    (at(10), False, False, True, None),             # not wanted, not urgent: in-app only
    (at(23, 30), True, False, True, at(23, 30)),    # urgent: at once, at night too, wanted or not
    (at(23, 30), False, True, True, at(8, day=16)),  # routine at night: at 08:00 the next morning
    (at(6, 59), False, True, True, at(8)),          # routine before 08:00: at 08:00 the same day
    (at(22), False, True, True, at(8, day=16)),     # the quiet hours start at 22:00 sharp
    (at(8), False, True, True, at(8)),              # and end at 08:00 sharp
    (at(10), True, True, False, None),              # no mobile number: nothing to send to
])
def test_who_gets_a_text_message_and_when(now, urgent, wants, mobile, expected):
    assert sms_at(urgent=urgent, wants_sms=wants, has_mobile=mobile, local_now=now) == expected


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        sms_at(urgent=True, wants_sms=True, has_mobile=True, local_now=datetime(2026, 6, 15, 10))


@pytest.mark.parametrize("template, urgent, phone, now, expected", [
    ("dispatched", True, True, at(23, 30), True),      # an urgent new order at night rings the duty phone
    ("urge", True, True, at(7, 59), True),             # until 08:00
    ("escalation", True, True, at(22), True),          # from 22:00 sharp
    ("dispatched", True, True, at(8), False),          # by day the people's own notices suffice
    ("dispatched", False, True, at(23, 30), False),    # a routine order never wakes anyone
    ("reminder", True, True, at(23, 30), False),       # a reminder is no reason to ring
    ("urge", True, False, at(23, 30), False),          # no duty phone: nothing to call
])
def test_which_notices_ring_the_duty_phone(template, urgent, phone, now, expected):
    assert duty_call(template=template, urgent=urgent, has_duty_phone=phone, local_now=now) is expected


def test_the_text_of_a_notice_that_rang_the_duty_phone_follows_the_call():
    assert sms_at(urgent=True, wants_sms=False, has_mobile=True, local_now=at(23, 30), after_call=True) == at(23, 32)
