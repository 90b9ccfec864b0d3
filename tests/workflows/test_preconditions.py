"""The lifecycle preconditions as a pure rule: an order snapshot, a role, a moment -> None or why not."""
from datetime import datetime, timedelta, timezone

import pytest

from workflows.preconditions import (AssignmentView, OrderView, acting_assignment, available,
                                     refusal)
from workflows.states import Action, AssignmentRole, AssignmentStatus, Role, TicketStatus

NOW = datetime(2026, 6, 17, 2, 0, tzinfo=timezone.utc)
A, T = AssignmentStatus, TicketStatus
HANDLER, ADMIN, REVIEWER = Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_ADMIN, Role.CENTRE_REVIEWER


def lead(status=A.IN_PROGRESS, **kw) -> AssignmentView:
    return AssignmentView(**{"id": 1, "status": status, "role": AssignmentRole.LEAD, "is_top_level": True, **kw})


def order(*own, status=T.IN_PROGRESS, **kw) -> OrderView:
    return OrderView(**{"status": status, "own": tuple(own), "has_assignments": True, "extension_limit": 10,
                        "has_sub_units": True, **kw})


def code(action, o, role=HANDLER, now=NOW):
    r = refusal(action, o, role, now)
    return None if r is None else (r.code, r.status, r.field, r.explained)


def test_the_table_first_403_for_a_role_that_never_may_409_for_the_wrong_state():
    assert code(Action.DISPATCH, order(), role=HANDLER) == ("role", 403, None, False)
    assert code(Action.DISPATCH, order(status=T.CLOSED), role=Role.CALL_TAKER) == ("state", 409, None, False)
    assert refusal(Action.URGE, order(status=T.CLOSED), REVIEWER, NOW).params == {"status": T.CLOSED}
    assert code(Action.DISPATCH, order(status=T.REGISTERED), role=Role.CALL_TAKER) is None


def test_department_steps_need_an_open_assignment_of_ones_own():
    assert code(Action.SIGN, order(), role=REVIEWER) == ("role", 403, None, False)
    assert code(Action.SIGN, order()) == ("no_open_assignment", 409, None, False)
    assert code(Action.SIGN, order(lead(A.AWAITING_SIGN))) is None
    assert code(Action.SIGN, order(lead(A.IN_PROGRESS))) == ("state", 409, None, False)
    assert code(Action.SUB_DISPATCH, order(lead())) == ("role", 403, None, False)  # a handler never may


def test_only_the_lead_returns_and_only_within_the_window():
    assist = lead(role=AssignmentRole.ASSIST)
    assert code(Action.RETURN, order(assist)) == ("only_lead_returns", 409, None, False)
    sub_unit_assist = lead(role=AssignmentRole.ASSIST, is_top_level=False)
    assert code(Action.RETURN, order(sub_unit_assist)) is None  # a sub-unit returns to its parent
    due = NOW - timedelta(minutes=1)
    late = refusal(Action.RETURN, order(lead(return_due_at=due)), HANDLER, NOW)
    assert (late.code, late.status, late.explained, late.params) == ("return_window_closed", 409, True, {"due": due})
    assert code(Action.RETURN, order(lead(return_due_at=NOW))) is None
    assert code(Action.RETURN, order(lead(return_due_at=None)), now=NOW + timedelta(days=99)) is None


def test_extensions_top_level_only_where_allowed_once_at_a_time_up_to_the_limit():
    assert code(Action.REQUEST_EXTENSION, order(lead(is_top_level=False))) == \
        ("sub_unit_asks_parent", 409, None, False)
    assert code(Action.REQUEST_EXTENSION, order(lead(), extension_limit=None)) == ("not_extendable", 409, None, False)
    assert code(Action.REQUEST_EXTENSION, order(lead(has_pending_extension=True))) == \
        ("extension_waiting", 409, None, True)
    used_up = refusal(Action.REQUEST_EXTENSION, order(lead(extended_days=10)), HANDLER, NOW)
    assert (used_up.code, used_up.status, used_up.field, used_up.params) == ("extension_used_up", 422, "days", {"n": 10})
    assert code(Action.REQUEST_EXTENSION, order(lead(extended_days=9))) is None


def test_sub_dispatch_needs_a_sub_unit_review_needs_a_request_identity_needs_confidentiality():
    assert code(Action.SUB_DISPATCH, order(lead(), has_sub_units=False), role=ADMIN) == \
        ("no_sub_units", 422, "department", False)
    assert code(Action.SUB_DISPATCH, order(lead()), role=ADMIN) is None
    assert code(Action.REVIEW_EXTENSION, order(), role=REVIEWER) == ("no_extension_waiting", 409, None, False)
    assert code(Action.REVIEW_EXTENSION, order(has_pending_extensions=True), role=REVIEWER) is None
    assert code(Action.GRANT_IDENTITY, order(), role=REVIEWER) == ("not_confidential", 409, None, False)
    assert code(Action.GRANT_IDENTITY, order(is_confidential=True, has_assignments=False), role=REVIEWER) == \
        ("no_department_to_grant", 422, "department", False)
    assert code(Action.GRANT_IDENTITY, order(is_confidential=True), role=REVIEWER) is None


def test_the_step_acts_on_the_first_own_assignment_it_may():
    returned, working = lead(A.RETURNED, id=1), lead(A.IN_PROGRESS, id=2)
    o = order(returned, working)
    assert acting_assignment(Action.REPLY, o, HANDLER, NOW) is working
    assert acting_assignment(Action.URGE, o, REVIEWER, NOW) is None  # not a department step
    assert acting_assignment(Action.SIGN, o, HANDLER, NOW) is None


@pytest.mark.parametrize("role", list(Role))
def test_available_is_exactly_what_refusal_lets_through(role):
    for o in (order(lead()), order(lead(A.AWAITING_SIGN), status=T.AWAITING_SIGN, is_confidential=True),
              order(status=T.REGISTERED, has_assignments=False), order(status=T.RETURNED, has_pending_extensions=True)):
        assert available(o, role, NOW) == [a for a in Action if refusal(a, o, role, NOW) is None]
