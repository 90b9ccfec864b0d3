"""A department's own list, newest first, is read from its units' assignments (each carries when its order
was registered, and its order's status): it must show exactly the orders the visibility rule lets the
department see, each once, in registration order, page after page, filtered by status as the orders move;
withdrawn work stays out unless a merge or cancellation ended it."""
from datetime import timedelta

import sqlalchemy as sa

from hotline.core import counts
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import permissions, queries
from hotline.tickets.models import Assignment, Ticket
from workflows.states import WITH_DEPARTMENT, AssignmentRole, AssignmentStatus, TicketStatus


def _ok(resp):
    assert resp.status_code in (200, 201), resp.get_json()
    return resp


def _numbers_by_rule(user, newest_first=True, statuses=()) -> list[str]:
    """What the department may see by the visibility rule itself (visible_filter), in list order: of the
    orders in `statuses` (by the order's own status) when given."""
    direction = sa.desc if newest_first else sa.asc
    query = sa.select(Ticket.number).where(permissions.visible_filter(user))
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    return list(db.session.scalars(query.order_by(direction(Ticket.created_at), direction(Ticket.id))))


def _numbers_paged(user, clock, sort="-created_at", per_page=2, statuses=()) -> list[str]:
    """Every page of the list the department's handler opens, in order (of the orders in `statuses`)."""
    args = {"sort": sort, **({"status": ",".join(statuses)} if statuses else {})}
    query, _ = queries.build_query(user, args, clock.now)
    out, page_no = [], 1
    while True:
        rows, total, pages = queries.page_capped(query, page_no, per_page, user)
        out += [t.number for t in rows]
        if page_no >= pages:
            return out
        page_no += 1


def test_a_department_list_shows_each_order_it_may_see_once_in_registration_order(
        api, world, dispatched, new_ticket, browser, clock):
    made = {}
    for key, dept in (("street", "dc_s1"), ("community", "dc_s1_c1"), ("district", "dc"), ("other_street", "dc_s2"),
                      ("returned", "dc_s1"), ("merged", "dc_s1"), ("cancelled", "dc_s1"), ("bureau", "cgj")):
        made[key] = dispatched(dept, subject=f"幸福路 {key}")
        clock.advance(minutes=7)
    made["registered"] = new_ticket()
    # the street returns one order and the centre approves: the street's assignment is withdrawn
    _ok(api("street_handler").action(made["returned"], "return", {"reason": "不属于本单位职责"}))
    _ok(api("reviewer").action(made["returned"], "review-return", {"approve": True}))
    # merged and cancelled orders: their withdrawn assignments still open them to the department
    _ok(api("reviewer").action(made["merged"], "merge", {"into": made["registered"]}))
    _ok(api("reviewer").action(made["cancelled"], "cancel", {"reason": "市民撤回"}))
    # the street worked on its order twice (a re-dispatch after a reopening leaves two assignments)
    street = db.session.scalar(sa.select(Ticket).where(Ticket.number == made["street"]))
    db.session.add(Assignment(ticket_id=street.id, department_id=world.dept("dc_s1").id,
                              ticket_created_at=street.created_at, role=AssignmentRole.LEAD,
                              status=AssignmentStatus.DONE, dispatched_at=clock.now))
    db.session.commit()
    counts._remembered.clear()

    district = world.users["district_handler"]
    newest_first = _numbers_paged(district, clock)
    assert newest_first == [made[k] for k in ("cancelled", "merged", "other_street", "district", "community",
                                              "street")]
    assert newest_first == _numbers_by_rule(district)
    assert _numbers_paged(district, clock, sort="created_at") == _numbers_by_rule(district, newest_first=False) \
        == list(reversed(newest_first))

    # in another order, counted from the walk all the same: every order once, every page
    for sort in ("due_at", "-due_at", "-number"):
        listed = _numbers_paged(district, clock, sort=sort)
        assert sorted(listed) == sorted(newest_first) and len(listed) == len(newest_first), sort
    assert api("district_handler").get("/tickets?per_page=4&sort=due_at").get_json()["total"] == 6

    street_handler = world.users["street_handler"]
    assert _numbers_paged(street_handler, clock) == [made[k] for k in ("cancelled", "merged", "community", "street")]
    assert _numbers_paged(street_handler, clock) == _numbers_by_rule(street_handler)

    # the API's list: the exact total (counted from the walk alone) and the same pages
    listed = api("district_handler").get("/tickets?per_page=4&page=2").get_json()
    assert listed["total"] == 6 and [i["number"] for i in listed["items"]] == newest_first[4:]
    assert api("street_handler").get("/tickets?per_page=2").get_json()["total"] == 4

    # what the handler sees on the page itself: the count, and no order it may not see
    html = browser("district_handler").get("/tickets?per_page=10").get_data(as_text=True)
    assert "6 orders found" in html
    for key in ("street", "community", "district", "other_street", "merged", "cancelled"):
        assert made[key] in html
    for key in ("returned", "bureau", "registered"):
        assert made[key] not in html
    assert html.count(f">{made['street']}<") == 1


def test_a_department_list_by_status_follows_its_orders_from_step_to_step(api, world, dispatched, browser, clock):
    made = {}
    for key, dept in (("signed", "dc_s1"), ("replied", "dc_s1"), ("approved", "dc_s1"), ("visited", "dc_s1"),
                      ("returning", "dc_s1"), ("cancelled", "dc_s1"), ("community", "dc_s1_c1"), ("district", "dc"),
                      ("other_street", "dc_s2"), ("bureau", "cgj")):
        made[key] = dispatched(dept, subject=f"幸福路 {key}")
        clock.advance(minutes=7)
    street, reviewer = api("street_handler"), api("reviewer")
    for key in ("signed", "replied", "approved", "visited"):
        _ok(street.action(made[key], "sign"))
    _ok(api("handler").action(made["bureau"], "sign"))
    for key in ("replied", "approved", "visited"):
        _ok(street.action(made[key], "reply", {"content": "已到现场处理完毕"}))
    for key in ("approved", "visited"):
        _ok(reviewer.action(made[key], "review-reply", {"approve": True}))
    _ok(reviewer.action(made["visited"], "visit", {"satisfaction": "satisfied", "resolved": True}))
    _ok(street.action(made["returning"], "return", {"reason": "不属于本单位职责"}))
    _ok(reviewer.action(made["cancelled"], "cancel", {"reason": "市民撤回"}))
    counts._remembered.clear()
    status_of = dict(db.session.execute(sa.select(Ticket.number, Ticket.status)).all())
    assert [status_of[made[k]] for k in ("signed", "replied", "approved", "visited", "returning", "cancelled")] == [
        TicketStatus.IN_PROGRESS, TicketStatus.REPLIED, TicketStatus.AWAITING_VISIT, TicketStatus.CLOSED,
        TicketStatus.RETURNED, TicketStatus.CANCELLED]

    district, street_user = world.users["district_handler"], world.users["street_handler"]
    # what each step left where: the district (streets below it) and a street alone
    assert _numbers_paged(district, clock, statuses=["awaiting_sign"]) == [made[k] for k in (
        "other_street", "district", "community")]
    assert _numbers_paged(district, clock, statuses=["in_progress"]) == [made["signed"]]  # not the bureau's
    assert _numbers_paged(street_user, clock, statuses=["replied", "awaiting_visit"]) == [made["approved"],
                                                                                         made["replied"]]
    assert _numbers_paged(world.users["other_street_handler"], clock, statuses=["awaiting_sign"]) == [
        made["other_street"]]
    for user in (district, street_user, world.users["other_street_handler"], world.users["community_handler"]):
        for statuses in ([s.value] for s in TicketStatus):
            assert _numbers_paged(user, clock, statuses=statuses) == _numbers_by_rule(user, statuses=statuses)
        for statuses in (["awaiting_sign", "in_progress"], ["closed", "cancelled", "returned"]):
            assert _numbers_paged(user, clock, statuses=statuses) == _numbers_by_rule(user, statuses=statuses)
            assert _numbers_paged(user, clock, sort="created_at", statuses=statuses) == _numbers_by_rule(
                user, newest_first=False, statuses=statuses)
            by_deadline = _numbers_paged(user, clock, sort="due_at", statuses=statuses)
            assert sorted(by_deadline) == sorted(_numbers_by_rule(user, statuses=statuses))

    # the API's exact total and the page's count say the same
    assert api("district_handler").get("/tickets?status=awaiting_sign&per_page=2").get_json()["total"] == 3
    assert api("district_handler").get("/tickets?status=awaiting_sign&sort=due_at&per_page=2").get_json()["total"] == 3
    html = browser("street_handler").get("/tickets?status=in_progress&status=replied").get_data(as_text=True)
    assert "2 orders found" in html and made["signed"] in html and made["replied"] in html
    assert made["approved"] not in html and made["bureau"] not in html
    query, _ = queries.build_query(district, {"status": "awaiting_sign"}, clock.now)
    rows, total, pages = queries.page_capped(query, 1, 2, district)  # counted past the page, from the walk
    assert (len(rows), total, pages) == (2, 3, 2)

    # the centre reopens the closed order: it leaves the street's closed orders for the ones in hand again
    _ok(reviewer.action(made["visited"], "reopen", {"reason": "市民反映问题仍未解决"}))
    counts._remembered.clear()
    reopened = db.session.scalar(sa.select(Ticket.status).where(Ticket.number == made["visited"]))
    assert reopened != TicketStatus.CLOSED
    assert made["visited"] not in _numbers_paged(street_user, clock, statuses=["closed"])
    assert made["visited"] in _numbers_paged(street_user, clock, statuses=[reopened.value])
    # every assignment carries its order's status
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).join(Ticket).where(
        Assignment.ticket_status != Ticket.status)) == 0


def _listed_by(user, args, now) -> tuple[list[str], int]:
    """Every page (3 rows each) of the list `user` asks with `args`, and the count its pages show."""
    query, _ = queries.build_query(user, args, now)
    listed, page_no = [], 1
    while True:
        rows, total, pages = queries.page_capped(query, page_no, 3, user)
        listed += [r.number for r in rows]
        if page_no >= pages:
            return listed, total
        page_no += 1


def test_a_department_list_by_deadline_holds_its_work_in_hand_as_the_rule_says(api, world, dispatched, browser,
                                                                               clock):
    """Overdue orders and the deadline colours are orders still in a department's hands: the department's list
    of them reads its own work in hand first. Hour after hour it shows what the visibility rule and each order's
    own deadline say, in each order, for a unit alone and for a district with streets below it."""
    users = [world.users[k] for k in ("district_handler", "street_handler", "community_handler",
                                      "other_street_handler")]
    asks = ({"overdue": "1"}, {"sla": "red"}, {"sla": "yellow"}, {"sla": "green"},
            {"overdue": "1", "type": "complaint"}, {"sla": "green", "type": "help"},
            {"status": "in_progress", "type": "complaint"}, {"status": "in_progress,returned", "sla": "yellow"},
            {"status": "replied", "type": "complaint"})
    made, seen = {}, {}

    def check():
        counts._remembered.clear()
        db.session.expire_all()
        number_of = {v: k for k, v in made.items()}
        for user in users:
            visible = _numbers_by_rule(user)
            tickets = {t.number: t for t in db.session.scalars(sa.select(Ticket).where(Ticket.number.in_(visible)))}
            for n, args in enumerate(asks):
                def wanted(t):
                    state = sla.ticket_sla(t, clock.now)["state"]
                    in_hand = t.status in WITH_DEPARTMENT  # what overdue and a colour ask first
                    return ((in_hand or not ({"overdue", "sla"} & set(args)))
                            and (args.get("overdue") != "1" or t.due_at < clock.now)
                            and args.get("sla", state) == state
                            and args.get("type", t.type.value) == t.type.value
                            and t.status.value in args.get("status", t.status.value).split(","))
                expected = [number for number in visible if wanted(tickets[number])]
                by_due = sorted(expected, key=lambda number: (tickets[number].due_at, tickets[number].id))
                for sort, expected_here in (("-created_at", expected), ("created_at", expected[::-1]),
                                            ("due_at", by_due))[:3 if n < 4 else 1]:
                    listed, total = _listed_by(user, {**args, "sort": sort}, clock.now)
                    assert listed == expected_here, (user.username, args, sort, [number_of[x] for x in listed],
                                                     [number_of[x] for x in expected_here])
                    assert total == len(expected)
                key = (user.username, tuple(sorted(args.items())))
                seen[key] = seen.get(key, set()) | {number_of[x] for x in expected}

    street, reviewer = api("street_handler"), api("reviewer")
    plan = (("a", "dc_s1", "complaint"), ("b", "dc_s1", "help"), ("c", "dc_s1_c1", "complaint"),
            ("d", "dc", "help"), ("e", "dc_s2", "complaint"), ("f", "cgj", "complaint"), ("g", "dc_s1", "complaint"),
            ("h", "dc_s1", "help"), ("i", "dc_s1", "complaint"), ("j", "dc_s1_c1", "help"))
    for n, (key, dept, kind) in enumerate(plan):
        made[key] = dispatched(dept, subject=f"幸福路 {key}", type=kind)
        if key in ("a", "b", "g"):
            _ok(street.action(made[key], "sign"))
        if key == "g":
            _ok(street.action(made[key], "reply", {"content": "已到现场处理完毕"}))  # replied: not in hand any more
        if key in ("h", "i"):
            _ok(street.action(made[key], "return", {"reason": "不属于本单位职责"}))  # returning: still in hand
        if key == "i":
            _ok(reviewer.action(made[key], "review-return", {"approve": True}))  # withdrawn: not the street's
            _ok(api("call_taker").action(made[key], "dispatch", {"department": world.dept("dc_s2").id}))
        clock.advance(hours=5 + 11 * n)      # registered and dispatched hours and days apart: their clocks differ
        check()
    for _step in range(4):
        clock.advance(hours=41)
        check()

    # the hours walked through every colour: each list had orders to show, and never another unit's
    def saw(username, **args) -> set[str]:
        return seen[(username, tuple(sorted(args.items())))]
    for colour in ("red", "green"):              # each order in hand was green once, and is overdue now
        assert saw("street_handler", sla=colour) == {"a", "b", "c", "h", "j"}, colour
        assert saw("district_handler", sla=colour) == {"a", "b", "c", "d", "e", "h", "i", "j"}, colour
        assert saw("other_street_handler", sla=colour) == {"e", "i"}, colour
    assert {"b", "c"} <= saw("street_handler", sla="yellow") <= {"a", "b", "c", "h", "j"}
    assert saw("street_handler", overdue="1", type="complaint") == {"a", "c"}
    assert saw("street_handler", status="in_progress", type="complaint") == {"a"}
    assert saw("street_handler", status="replied", type="complaint") == {"g"}

    # the API's exact total and the page say the same at the last hour (every order in hand long overdue)
    listed = api("street_handler").get("/tickets?overdue=1&per_page=1").get_json()
    assert listed["total"] == 5 and len(listed["items"]) == 1       # a, b, h and the community's c and j
    html = browser("street_handler").get("/tickets?overdue=1").get_data(as_text=True)
    assert "5 orders found" in html and made["i"] not in html and made["f"] not in html and made["g"] not in html


def test_a_department_list_of_some_dates_holds_what_the_rule_says(api, world, dispatched, browser, clock):
    """Orders registered within some dates (and times): a department's list reads its own assignments' copy of
    their order's registration instant, so it must hold exactly the orders the visibility rule lets it see
    within those bounds (the start included, the end excluded, a date's end its whole day), each once, on every
    page, in each order, alone or with a status, and the count says how many."""
    from tests.conftest import TZ
    users = [world.users[k] for k in ("district_handler", "street_handler", "community_handler",
                                      "other_street_handler")]
    plan = (("a", "dc_s1"), ("b", "dc_s1_c1"), ("c", "dc"), ("d", "dc_s2"), ("e", "cgj"), ("f", "dc_s1"),
            ("g", "dc_s1"), ("h", "dc_s1"), ("i", "dc_s1_c1"))
    made = {}
    for key, dept in plan:
        made[key] = dispatched(dept, subject=f"幸福路 {key}")
        clock.advance(hours=9)          # two or three a day, over four days
    street, reviewer = api("street_handler"), api("reviewer")
    _ok(street.action(made["a"], "sign"))
    _ok(street.action(made["f"], "return", {"reason": "不属于本单位职责"}))        # withdrawn, sent to another street
    _ok(reviewer.action(made["f"], "review-return", {"approve": True}))
    _ok(api("call_taker").action(made["f"], "dispatch", {"department": world.dept("dc_s2").id}))
    _ok(reviewer.action(made["g"], "cancel", {"reason": "市民撤回"}))            # withdrawn by the cancellation
    number_of = {v: k for k, v in made.items()}
    registered = dict(db.session.execute(sa.select(Ticket.number, Ticket.created_at)).tuples().all())
    first = min(registered.values()).astimezone(TZ)
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)

    def local(at) -> str:
        return at.astimezone(TZ).replace(tzinfo=None).isoformat(timespec="seconds")

    windows = [({"created_from": first.date().isoformat()}, first, None),
               ({"created_to": first.date().isoformat()}, None, midnight + timedelta(days=1)),
               ({"created_from": local(registered[made["b"]]), "created_to": local(registered[made["h"]])},
                registered[made["b"]], registered[made["h"]]),
               ({"created_from": (first + timedelta(days=1)).date().isoformat(),
                 "created_to": (first + timedelta(days=1)).date().isoformat()},
                midnight + timedelta(days=1), midnight + timedelta(days=2)),
               ({"created_from": (first + timedelta(days=30)).date().isoformat()},
                first + timedelta(days=30), None)]
    counts._remembered.clear()
    db.session.expire_all()
    for user in users:
        visible = _numbers_by_rule(user)
        statuses = dict(db.session.execute(sa.select(Ticket.number, Ticket.status).where(Ticket.number.in_(visible))).tuples().all())
        for args, start, end in windows:
            for status in (None, TicketStatus.IN_PROGRESS):
                expected = [n for n in visible if (start is None or registered[n] >= start)
                            and (end is None or registered[n] < end) and status in (None, statuses[n])]
                asked = {**args, **({"status": status.value} if status else {})}
                for sort, expected_here in (("-created_at", expected), ("created_at", expected[::-1]),
                                            ("due_at", None), ("-number", None)):
                    listed, total = _listed_by(user, {**asked, "sort": sort}, clock.now)
                    if expected_here is None:   # another order than registration: the same orders, once each
                        listed, expected_here = sorted(listed), sorted(expected)
                    assert listed == expected_here, (user.username, asked, sort, [number_of[x] for x in listed],
                                                     [number_of[x] for x in expected_here])
                    assert total == len(expected), (user.username, asked, sort)
    # what the rule said, by name: registered on the second day, c, d (the bureau's e never); between b and h,
    # b, c, d, f (another street of the district has it now) and g (cancelled: the street's withdrawn assignment
    # still opens it); on the third day the street sees g alone (f was taken from it)
    assert {number_of[n] for n in _listed_by(users[0], windows[3][0], clock.now)[0]} == {"c", "d"}
    third = (first + timedelta(days=2)).date().isoformat()
    assert {number_of[n] for n in _listed_by(users[1], {"created_from": third, "created_to": third},
                                             clock.now)[0]} == {"g"}
    listed = api("district_handler").get("/tickets?" + "&".join(f"{k}={v}" for k, v in windows[2][0].items())
                                         + "&per_page=2").get_json()
    assert listed["total"] == 5 and len(listed["items"]) == 2       # b, c, d, f, g: the bounds of b and h
    html = browser("street_handler").get(f"/tickets?created_from={third}&created_to={third}").get_data(as_text=True)
    assert "1 order found" in html and made["g"] in html and made["f"] not in html


def test_a_list_of_the_orders_a_department_had_holds_each_once_for_whoever_asks(api, world, dispatched, new_ticket,
                                                                             browser, clock):
    """Filtered by a department, a list holds the orders that department had (any assignment of its own, withdrawn
    too), each once, in registration order either way, page after page, within what the viewer may see: the
    centre sees them all; a district sees those of its own streets, and of a bureau only the orders it worked on
    with it. The list reads the department's own assignments in registration order."""
    ids = {key: world.dept(key).id for key in ("dc_s1", "dc_s2", "cgj", "scj")}
    made = {}
    for key, dept, assist in (("a", "dc_s1", None), ("b", "cgj", "dc_s1"), ("c", "cgj", None), ("d", "dc_s2", None),
                              ("e", "dc_s1", None), ("f", "scj", None), ("g", "cgj", "dc_s2")):
        made[key] = new_ticket(subject=f"幸福路 {key}")
        _ok(api("call_taker").action(made[key], "dispatch", {"department": world.dept(dept).id,
                                                               "assist": [ids[assist]] if assist else []}))
        clock.advance(minutes=13)
    _ok(api("street_handler").action(made["e"], "return", {"reason": "不属于本单位职责"}))   # withdrawn from dc_s1,
    _ok(api("reviewer").action(made["e"], "review-return", {"approve": True}))               # sent to the bureau
    _ok(api("call_taker").action(made["e"], "dispatch", {"department": ids["cgj"]}))
    street = db.session.scalar(sa.select(Ticket).where(Ticket.number == made["a"]))
    db.session.add(Assignment(ticket_id=street.id, department_id=ids["dc_s1"], ticket_created_at=street.created_at,
                              role=AssignmentRole.LEAD, status=AssignmentStatus.DONE, dispatched_at=clock.now))
    db.session.commit()                                  # a second assignment of the street on one order
    number_of = {v: k for k, v in made.items()}

    def expected(user, dept) -> list[str]:
        had = sa.select(Assignment.ticket_id).where(Assignment.department_id == dept)
        query = sa.select(Ticket.number).where(Ticket.id.in_(had))
        seen = permissions.visible_filter(user)
        if seen is not None:
            query = query.where(seen)
        return list(db.session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc())))

    reviewer, district = world.users["reviewer"], world.users["district_handler"]
    for user in (reviewer, district):
        for key in ("dc_s1", "dc_s2", "cgj", "scj"):
            want = expected(user, ids[key])
            for sort, want_here in (("-created_at", want), ("created_at", want[::-1]), ("due_at", None)):
                listed, total = _listed_by(user, {"department": str(ids[key]), "sort": sort}, clock.now)
                if want_here is None:
                    listed, want_here = sorted(listed), sorted(want)
                assert listed == want_here, (user.username, key, sort, [number_of[n] for n in listed])
                assert total == len(want), (user.username, key, sort)
    # by name: the street had a, b (assisting), e (withdrawn: it still had it); of the bureau's orders the district
    # sees those its streets work on (b, g), not c, nor e (its street's assignment was withdrawn: the bureau's now)
    street_had = _listed_by(reviewer, {"department": str(ids["dc_s1"])}, clock.now)[0]
    assert [number_of[n] for n in street_had] == ["e", "b", "a"]
    assert [number_of[n] for n in _listed_by(district, {"department": str(ids["cgj"])}, clock.now)[0]] == ["g", "b"]
    assert [number_of[n] for n in _listed_by(district, {"department": str(ids["dc_s1"])}, clock.now)[0]] == ["b", "a"]
    assert _listed_by(district, {"department": str(ids["scj"])}, clock.now)[0] == []
    body = api("district_handler").get(f"/tickets?department={ids['cgj']}&per_page=1").get_json()
    assert body["total"] == 2 and len(body["items"]) == 1
    body = api("reviewer").get(f"/tickets?department={ids['dc_s1']}&per_page=2&page=2").get_json()
    assert body["total"] == 3 and [number_of[i["number"]] for i in body["items"]] == ["a"]  # a once, though twice had
    html = browser("reviewer").get(f"/tickets?department={ids['dc_s1']}").get_data(as_text=True)
    assert "3 orders found" in html and html.count(f">{made['a']}<") == 1
