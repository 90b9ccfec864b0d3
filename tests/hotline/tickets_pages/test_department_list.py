"""A department's own list, newest first, is read from its units' assignments (each carries when its order
was registered, and its order's status): it must show exactly the orders the visibility rule lets the
department see, each once, in registration order, page after page, filtered by status as the orders move;
withdrawn work stays out unless a merge or cancellation ended it."""
import sqlalchemy as sa

from hotline.core import counts
from hotline.extensions import db
from hotline.tickets import permissions, queries
from hotline.tickets.models import Assignment, Ticket
from workflows.states import AssignmentRole, AssignmentStatus, TicketStatus


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

    # the API's exact total and the page's count say the same
    assert api("district_handler").get("/tickets?status=awaiting_sign&per_page=2").get_json()["total"] == 3
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
