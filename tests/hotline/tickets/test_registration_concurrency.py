"""Acceptance point 4: order numbers under concurrency, and one transaction per action.

100 call takers register at the same instant: every order gets its own number, the
numbers are the local date plus a gapless 6-digit daily sequence. On SQLite the writers
queue on the busy timeout; on PostgreSQL on the row lock of the day's counter.

A crash in the middle of an action (registration or a lifecycle step) leaves nothing
half-written: no order, no citizen, no used-up number, no assignment, no event.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.conftest import SAMPLE_TICKET

N = 100
DAY = "20260615"  # the fixture's frozen clock: 2026-06-15 10:00 Asia/Shanghai


def _numbers(api, query="") -> list[str]:
    resp = api("reviewer").get(f"/tickets?per_page=200&sort=number{query}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["total"] == len(body["items"])
    return [item["number"] for item in body["items"]]


def _mark_tokens_recently_used(db) -> None:
    """Tokens record their last use at most every 5 minutes; do it now, so that the 100
    requests below race only on what registration itself writes (not on the token row)."""
    from hotline.auth.models import ApiToken
    from hotline.core.base import utcnow
    db.session.execute(sa.update(ApiToken).values(last_used_at=utcnow()))
    db.session.commit()


def test_100_concurrent_registrations_get_distinct_gapless_numbers(app, world, api, clock):
    from hotline.extensions import db

    _mark_tokens_recently_used(db)
    headers = {"Authorization": f"Bearer {world.tokens['call_taker']}", "Accept-Language": "en"}
    barrier = threading.Barrier(N, timeout=60)

    def register(i: int):
        client = app.test_client()
        body = {**SAMPLE_TICKET, "subject": f"并发登记 {i}",
                # ten callers with ten orders each: the citizen rows race as well
                "citizen": {"name": f"市民{i % 10}", "phone": f"1390000{i % 10:04d}"}}
        barrier.wait()
        resp = client.post("/api/v1/tickets", json=body, headers=headers)
        return resp.status_code, resp.get_json()

    with ThreadPoolExecutor(max_workers=N) as pool:
        results = list(pool.map(register, range(N)))  # re-raises a thread's exception (e.g. "database is locked")

    assert [status for status, _body in results] == [201] * N, [b for s, b in results if s != 201][:3]
    numbers = [body["number"] for _status, body in results]
    assert len(set(numbers)) == N
    assert all(re.fullmatch(rf"{DAY}\d{{6}}", n) for n in numbers), numbers[:5]
    assert sorted(numbers) == [f"{DAY}{i:06d}" for i in range(1, N + 1)]
    # Each response's number is the order it describes, as stored.
    by_subject = {body["subject"]: body["number"] for _s, body in results}
    assert len(by_subject) == N
    assert _numbers(api) == sorted(numbers)
    for i in (0, 37, 99):
        stored = api("reviewer").get(f"/tickets/{by_subject[f'并发登记 {i}']}").get_json()
        assert stored["subject"] == f"并发登记 {i}"
        assert stored["citizen"]["phone"] == f"1390000{i % 10:04d}"
    # One citizen per phone, with all ten of their orders (the screen-pop).
    for k in range(10):
        resp = api("call_taker").get(f"/citizens?phone=1390000{k:04d}")
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["citizen"]["name"] == f"市民{k}"
        assert len(body["tickets"]) == N // 10
    from hotline.citizens.models import Citizen
    assert db.session.scalar(sa.select(sa.func.count(Citizen.id))) == 10
    # The next registration continues the sequence.
    nxt = api("call_taker").post("/tickets", json=SAMPLE_TICKET)
    assert nxt.status_code == 201
    assert nxt.get_json()["number"] == f"{DAY}{N + 1:06d}"


def test_the_sequence_starts_again_each_local_day(api, new_ticket, clock):
    from datetime import datetime

    from tests.conftest import TZ
    clock.set(datetime(2026, 6, 15, 23, 59, 59, tzinfo=TZ))
    assert new_ticket() == "20260615000001"
    assert new_ticket() == "20260615000002"
    # Midnight in Shanghai is 16:00 UTC: the local date decides, not the UTC one.
    clock.set(datetime(2026, 6, 16, 0, 0, 0, tzinfo=TZ))
    assert new_ticket() == "20260616000001"
    clock.set(datetime(2026, 6, 16, 7, 59, 59, tzinfo=TZ))  # still 2026-06-15 in UTC
    assert new_ticket() == "20260616000002"


# -- a crash between steps -------------------------------------------------------------

class Crash(RuntimeError):
    pass


@pytest.fixture
def dept_ids(world) -> dict[str, int]:
    """Department ids by key, read once (the world's objects detach after a request)."""
    return {key: d.id for key, d in world.depts.items()}


def test_a_crash_during_registration_leaves_nothing_behind(api, world, new_ticket, clock, monkeypatch):
    from hotline.extensions import db
    from hotline.tickets.operations import register as operations

    first = new_ticket()
    assert first == f"{DAY}000001"
    events_before = api("reviewer").get(f"/tickets/{first}/events").get_json()["items"]
    written = {}

    def crashing_record_event(ticket, *args, **kwargs):
        # Push what registration has done so far into the database, then die:
        # the citizen, the counter increment and the order row are all written.
        db.session.flush()
        written["ticket_id"], written["number"] = ticket.id, ticket.number
        raise Crash("power cut between the order and its trail")

    monkeypatch.setattr(operations, "record_event", crashing_record_event)
    new_phone = "13700001111"
    with pytest.raises(Crash):
        api("call_taker").post("/tickets", json={**SAMPLE_TICKET, "subject": "登记一半",
                                                 "citizen": {"name": "李四", "phone": new_phone}})
    monkeypatch.undo()
    assert written["ticket_id"] is not None  # the row really had reached the database
    assert written["number"] == f"{DAY}000002"

    # No order, no citizen.
    assert _numbers(api) == [first]
    assert api("reviewer").get(f"/tickets/{written['number']}").status_code == 404
    assert api("reviewer").get("/tickets?q=登记一半").get_json()["total"] == 0
    citizen = api("call_taker").get(f"/citizens?phone={new_phone}").get_json()
    assert citizen == {"citizen": None, "tickets": []}
    assert api("reviewer").get(f"/tickets/{first}/events").get_json()["items"] == events_before

    # No number used up: the next order gets the one the failed registration had.
    again = api("call_taker").post("/tickets", json={**SAMPLE_TICKET, "citizen": {"name": "李四", "phone": new_phone}})
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["number"] == f"{DAY}000002"
    assert _numbers(api) == [first, f"{DAY}000002"]
    assert len(api("call_taker").get(f"/citizens?phone={new_phone}").get_json()["tickets"]) == 1


def test_a_crash_during_dispatch_leaves_the_order_as_it_was(api, dept_ids, new_ticket, clock, monkeypatch):
    from hotline.extensions import db
    from hotline.tickets.operations import actions
    from hotline.tickets.models import Assignment

    number = new_ticket()
    before = api("reviewer").get(f"/tickets/{number}").get_json()
    events_before = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
    written = {}

    def crashing_record_event(ticket, *args, **kwargs):
        db.session.flush()  # the assignment row and the new status reach the database ...
        written["assignments"] = db.session.scalar(
            sa.select(sa.func.count(Assignment.id)).where(Assignment.ticket_id == ticket.id))
        written["status"] = ticket.status
        raise Crash("worker killed before the event was written")  # ... then the process dies

    monkeypatch.setattr(actions, "record_event", crashing_record_event)
    with pytest.raises(Crash):
        api("call_taker").action(number, "dispatch", {"department": dept_ids["cgj"],
                                                      "assist": [dept_ids["scj"]]})
    monkeypatch.undo()
    assert written == {"assignments": 2, "status": "awaiting_sign"}

    after = api("reviewer").get(f"/tickets/{number}").get_json()
    assert after["status"] == "registered"
    assert after["assignments"] == []
    assert after["lead_department"] is None
    assert after["sla"] == {"state": "green", "due_at": None}
    assert after == before
    assert api("reviewer").get(f"/tickets/{number}/events").get_json()["items"] == events_before
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    # The department sees nothing to sign for.
    assert api("handler").action(number, "sign").status_code in (404, 409)

    # And the order can still be dispatched normally afterwards.
    resp = api("call_taker").action(number, "dispatch", {"department": dept_ids["cgj"]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "awaiting_sign"
    assert len(resp.get_json()["assignments"]) == 1
    events = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
    assert [e["action"] for e in events] == ["register", "dispatch"]


def test_a_refused_action_changes_nothing(api, dept_ids, new_ticket, clock):
    """A 4xx (here: an unknown assist department) is rolled back as well, not half-applied."""
    number = new_ticket()
    before = api("reviewer").get(f"/tickets/{number}").get_json()
    resp = api("call_taker").action(number, "dispatch", {"department": dept_ids["cgj"],
                                                         "assist": [999999]})
    assert resp.status_code == 422
    assert "assist" in resp.get_json()["error"]["fields"]
    assert api("reviewer").get(f"/tickets/{number}").get_json() == before
