"""A department's own list, newest first, is read from its units' assignments (each carries when its order
was registered): it must show exactly the orders the visibility rule lets the department see, each once,
in registration order, page after page; withdrawn work stays out unless a merge or cancellation ended it."""
import sqlalchemy as sa

from hotline.core import counts
from hotline.extensions import db
from hotline.tickets import permissions, queries
from hotline.tickets.models import Assignment, Ticket
from workflows.states import AssignmentRole, AssignmentStatus


def _ok(resp):
    assert resp.status_code in (200, 201), resp.get_json()
    return resp


def _numbers_by_rule(user, newest_first=True) -> list[str]:
    """What the department may see by the visibility rule itself (visible_filter), in list order."""
    direction = sa.desc if newest_first else sa.asc
    return list(db.session.scalars(sa.select(Ticket.number).where(permissions.visible_filter(user))
                                   .order_by(direction(Ticket.created_at), direction(Ticket.id))))


def _numbers_paged(user, clock, sort="-created_at", per_page=2) -> list[str]:
    """Every page of the list the department's handler opens, in order."""
    query, _ = queries.build_query(user, {"sort": sort}, clock.now)
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
