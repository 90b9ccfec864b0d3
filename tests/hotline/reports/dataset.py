"""A known fortnight of orders, made through the API on a moving clock, whose measures are counted by hand.

The period under test is ISO week 2026-W24 (Mon 8 – Sun 14 June 2026, Asia/Shanghai); the week
before, W23 (1 – 7 June), is what it is compared with. No holiday falls in either week, so a
complaint's deadlines are plain: sign for within 1 working day, reply within 5.

| order | registered       | what happened                                                                |
|-------|------------------|------------------------------------------------------------------------------|
| A     | Mon 1 Jun 09:00  | to cgj 1 Jun 10:00, signed 11:00, replied 3 Jun (contacted), approved, visited 4 Jun satisfied. Reply due Mon 8 Jun 10:00: due in W24, dispatched in W23 |
| B     | Tue 2 Jun 09:00  | to the street dc_s1 2 Jun 10:00, never signed, urged 10 Jun. Reply due Tue 9 Jun 10:00: overdue, due in W24, dispatched (and so urged) in W23 |
| C     | Mon 8 Jun 09:00  | to the district dc 10:00, urged 9 Jun, signed late 10 Jun, replied 11 Jun, approved, visited 12 Jun dissatisfied (not resolved), reopened 13 Jun to scj (charged to dc) |
| D     | Wed 10 Jun 14:00 | to the street dc_s2 15:00, returned 16:00, re-sent to cgj 11 Jun 09:00, signed 10:00, replied 12 Jun |
| E     | Thu 11 Jun 10:00 | a consultation answered directly 10:05, visited 12 Jun satisfied             |
| F     | Sun 14 Jun 23:30 | web, help request, category 0401; not handled yet                            |
| G     | Mon 15 Jun 00:30 | after the week (the same UTC day as F): in no figure of W24                 |

"Now" for the reports is Sat 20 June 10:00.
"""
from datetime import datetime

from tests.conftest import TZ

NOW = datetime(2026, 6, 20, 10, 0, tzinfo=TZ)


def at(day, hour, minute=0):
    return datetime(2026, 6, day, hour, minute, tzinfo=TZ)


def build(api, world, new_ticket, clock) -> dict:
    """Make the orders of the table above; their numbers by letter. Leaves the clock at NOW."""
    def do(when, who, number, action, body=None):
        clock.set(when)
        resp = api(who).action(number, action, body or {})
        assert resp.status_code == 200, (number, action, resp.get_json())
        return resp.get_json()

    def register(when, **overrides):
        clock.set(when)
        return new_ticket(**overrides)

    dept = lambda key: world.dept(key).id  # noqa: E731
    o = {}
    # in the order it happened
    o["A"] = register(at(1, 9))
    lead = do(at(1, 10), "call_taker", o["A"], "dispatch", {"department": dept("cgj")})["assignments"][0]
    assert lead["reply_due_at"].startswith("2026-06-08T10:00")  # Mon 8 Jun 10:00 local
    do(at(1, 11), "handler", o["A"], "sign")
    o["B"] = register(at(2, 9))
    lead = do(at(2, 10), "call_taker", o["B"], "dispatch", {"department": dept("dc_s1")})["assignments"][0]
    assert lead["reply_due_at"].startswith("2026-06-09T10:00")
    do(at(3, 10), "handler", o["A"], "reply", {"content": "已处理", "contacted_citizen": True})
    do(at(3, 15), "reviewer", o["A"], "review-reply", {"approve": True})
    do(at(4, 10), "reviewer", o["A"], "visit", {"satisfaction": "satisfied", "resolved": True})

    o["C"] = register(at(8, 9))
    do(at(8, 10), "call_taker", o["C"], "dispatch", {"department": dept("dc")})
    do(at(9, 15), "reviewer", o["C"], "urge", {"note": "请尽快签收"})
    do(at(10, 9), "reviewer", o["B"], "urge", {"note": "已超期"})
    do(at(10, 10), "district_handler", o["C"], "sign")  # due Tue 9 Jun 10:00: late
    o["D"] = register(at(10, 14))
    do(at(10, 15), "call_taker", o["D"], "dispatch", {"department": dept("dc_s2")})
    do(at(10, 16), "other_street_handler", o["D"], "return", {"reason": "不属于本街道"})
    do(at(11, 9), "reviewer", o["D"], "review-return", {"approve": True, "department": dept("cgj")})
    do(at(11, 10), "district_handler", o["C"], "reply", {"content": "已处理"})
    do(at(11, 10), "handler", o["D"], "sign")
    o["E"] = register(at(11, 10), type="consultation")
    do(at(11, 10, 5), "call_taker", o["E"], "answer", {"reply": "已当场答复"})
    do(at(11, 15), "reviewer", o["C"], "review-reply", {"approve": True})
    do(at(12, 10), "reviewer", o["C"], "visit", {"satisfaction": "dissatisfied", "resolved": False})
    do(at(12, 10), "handler", o["D"], "reply", {"content": "已处理", "contacted_citizen": True})
    do(at(12, 11), "reviewer", o["E"], "visit", {"satisfaction": "satisfied", "resolved": True})
    do(at(13, 10), "reviewer", o["C"], "reopen", {"reason": "市民不满意", "department": dept("scj")})
    o["F"] = register(at(14, 23, 30), channel="web", type="help", category="0401")
    o["G"] = register(at(15, 0, 30))
    clock.set(NOW)
    return o
