"""Acceptance point 3 through the API: deadlines of dispatched orders, extensions,
SLA colours and lists, a year missing from the calendar, and `hotline calendar import`.

The pure working-day arithmetic is covered by tests/workflows/test_deadlines.py; here
we check what a user of the API sees on the order. Expected dates were checked against
the official calendar (`chinesecalendar`): 2025-09-28 (Sunday) and 2025-10-11
(Saturday) are make-up working days, 2025-10-01..08 are the National Day holidays,
2026-06-19 (Friday) is the Dragon Boat Festival.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import TZ


def local(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@pytest.fixture
def dept_ids(world) -> dict[str, int]:
    """Department ids by key, read once (the world's objects detach after a request)."""
    return {key: d.id for key, d in world.depts.items()}


def dispatch(api, ids, number, dept="cgj", **extra):
    resp = api("call_taker").action(number, "dispatch", {"department": ids[dept], **extra})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def order(api, number) -> dict:
    resp = api("reviewer").get(f"/tickets/{number}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def lead(body: dict) -> dict:
    [a] = [a for a in body["assignments"] if a["role"] == "lead" and a["parent"] is None
           and a["status"] not in ("withdrawn",)]
    return a


def listed(api, query: str) -> set[str]:
    resp = api("reviewer").get(f"/tickets?per_page=200&{query}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    numbers = {item["number"] for item in body["items"]}
    assert body["total"] == len(numbers)
    return numbers


GAS_LEAK = {"type": "help", "category": "0903", "subject": "燃气泄漏", "content": "楼道里有很浓的燃气味。"}
NO_WATER = {"type": "help", "category": "0901", "subject": "停水", "content": "小区从早上起停水，没有通知。"}


# -- due times written on the assignment at dispatch ------------------------------------

DEADLINE_CASES = [
    pytest.param(
        # Friday afternoon before National Day: the next working day is the make-up Sunday.
        {}, "cgj", local(2025, 9, 26, 16), "general",
        local(2025, 9, 28, 16),            # sign: 1 working day -> make-up Sunday 09-28
        local(2025, 10, 10, 16),           # reply: 09-28, 09-29, 09-30, 10-09, 10-10
        local(2025, 9, 29, 16),            # return window: 09-28, 09-29
        id="friday-before-holiday-signs-on-makeup-sunday"),
    pytest.param(
        {}, "cgj", local(2025, 9, 30, 10), "general",
        local(2025, 10, 9, 10),            # the whole holiday is skipped
        local(2025, 10, 14, 10),           # 10-09, 10-10, 10-11 (make-up Saturday), 10-13, 10-14
        local(2025, 10, 10, 10),
        id="last-day-before-national-day"),
    pytest.param(
        # Dispatched on the make-up Sunday itself: a working day, same clock time.
        {}, "cgj", local(2025, 9, 28, 9, 30), "general",
        local(2025, 9, 29, 9, 30),
        local(2025, 10, 11, 9, 30),        # 09-29, 09-30, 10-09, 10-10, 10-11 (make-up Saturday)
        local(2025, 9, 30, 9, 30),
        id="dispatched-on-makeup-sunday"),
    pytest.param(
        # Dispatched on a holiday: the next working day counts as day 1, due at its end.
        {}, "cgj", local(2025, 10, 3, 10), "general",
        local(2025, 10, 9, 23, 59, 59),
        local(2025, 10, 14, 23, 59, 59),
        local(2025, 10, 10, 23, 59, 59),
        id="dispatched-on-a-holiday"),
    pytest.param(
        # Urgent: clock time, across midnight, holidays count.
        GAS_LEAK, "water", local(2025, 10, 1, 23, 50), "urgent",
        local(2025, 10, 2, 0, 5),          # 15 minutes
        local(2025, 10, 2, 1, 50),         # 2 hours
        None,
        id="urgent-gas-leak-across-midnight-on-a-holiday"),
    pytest.param(
        NO_WATER, "water", local(2025, 10, 1, 23, 50), "utilities",
        local(2025, 10, 2, 0, 20),         # 30 minutes
        local(2025, 10, 2, 23, 50),        # 24 hours
        None,
        id="utilities-across-midnight-on-a-holiday"),
]


@pytest.mark.parametrize("overrides,dept,at,urgency,sign_due,reply_due,return_due", DEADLINE_CASES)
def test_dispatch_sets_deadlines_from_the_calendar(api, dept_ids, new_ticket, clock, overrides, dept, at,
                                                   urgency, sign_due, reply_due, return_due):
    clock.set(at - timedelta(minutes=5))
    number = new_ticket(**overrides)
    clock.set(at)
    dispatch(api, dept_ids, number, dept)

    body = order(api, number)
    assert body["urgency"] == urgency
    a = lead(body)
    assert a["department"]["id"] == dept_ids[dept]
    assert parse(a["dispatched_at"]) == at
    assert parse(a["sign_due_at"]) == sign_due
    assert parse(a["reply_due_at"]) == reply_due
    if return_due is not None:
        assert parse(a["return_due_at"]) == return_due
    # The order's own deadline is its lead's reply deadline, and it has just started.
    assert body["sla"] == {"state": "green", "due_at": a["reply_due_at"]}
    # Shown in local time with its offset, as API.md asks.
    assert a["reply_due_at"].endswith("+08:00")


def test_assist_departments_get_the_same_deadlines(api, dept_ids, new_ticket, clock):
    clock.set(local(2025, 9, 26, 16))
    number = new_ticket()
    dispatch(api, dept_ids, number, "cgj", assist=[dept_ids["scj"]])
    body = order(api, number)
    assist = [a for a in body["assignments"] if a["role"] == "assist"]
    assert len(assist) == 1
    assert parse(assist[0]["sign_due_at"]) == local(2025, 9, 28, 16)
    assert parse(assist[0]["reply_due_at"]) == local(2025, 10, 10, 16)


def test_consultation_gets_three_working_days(api, dept_ids, new_ticket, clock):
    clock.set(local(2025, 9, 30, 10))
    number = new_ticket(type="consultation")
    dispatch(api, dept_ids, number)
    # 10-09, 10-10, 10-11 (make-up Saturday)
    assert parse(lead(order(api, number))["reply_due_at"]) == local(2025, 10, 11, 10)


# -- extensions ------------------------------------------------------------------------

def _signed_complaint(api, dept_ids, new_ticket, clock) -> str:
    """A complaint dispatched Monday 2026-06-15 10:00 to cgj and signed by its handler."""
    clock.set(local(2026, 6, 15, 10))
    number = new_ticket()
    dispatch(api, dept_ids, number, "cgj")
    resp = api("handler").action(number, "sign")
    assert resp.status_code == 200, resp.get_json()
    return number


def _request(api, number, days):
    return api("handler").action(number, "request-extension", {"days": days, "reason": "需要协调多个部门现场核查"})


def _review(api, number, approve, note="同意延期"):
    resp = api("reviewer").action(number, "review-extension", {"approve": approve, "note": note})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_extension_approved_moves_the_reply_deadline_by_working_days(api, dept_ids, new_ticket, clock):
    number = _signed_complaint(api, dept_ids, new_ticket, clock)
    # 5 working days from Mon 06-15: 16, 17, 18, (19 Dragon Boat Festival), 22, 23
    assert parse(lead(order(api, number))["reply_due_at"]) == local(2026, 6, 23, 10)

    clock.advance(days=2)
    resp = _request(api, number, 3)
    assert resp.status_code == 200, resp.get_json()
    # Asking changes nothing yet.
    assert parse(lead(resp.get_json())["reply_due_at"]) == local(2026, 6, 23, 10)

    body = _review(api, number, True)
    a = lead(body)
    assert parse(a["reply_due_at"]) == local(2026, 6, 26, 10)  # 24, 25, 26
    assert a["extended_days"] == 3
    assert parse(body["sla"]["due_at"]) == local(2026, 6, 26, 10)
    assert body["extension_requests"][-1]["status"] == "approved"
    # Read back fresh: the new deadline was stored, not just returned.
    fresh = order(api, number)
    assert parse(fresh["sla"]["due_at"]) == local(2026, 6, 26, 10)
    assert parse(lead(fresh)["reply_due_at"]) == local(2026, 6, 26, 10)
    # The trail says what happened.
    events = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
    assert [e["action"] for e in events][-2:] == ["request-extension", "review-extension"]
    assert events[-1]["data"]["approve"] is True and events[-1]["data"]["days"] == 3

    # Over the weekend: 06-26 (Fri) + 2 working days = Tue 06-30.
    assert _request(api, number, 2).status_code == 200
    body = _review(api, number, True)
    assert parse(body["sla"]["due_at"]) == local(2026, 6, 30, 10)
    assert lead(body)["extended_days"] == 5


def test_extension_denied_leaves_the_deadline(api, dept_ids, new_ticket, clock):
    number = _signed_complaint(api, dept_ids, new_ticket, clock)
    assert _request(api, number, 4).status_code == 200
    body = _review(api, number, False, note="理由不充分")
    a = lead(body)
    assert parse(a["reply_due_at"]) == local(2026, 6, 23, 10)
    assert a["extended_days"] == 0
    assert parse(body["sla"]["due_at"]) == local(2026, 6, 23, 10)
    assert body["extension_requests"][-1]["status"] == "denied"
    # A denied request does not use up the allowance: the full 10 days may still be asked for.
    assert _request(api, number, 10).status_code == 200


def test_more_than_ten_working_days_of_extension_is_refused(api, dept_ids, new_ticket, clock):
    number = _signed_complaint(api, dept_ids, new_ticket, clock)

    resp = _request(api, number, 11)
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "invalid_fields"
    assert "10" in err["fields"]["days"]

    # 6 approved, then 5 more (11 in total) is refused and changes nothing ...
    assert _request(api, number, 6).status_code == 200
    due_after_six = parse(_review(api, number, True)["sla"]["due_at"])
    resp = _request(api, number, 5)
    assert resp.status_code == 422
    assert "days" in resp.get_json()["error"]["fields"]
    body = order(api, number)
    assert parse(body["sla"]["due_at"]) == due_after_six
    assert [e["status"] for e in body["extension_requests"]] == ["approved"]

    # ... while exactly 10 in total is allowed.
    assert _request(api, number, 4).status_code == 200
    body = _review(api, number, True)
    assert lead(body)["extended_days"] == 10
    # 06-23 + 10 working days: 24, 25, 26, 29, 30, 07-01, 02, 03, 06, 07
    assert parse(body["sla"]["due_at"]) == local(2026, 7, 7, 10)

    # Once all 10 are used, even one more day is refused, naming the limit.
    resp = _request(api, number, 1)
    assert resp.status_code == 422
    message = resp.get_json()["error"]["fields"]["days"]
    assert "10" in message and "working days" in message
    assert parse(order(api, number)["sla"]["due_at"]) == local(2026, 7, 7, 10)


def test_partly_used_extension_refusal_names_the_total_limit(api, dept_ids, new_ticket, clock):
    number = _signed_complaint(api, dept_ids, new_ticket, clock)
    assert _request(api, number, 6).status_code == 200
    _review(api, number, True)
    resp = _request(api, number, 5)
    assert resp.status_code == 422
    assert "10" in resp.get_json()["error"]["fields"]["days"]
    assert "4" in resp.get_json()["error"]["fields"]["days"]  # what is left


# -- a year the calendar does not know -------------------------------------------------

def test_dispatch_in_a_year_missing_from_the_calendar_is_a_clear_503(api, dept_ids, new_ticket, clock):
    clock.set(local(2027, 1, 4, 10))  # 2027 was never imported (the fixture has 2025-2026)
    number = new_ticket()
    before = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]

    resp = api("call_taker").action(number, "dispatch", {"department": dept_ids["cgj"]})

    assert resp.status_code == 503, resp.get_data(as_text=True)
    err = resp.get_json()["error"]
    assert err["code"] == "calendar_missing"
    assert "2027" in err["message"]
    assert "hotline calendar import 2027" in err["message"]  # says how to fix it
    body = order(api, number)
    assert body["status"] == "registered"
    assert body["assignments"] == []
    assert body["sla"]["due_at"] is None
    assert api("reviewer").get(f"/tickets/{number}/events").get_json()["items"] == before


def test_urgent_dispatch_in_a_missing_year_is_never_a_500_nor_half_done(api, dept_ids, new_ticket, clock):
    # An urgent order's sign/reply deadlines are clock time and need no calendar, but the
    # default policies also give it a return window in working days (DOMAIN.md has none for
    # urgent orders). Either outcome is acceptable here; a 500 or a half-dispatch is not.
    clock.set(local(2027, 1, 4, 23, 50))
    number = new_ticket(**GAS_LEAK)
    resp = api("call_taker").action(number, "dispatch", {"department": dept_ids["water"]})
    body = order(api, number)
    if resp.status_code == 200:
        assert parse(lead(body)["sign_due_at"]) == local(2027, 1, 5, 0, 5)
        assert parse(lead(body)["reply_due_at"]) == local(2027, 1, 5, 1, 50)
    else:
        assert resp.status_code == 503
        assert resp.get_json()["error"]["code"] == "calendar_missing"
        assert "2027" in resp.get_json()["error"]["message"]
        assert body["status"] == "registered" and body["assignments"] == []


# -- SLA colours and the lists --------------------------------------------------------

@pytest.fixture
def sla_orders(api, dept_ids, new_ticket, clock) -> dict[str, str]:
    """Four orders at Monday 2026-06-15 10:00, by what happens to them."""
    clock.set(T0)
    orders = {"gas": new_ticket(**GAS_LEAK)}           # urgent: reply due 12:00 the same day
    dispatch(api, dept_ids, orders["gas"], "water")
    orders["complaint"] = new_ticket()                  # general: reply due Tue 06-23 10:00
    dispatch(api, dept_ids, orders["complaint"], "cgj")
    orders["waiting"] = new_ticket()                    # registered, never dispatched: no deadline
    orders["replied"] = new_ticket()                    # dispatched and replied on time
    dispatch(api, dept_ids, orders["replied"], "cgj")
    assert api("handler").action(orders["replied"], "sign").status_code == 200
    assert api("handler").action(orders["replied"], "reply", {"content": "已现场处理，摊贩已清理。",
                                                            "contacted_citizen": True}).status_code == 200
    return orders


T0 = local(2026, 6, 15, 10)
#: (time, expected sla.state of gas, complaint) -- 75% of the gas leak's 2 hours is 90 minutes;
#: the complaint has 06-15 10:00 .. 06-23 10:00 = 192 hours, 75% = 144 h -> 06-21 10:00.
TIMELINE = [
    (T0, "green", "green"),
    (T0 + timedelta(minutes=89, seconds=59), "green", "green"),
    (T0 + timedelta(minutes=90), "yellow", "green"),
    (local(2026, 6, 15, 12), "yellow", "green"),              # due at 12:00 is still in time
    (local(2026, 6, 15, 12, 0, 1), "red", "green"),           # a second later it is overdue
    (local(2026, 6, 21, 9, 59, 59), "red", "green"),
    (local(2026, 6, 21, 10), "red", "yellow"),
    (local(2026, 6, 23, 10), "red", "yellow"),
    (local(2026, 6, 23, 10, 0, 1), "red", "red"),
]


def test_order_sla_state_goes_green_yellow_red(api, sla_orders, clock):
    def state(key):
        return order(api, sla_orders[key])["sla"]["state"]

    seen = []
    for at, gas, complaint in TIMELINE:
        clock.set(at)
        seen.append((at, state("gas"), state("complaint")))
        # The replied order (replied on time) and the undispatched one never change colour.
        assert (state("replied"), state("waiting")) == ("green", "green"), at
    assert seen == TIMELINE


def test_overdue_and_red_lists_hold_exactly_the_overdue_orders(api, sla_orders, dept_ids, clock):
    gas, complaint = sla_orders["gas"], sla_orders["complaint"]
    for at, gas_state, complaint_state in TIMELINE:
        clock.set(at)
        expected = {n for n, s in ((gas, gas_state), (complaint, complaint_state)) if s == "red"}
        assert listed(api, "overdue=true") == expected, at
        assert listed(api, "sla=red") == expected, at
    # Filtered by department: each sees only its own overdue order.
    assert listed(api, f"overdue=true&department={dept_ids['cgj']}") == {complaint}
    assert listed(api, f"overdue=true&department={dept_ids['water']}") == {gas}
    # With a filter on the order too (its total is then counted over the orders, not the assignments alone).
    assert listed(api, f"overdue=true&department={dept_ids['water']}&type=help") == {gas}
    assert listed(api, f"overdue=true&department={dept_ids['water']}&type=complaint") == set()
    # The replied order (on time) and the undispatched one are not overdue, though the
    # replied order's deadline has passed.
    not_overdue = listed(api, "overdue=false")
    assert {sla_orders["replied"], sla_orders["waiting"]} <= not_overdue
    assert not not_overdue & {gas, complaint}


def test_yellow_list_holds_exactly_the_orders_past_75_percent(api, sla_orders, clock):
    gas, complaint = sla_orders["gas"], sla_orders["complaint"]
    for at, gas_state, complaint_state in TIMELINE:
        clock.set(at)
        expected = {n for n, s in ((gas, gas_state), (complaint, complaint_state)) if s == "yellow"}
        assert listed(api, "sla=yellow") == expected, at
        # green = with a department, in time and not yet yellow
        expected_green = {n for n, s in ((gas, gas_state), (complaint, complaint_state)) if s == "green"}
        assert listed(api, "sla=green") == expected_green, at


def test_an_approved_extension_takes_an_order_off_the_overdue_list(api, dept_ids, new_ticket, clock):
    number = _signed_complaint(api, dept_ids, new_ticket, clock)
    clock.set(local(2026, 6, 23, 11))
    assert listed(api, "overdue=true") == {number}
    assert _request(api, number, 3).status_code == 200
    _review(api, number, True)
    assert listed(api, "overdue=true") == set()
    assert order(api, number)["sla"]["state"] in ("green", "yellow")


# -- `hotline calendar import` ---------------------------------------------------------

def test_calendar_import_of_an_unpublished_year_fails_naming_it(app, world):
    from hotline.sla.models import CalendarYear
    from hotline.extensions import db

    result = app.test_cli_runner().invoke(args=["calendar", "import", "2030"])
    assert result.exit_code != 0
    assert "2030" in result.output
    assert "--provisional" in result.output
    assert db.session.get(CalendarYear, 2030) is None


def test_calendar_import_provisional_is_monday_to_friday(app, dept_ids, api, new_ticket, clock):
    from hotline.extensions import db
    from hotline.sla.models import CalendarDay, CalendarYear

    clock.set(local(2030, 1, 4, 10))  # a Friday
    number = new_ticket()
    resp = api("call_taker").action(number, "dispatch", {"department": dept_ids["cgj"]})
    assert resp.status_code == 503 and "2030" in resp.get_json()["error"]["message"]

    result = app.test_cli_runner().invoke(args=["calendar", "import", "2030", "--provisional"])
    assert result.exit_code == 0, result.output
    assert "2030" in result.output and "provisional" in result.output
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2030).source == "weekdays"
    days = dict(db.session.execute(sa.select(CalendarDay.day, CalendarDay.is_workday).where(
        CalendarDay.day.between(date(2030, 1, 1), date(2030, 12, 31)))).all())
    assert len(days) == 365
    assert all(w == (d.weekday() < 5) for d, w in days.items())

    # Now the same dispatch works, weekends skipped: Fri -> Mon.
    body = dispatch(api, dept_ids, number, "cgj")
    assert parse(lead(body)["sign_due_at"]) == local(2030, 1, 7, 10)
    assert parse(lead(body)["reply_due_at"]) == local(2030, 1, 11, 10)
