"""Every row of the transition table, walked through the API (acceptance point 2).

For each row of `workflows.states.TRANSITIONS` an order is brought to the row's source
state purely through the API; then every wrong role (and, for a department's own
assignment, the users of another department) is refused with 403 / 409 (404 where the
caller may not even see the order, as API.md requires) and nothing changes; then a
right role takes the step, and the order, its assignment and its trail show it.

A row added to the table without a recipe here fails `test_every_row_has_a_recipe`
and its own parametrized case.

Speed: the city (departments, users, calendar) is built once per backend for this
module; every test works on orders of its own, so they cannot disturb one another.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from hotline.extensions import db
from tests import conftest
from tests.conftest import TZ
from workflows.states import (CENTRE, FOLLOW_LEAD, TRANSITIONS, Action, AssignmentStatus, Role,
                              TicketStatus, Transition, roles_for, status_for_lead)

T, A = TicketStatus, AssignmentStatus


@pytest.fixture(scope="module")
def world(app):
    """conftest's world, built once per backend for this module (it only reads it)."""
    with app.app_context():
        conftest._empty_database()
        w = conftest.world.__wrapped__(db.session)
        w.ids = {k: d.id for k, d in w.depts.items()}
        w.cache = {}
    yield w


@pytest.fixture(autouse=True)
def _frozen(clock):
    """Every test here runs on conftest's frozen clock."""
    yield clock


# -- who is who ------------------------------------------------------------------------------

#: One world user per centre role.
CENTRE_USER = {
    Role.CALL_TAKER: "call_taker", Role.EXPERT: "expert", Role.SUPERVISOR: "supervisor",
    Role.CENTRE_REVIEWER: "reviewer", Role.MANAGER: "manager", Role.ADMIN: "admin",
}
#: Department users per department key: (handler, admin).
DEPT_USERS = {"cgj": ("handler", "cgj_admin"), "dc": ("district_handler", "district_admin")}
#: Users of *another* department with the same role, per department the order is with.
OTHER_DEPT_USER = {
    "cgj": {Role.DEPARTMENT_HANDLER: "handler_b", Role.DEPARTMENT_ADMIN: "district_admin"},
    "dc": {Role.DEPARTMENT_HANDLER: "handler_b", Role.DEPARTMENT_ADMIN: "cgj_admin"},
}
#: Department of each department user (as in tests/conftest.py's ROLE_USERS).
USER_DEPT = {key: dept for key, (_role, dept) in conftest.ROLE_USERS.items() if dept}


def user_for(role: Role, dept: str) -> str:
    """The world user acting in `role`; department roles from department `dept`."""
    if role in CENTRE:
        return CENTRE_USER[role]
    handler, admin = DEPT_USERS[dept]
    return handler if role == Role.DEPARTMENT_HANDLER else admin


def role_of(user: str) -> Role:
    return Role(conftest.ROLE_USERS[user][0])


# -- the API, step by step ---------------------------------------------------------------------

@dataclass
class Ctx:
    number: str
    dept: str = "cgj"
    master: str | None = None


class Flow:
    """Drives orders through the API; every step must succeed."""

    def __init__(self, api, new_ticket, world):
        self.api, self.new_ticket, self.world = api, new_ticket, world
        self.ids = world.ids

    def do(self, user: str, number: str, action: str, body: dict | None = None) -> dict:
        resp = self.api(user).action(number, action, body or {})
        assert resp.status_code == 200, (user, action, resp.status_code, resp.get_json())
        return resp.get_json()

    def detail(self, number: str, user: str = "reviewer") -> dict:
        resp = self.api(user).get(f"/tickets/{number}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def events(self, number: str) -> list[dict]:
        resp = self.api("reviewer").get(f"/tickets/{number}/events")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]

    def snapshot(self, *numbers: str) -> dict:
        """Everything the centre sees of these orders: the whole detail and the whole trail."""
        return {n: (self.detail(n), self.events(n)) for n in numbers if n}

    def can_see(self, user: str, number: str) -> bool:
        """Whether `user` may read the order at all (centre staff always may)."""
        if user not in USER_DEPT:
            return True
        status = self.api(user).get(f"/tickets/{number}").status_code
        assert status in (200, 404), status
        return status == 200


def body_for(action: Action, outcome: str | None, ctx: Ctx, ids: dict) -> dict:
    """Valid fields for each action (API.md's action table)."""
    if action == Action.REVIEW_RETURN:
        return {"redispatch": {"approve": True, "department": ids["scj"], "note": "改派市场监管局"},
                "withdraw": {"approve": True, "note": "撤回重新研判"},
                "refuse": {"approve": False, "note": "属于贵单位职责，请继续办理"}}[outcome]
    if action == Action.REVIEW_REPLY:
        return {"approve": {"approve": True, "note": "答复完整"},
                "reject": {"approve": False, "note": "未说明处理结果"}}[outcome]
    return {
        Action.ANSWER: {"reply": "已电话答复：占道经营请拨打城管热线。"},
        Action.DISPATCH: {"department": ids[ctx.dept], "note": "请依职责办理"},
        Action.SIGN: {},
        Action.RETURN: {"reason": "不属于本单位职责"},
        Action.SUB_DISPATCH: {"department": ids["dc_s1"], "note": "请街道核查"},
        Action.REQUEST_EXTENSION: {"days": 3, "reason": "需协调多个部门"},
        Action.REVIEW_EXTENSION: {"approve": True, "note": "同意延期"},
        Action.REPLY: {"content": "已现场核查并清理摊点。", "contacted_citizen": True},
        Action.PROGRESS: {"text": "已联系执法中队，明早到现场核查。", "public": True},
        Action.VISIT: {"satisfaction": "satisfied", "resolved": True, "note": "市民表示满意"},
        Action.REOPEN: {"reason": "市民反映问题依旧"},
        Action.URGE: {"note": "请尽快办理"},
        Action.SUPERVISE: {"note": "列入督办"},
        Action.MERGE: {"into": ctx.master},
        Action.CANCEL: {"reason": "重复来电"},
        Action.COMMENT: {"content": "已与市民联系", "internal": True},
        Action.GRANT_IDENTITY: {"department": ids[ctx.dept], "reason": "需与举报人核实现场"},
    }[action]


def step(flow: Flow, ctx: Ctx, name: str) -> None:
    """One named step of a recipe, as the user who would take it."""
    handler, _admin = DEPT_USERS[ctx.dept]
    ids, n = flow.ids, ctx.number
    if name == "dispatch":
        flow.do("call_taker", n, "dispatch", {"department": ids[ctx.dept]})
    elif name == "dispatch_with_assist":
        flow.do("call_taker", n, "dispatch", {"department": ids[ctx.dept], "assist": [ids["scj"]]})
    elif name == "sign":
        flow.do(handler, n, "sign")
    elif name == "extend":
        flow.do(handler, n, "request-extension", {"days": 3, "reason": "需协调"})
    elif name == "assist_sign":
        flow.do("handler_b", n, "sign")
    elif name == "assist_extend":
        flow.do("handler_b", n, "request-extension", {"days": 2, "reason": "协办需时间"})
    elif name == "return":
        flow.do(handler, n, "return", {"reason": "不属于本单位职责"})
    elif name == "reply":
        flow.do(handler, n, "reply", {"content": "已处理", "contacted_citizen": True})
    elif name == "approve":
        flow.do("reviewer", n, "review-reply", {"approve": True})
    elif name == "visit":
        flow.do("reviewer", n, "visit", {"satisfaction": "satisfied", "resolved": True})
    elif name == "answer":
        flow.do("call_taker", n, "answer", {"reply": "已直接答复"})
    elif name == "withdraw":
        flow.do("reviewer", n, "review-return", {"approve": True})
    elif name == "merge":
        flow.do("reviewer", n, "merge", {"into": flow.new_ticket(subject="另一工单")})
    elif name == "cancel":
        flow.do("reviewer", n, "cancel", {"reason": "市民撤回"})
    else:  # pragma: no cover - a typo in a recipe
        raise AssertionError(f"unknown recipe step {name}")


#: Source states reachable through the API: (steps, the order's status afterwards).
STATES: dict[str, tuple[tuple[str, ...], TicketStatus]] = {
    "registered": ((), T.REGISTERED),
    "withdrawn": (("dispatch", "return", "withdraw"), T.REGISTERED),
    "awaiting_sign": (("dispatch",), T.AWAITING_SIGN),
    "in_progress": (("dispatch", "sign"), T.IN_PROGRESS),
    "returned": (("dispatch", "return"), T.RETURNED),
    "returned_signed": (("dispatch", "sign", "return"), T.RETURNED),
    "replied": (("dispatch", "sign", "reply"), T.REPLIED),
    "awaiting_visit": (("dispatch", "sign", "reply", "approve"), T.AWAITING_VISIT),
    "answered": (("answer",), T.AWAITING_VISIT),
    "closed": (("dispatch", "sign", "reply", "approve", "visit"), T.CLOSED),
    "closed_answered": (("answer", "visit"), T.CLOSED),
    "merged": (("dispatch", "merge"), T.MERGED),
    "cancelled": (("dispatch", "cancel"), T.CANCELLED),
    # with an extension request waiting for the centre
    "ext_awaiting_sign": (("dispatch_with_assist", "assist_sign", "assist_extend"), T.AWAITING_SIGN),
    "ext_in_progress": (("dispatch", "sign", "extend"), T.IN_PROGRESS),
    "ext_returned": (("dispatch", "sign", "extend", "return"), T.RETURNED),
    "ext_replied": (("dispatch", "sign", "extend", "reply"), T.REPLIED),
    "ext_awaiting_visit": (("dispatch", "sign", "extend", "reply", "approve"), T.AWAITING_VISIT),
    "ext_closed": (("dispatch", "sign", "extend", "reply", "approve", "visit"), T.CLOSED),
    "ext_merged": (("dispatch", "sign", "extend", "merge"), T.MERGED),
    "ext_cancelled": (("dispatch", "sign", "extend", "cancel"), T.CANCELLED),
}
#: A plain recipe per ticket status.
STATE_OF = {T.REGISTERED: "registered", T.AWAITING_SIGN: "awaiting_sign", T.IN_PROGRESS: "in_progress",
            T.RETURNED: "returned", T.REPLIED: "replied", T.AWAITING_VISIT: "awaiting_visit",
            T.CLOSED: "closed", T.MERGED: "merged", T.CANCELLED: "cancelled"}


def bring(flow: Flow, state: str, *, dept: str = "cgj", **ticket) -> Ctx:
    steps, status = STATES[state]
    ctx = Ctx(flow.new_ticket(**ticket), dept=dept)
    for name in steps:
        step(flow, ctx, name)
    return ctx


# -- one recipe per row of the table -------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    state: str          # key of STATES
    actor: str          # the right-role user who takes the step
    dept: str = "cgj"   # the department the order goes to (whose users act on assignments)


def _recipes() -> dict[tuple, Recipe]:
    r: dict[tuple, Recipe] = {
        (Action.ANSWER, T.REGISTERED, None): Recipe("registered", "call_taker"),
        (Action.DISPATCH, T.REGISTERED, None): Recipe("registered", "expert"),
        (Action.REVIEW_RETURN, T.RETURNED, "redispatch"): Recipe("returned", "reviewer"),
        (Action.REVIEW_RETURN, T.RETURNED, "withdraw"): Recipe("returned", "supervisor"),
        (Action.REVIEW_RETURN, T.RETURNED, "refuse"): Recipe("returned", "reviewer"),
        (Action.REVIEW_REPLY, T.REPLIED, "approve"): Recipe("replied", "reviewer"),
        (Action.REVIEW_REPLY, T.REPLIED, "reject"): Recipe("replied", "supervisor"),
        (Action.VISIT, T.AWAITING_VISIT, None): Recipe("awaiting_visit", "reviewer"),
        (Action.REOPEN, T.CLOSED, "redispatch"): Recipe("closed", "reviewer"),
        (Action.REOPEN, T.CLOSED, "register"): Recipe("closed_answered", "supervisor"),
        (Action.CANCEL, T.REGISTERED, None): Recipe("registered", "call_taker"),
        (Action.SIGN, A.AWAITING_SIGN, None): Recipe("awaiting_sign", "handler"),
        (Action.RETURN, A.AWAITING_SIGN, None): Recipe("awaiting_sign", "handler"),
        (Action.RETURN, A.IN_PROGRESS, None): Recipe("in_progress", "cgj_admin"),
        (Action.SUB_DISPATCH, A.IN_PROGRESS, None): Recipe("in_progress", "district_admin", dept="dc"),
        (Action.REQUEST_EXTENSION, A.IN_PROGRESS, None): Recipe("in_progress", "handler"),
        (Action.REPLY, A.IN_PROGRESS, None): Recipe("in_progress", "handler"),
        (Action.PROGRESS, A.IN_PROGRESS, None): Recipe("in_progress", "cgj_admin"),
    }
    for s in (T.AWAITING_SIGN, T.IN_PROGRESS):
        r[(Action.URGE, s, None)] = Recipe(STATE_OF[s], "reviewer")
    for s in (T.AWAITING_SIGN, T.IN_PROGRESS, T.RETURNED, T.REPLIED):
        r[(Action.SUPERVISE, s, None)] = Recipe(STATE_OF[s], "supervisor")
        r[(Action.REVIEW_EXTENSION, s, None)] = Recipe("ext_" + STATE_OF[s], "reviewer")
        r[(Action.CANCEL, s, None)] = Recipe(STATE_OF[s], "reviewer")
    for s in (T.REGISTERED, T.AWAITING_SIGN, T.IN_PROGRESS, T.RETURNED, T.REPLIED):
        r[(Action.MERGE, s, None)] = Recipe(STATE_OF[s], "supervisor")
    r[(Action.CANCEL, T.AWAITING_VISIT, None)] = Recipe("awaiting_visit", "supervisor")
    for s in TicketStatus:
        # department staff comment where their department holds the order; the centre elsewhere
        commenter = {T.REGISTERED: "call_taker", T.CLOSED: "manager", T.MERGED: "expert", T.CANCELLED: "admin"}
        r[(Action.COMMENT, s, None)] = Recipe(STATE_OF[s], commenter.get(s, "handler"))
        # identity goes to a department that had the order, so a registered one was dispatched once
        r[(Action.GRANT_IDENTITY, s, None)] = Recipe("withdrawn" if s == T.REGISTERED else STATE_OF[s], "reviewer")
    return r


RECIPES = _recipes()


def row_key(row: Transition) -> tuple:
    return (row.action, row.source, row.outcome)


def row_id(row: Transition) -> str:
    target = row.target if row.target != FOLLOW_LEAD else "lead"
    scope = "assignment " if row.scope == "assignment" else ""
    return f"{row.action.value}{'(' + row.outcome + ')' if row.outcome else ''}:{scope}{row.source}->{target}"


def test_every_row_has_a_recipe():
    """A new row without a test path fails here; so does a recipe for a row that is gone."""
    keys = [row_key(r) for r in TRANSITIONS]
    assert len(set(keys)) == len(keys), "two rows share (action, source, outcome)"
    missing = [row_id(r) for r in TRANSITIONS if row_key(r) not in RECIPES]
    assert not missing, f"rows without a recipe in test_transitions.py: {missing}"
    stale = set(RECIPES) - set(keys)
    assert not stale, f"recipes for rows no longer in the table: {stale}"
    assert len({row_id(r) for r in TRANSITIONS}) == len(TRANSITIONS)
    for key, recipe in RECIPES.items():
        row = next(r for r in TRANSITIONS if row_key(r) == key)
        assert role_of(recipe.actor) in row.roles, (key, recipe)
        if row.scope == "ticket":
            assert STATES[recipe.state][1] == row.source, (key, recipe)


# -- checks ------------------------------------------------------------------------------------------

def lead_of(detail: dict) -> dict | None:
    """The current top-level lead assignment: the newest one not withdrawn."""
    leads = [a for a in detail["assignments"]
             if a["role"] == "lead" and a["parent"] is None and a["status"] != "withdrawn"]
    return leads[-1] if leads else None


def acting_assignment(detail: dict, dept_id: int, status: str) -> dict:
    mine = [a for a in detail["assignments"] if a["department"]["id"] == dept_id and a["status"] == status]
    assert len(mine) == 1, detail["assignments"]
    return mine[0]


def assert_error(resp, status: int) -> dict:
    """`status` with API.md's error shape {"error": {"code", "message", "fields"}}."""
    body = resp.get_json()
    assert resp.status_code == status, (resp.status_code, body)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


CODES = {403: "forbidden", 404: "not_found", 409: "invalid_state"}


def wrong_users(row: Transition, dept: str) -> list[str]:
    """One user per role not in the row; for a department's own assignment, other departments too."""
    users = [user_for(role, dept) for role in Role if role not in row.roles]
    if row.scope == "assignment":
        users += [OTHER_DEPT_USER[dept][role] for role in sorted(row.roles)]
    return users


def refusal_for(flow: Flow, user: str, action: Action, number: str) -> int:
    """404 when the caller may not see the order (API.md); 403 when the role never may; else 409."""
    if not flow.can_see(user, number):
        return 404
    return 403 if role_of(user) not in roles_for(action) else 409


def effects(action: Action, outcome, flow: Flow, ctx: Ctx, before: dict, after: dict, acting: dict | None):
    """What else a user notices after each action (before, after: the centre's view)."""
    ids = flow.ids
    if action == Action.DISPATCH:
        assert [(a["department"]["id"], a["role"], a["status"]) for a in after["assignments"]] == \
            [(ids[ctx.dept], "lead", "awaiting_sign")]
        assert after["lead_department"]["id"] == ids[ctx.dept]
        assert after["sla"]["due_at"] == after["assignments"][0]["reply_due_at"]
    elif action == Action.ANSWER:
        assert after["answer"] and after["assignments"] == []
    elif action == Action.URGE:
        assert after["urge_count"] == before["urge_count"] + 1
    elif action == Action.SUPERVISE:
        assert after["supervision_level"] == before["supervision_level"] + 1
    elif action == Action.COMMENT:
        assert len(after["comments"]) == len(before["comments"]) + 1
    elif action == Action.REQUEST_EXTENSION:
        assert [(e["status"], e["assignment"]) for e in after["extension_requests"]] == [("pending", acting["id"])]
    elif action == Action.REVIEW_EXTENSION:
        (req,) = after["extension_requests"]
        assert req["status"] == "approved"
        old = next(a for a in before["assignments"] if a["id"] == req["assignment"])
        new = next(a for a in after["assignments"] if a["id"] == req["assignment"])
        assert datetime.fromisoformat(new["reply_due_at"]) > datetime.fromisoformat(old["reply_due_at"])
        assert new["extended_days"] == old["extended_days"] + req["days"]
    elif action == Action.SUB_DISPATCH:
        (child,) = [a for a in after["assignments"] if a["parent"] == acting["id"]]
        assert child["department"]["id"] == ids["dc_s1"] and child["status"] == "awaiting_sign"
    elif action == Action.REPLY:
        assert [r["status"] for r in after["replies"]] == ["pending"]
    elif action == Action.PROGRESS:
        # a note, and nothing else: no state, no deadline moves
        def unmoved(detail: dict) -> dict:
            return {**detail, "updated_at": None,
                    "assignments": [{**a, "last_progress_at": None} for a in detail["assignments"]]}
        assert unmoved(flow.detail(ctx.number)) == unmoved(before)
        assert flow.events(ctx.number)[-1]["data"] == {"text": "已联系执法中队，明早到现场核查。", "public": True}
    elif action == Action.REVIEW_REPLY:
        assert [r["status"] for r in after["replies"]] == ["approved" if outcome == "approve" else "rejected"]
    elif action == Action.VISIT:
        assert after["satisfaction"] == "satisfied" and after["resolved"] is True and after["closed_at"]
    elif action == Action.REVIEW_RETURN and outcome == "redispatch":
        lead = lead_of(after)
        assert lead["department"]["id"] == ids["scj"] and lead["status"] == "awaiting_sign"
        assert after["lead_department"]["id"] == ids["scj"]
    elif action in (Action.MERGE, Action.CANCEL) or (action, outcome) == (Action.REVIEW_RETURN, "withdraw"):
        assert all(a["status"] in ("withdrawn", "done") for a in after["assignments"])
        if action == Action.MERGE:
            assert after["merged_into"] == ctx.master
            assert flow.events(ctx.master)[-1]["action"] == "merged-in"
    elif action == Action.REOPEN:
        assert after["reopen_count"] == before["reopen_count"] + 1
        if outcome == "redispatch":
            assert lead_of(after)["status"] == "awaiting_sign"
    elif action == Action.GRANT_IDENTITY:
        assert before["is_confidential"]
        assert flow.events(ctx.number)[-1]["data"] == {"department": ids[ctx.dept]}
        if any(a["department"]["id"] == ids[ctx.dept] and a["status"] in ("awaiting_sign", "in_progress", "replied")
               for a in after["assignments"]):
            # the department working on it may now read who reported the (confidential) order
            assert flow.detail(ctx.number, "handler")["citizen"]["name"] == "张三"


# -- every row: wrong roles refused, right role walks it ---------------------------------------------

@pytest.mark.parametrize("row", TRANSITIONS, ids=[row_id(r) for r in TRANSITIONS])
def test_transition(row: Transition, api, new_ticket, world):
    recipe = RECIPES.get(row_key(row))
    assert recipe is not None, f"no recipe for {row_id(row)}: add one to RECIPES"
    flow = Flow(api, new_ticket, world)
    ticket = {"is_confidential": True} if row.action == Action.GRANT_IDENTITY else {}
    ctx = bring(flow, recipe.state, dept=recipe.dept, **ticket)
    if row.action == Action.MERGE:
        ctx.master = new_ticket(subject="主工单")
    body = body_for(row.action, row.outcome, ctx, flow.ids)
    before = flow.snapshot(ctx.number, ctx.master)
    detail, trail = before[ctx.number]
    assert detail["status"] == STATES[recipe.state][1]
    acting = None
    if row.scope == "assignment":
        acting = acting_assignment(detail, flow.ids[recipe.dept], row.source)

    # wrong roles and other departments: refused, and nothing changes
    for user in wrong_users(row, recipe.dept):
        expected = refusal_for(flow, user, row.action, ctx.number)
        err = assert_error(api(user).action(ctx.number, row.action.value, body), expected)
        assert err["code"] == CODES[expected], (user, err)
    assert flow.snapshot(ctx.number, ctx.master) == before, "a refused call changed the order"

    if row.action == Action.GRANT_IDENTITY and detail["status"] in ("awaiting_sign", "in_progress", "replied"):
        assert flow.detail(ctx.number, "handler")["citizen"]["is_hidden"] is True

    # the right role (the reply is the order as the actor now sees it)
    after = flow.do(recipe.actor, ctx.number, row.action.value, body)

    if row.scope == "assignment":
        mine = next(a for a in after["assignments"] if a["id"] == acting["id"])
        assert mine["status"] == row.target
        is_lead = acting["role"] == "lead" and acting["parent"] is None
        expected_status = status_for_lead(A(row.target)).value if is_lead else detail["status"]
    elif row.target == FOLLOW_LEAD:
        # a refused return: the department keeps it, signed or not as it was
        returned = lead_of(detail)
        lead_status = A.IN_PROGRESS if returned["signed_at"] else A.AWAITING_SIGN
        assert lead_of(after)["id"] == returned["id"] and lead_of(after)["status"] == lead_status.value
        expected_status = status_for_lead(lead_status).value
    else:
        expected_status = row.target
    assert after["status"] == expected_status

    events = flow.events(ctx.number)
    assert events[:len(trail)] == trail, "the trail was rewritten"
    new = [e for e in events[len(trail):] if e["action"] == row.action.value]
    assert len(new) == 1, events[len(trail):]
    assert (new[0]["from_status"], new[0]["to_status"]) == (detail["status"], expected_status)
    assert new[0]["actor"] == recipe.actor
    effects(row.action, row.outcome, flow, ctx, detail, after, acting)


# -- wrong state: a right role in a state without a row gets 409 ----------------------------------------

ACTIONS = sorted({r.action for r in TRANSITIONS}, key=lambda a: list(Action).index(a))
#: A gallery of orders, one per state, built once per backend and only ever refused:
#: (recipe, department). Where possible an extension request is left waiting, so that
#: review-extension is refused for the state and not for want of a request.
GALLERY = {
    T.REGISTERED: ("registered", "cgj"), T.AWAITING_SIGN: ("awaiting_sign", "cgj"),
    T.IN_PROGRESS: ("in_progress", "cgj"), T.RETURNED: ("returned", "cgj"), T.REPLIED: ("replied", "cgj"),
    T.AWAITING_VISIT: ("ext_awaiting_visit", "cgj"), T.CLOSED: ("ext_closed", "cgj"),
    T.MERGED: ("ext_merged", "cgj"), T.CANCELLED: ("ext_cancelled", "cgj"),
}
#: Orders whose cgj (or, for sub-dispatch, dc) assignment is in each status.
ASSIGNMENT_GALLERY = {A.AWAITING_SIGN: "awaiting_sign", A.IN_PROGRESS: "in_progress", A.RETURNED: "returned",
                      A.REPLIED: "replied", A.DONE: "ext_awaiting_visit", A.WITHDRAWN: "ext_cancelled"}


@pytest.fixture
def gallery(api, new_ticket, world):
    """{(recipe, dept): (number, snapshot)}, built on first use for this backend."""
    if "gallery" not in world.cache:
        flow = Flow(api, new_ticket, world)
        wanted = set(GALLERY.values()) | {(s, d) for s in ASSIGNMENT_GALLERY.values() for d in ("cgj", "dc")}
        built = {}
        for state, dept in sorted(wanted):
            ctx = bring(flow, state, dept=dept)
            built[(state, dept)] = (ctx.number, flow.snapshot(ctx.number)[ctx.number])
        world.cache["gallery"] = built
    return world.cache["gallery"]


def right_user(action: Action, dept: str = "cgj") -> str:
    """A user whose role may take `action` somewhere in the table."""
    roles = roles_for(action)
    for role in (Role.CENTRE_REVIEWER, Role.CALL_TAKER, Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_ADMIN):
        if role in roles:
            return user_for(role, dept)
    raise AssertionError(f"no user for {action}")  # pragma: no cover


def assert_refused_unchanged(flow: Flow, user: str, number: str, action: Action, body: dict, status=409):
    before = flow.snapshot(number)
    err = assert_error(flow.api(user).action(number, action.value, body), status)
    assert err["code"] == CODES[status]
    assert flow.snapshot(number) == before
    return err


@pytest.mark.parametrize("action", ACTIONS, ids=[a.value for a in ACTIONS])
def test_wrong_state_is_409(action: Action, api, new_ticket, world, gallery):
    """A right role, valid fields, a state without a row: 409 in API.md's error shape, no change."""
    flow = Flow(api, new_ticket, world)
    rows = [r for r in TRANSITIONS if r.action == action]
    scope = {r.scope for r in rows}
    assert len(scope) == 1, f"{action} mixes ticket and assignment rows"
    sources = {r.source for r in rows}
    outcomes = sorted({r.outcome for r in rows}, key=str)
    if scope == {"ticket"}:
        wrong = {GALLERY[s] for s in TicketStatus if s not in sources}
    else:
        dept = "dc" if action == Action.SUB_DISPATCH else "cgj"
        wrong = {(ASSIGNMENT_GALLERY[s], dept) for s in AssignmentStatus if s not in sources}
    if not wrong:
        # allowed in every state: nothing to refuse (comment, grant-identity)
        assert sources == set(TicketStatus), action
        return
    master = gallery[("registered", "cgj")][0]
    used = []
    for state, dept in sorted(wrong):
        number, _snap = gallery[(state, dept)]
        ctx = Ctx(number, dept=dept, master=master if number != master else gallery[("replied", "cgj")][0])
        detail = _snap[0]
        if scope == {"assignment"}:
            mine = [a["status"] for a in detail["assignments"] if a["department"]["id"] == flow.ids[dept]]
            assert mine and mine[-1] not in sources, (state, mine)
        else:
            assert detail["status"] not in sources
        for outcome in outcomes:
            resp = api(right_user(action, dept)).action(number, action.value, body_for(action, outcome, ctx, flow.ids))
            err = assert_error(resp, 409)
            assert err["code"] == "invalid_state", (state, outcome, err)
        used.append((state, dept))
    for key in used:
        number, snap = gallery[key]
        assert flow.snapshot(number)[number] == snap, f"a refused {action.value} changed the {key} order"
    if action == Action.MERGE:
        assert flow.snapshot(master)[master] == gallery[("registered", "cgj")][1]


def test_department_that_sees_the_order_but_has_no_assignment_gets_409(api, new_ticket, world):
    """The district sees what its street holds, but cannot sign or reply for the street."""
    flow = Flow(api, new_ticket, world)
    number = new_ticket()
    flow.do("call_taker", number, "dispatch", {"department": flow.ids["dc_s1"]})
    for user, action, body in (("district_handler", Action.SIGN, {}),
                               ("district_admin", Action.RETURN, {"reason": "不属于"}),
                               ("district_handler", Action.REPLY, {"content": "已处理"})):
        assert api(user).get(f"/tickets/{number}").status_code == 200
        assert_refused_unchanged(flow, user, number, action, body)
    for user in ("other_street_handler", "handler"):
        assert_refused_unchanged(flow, user, number, Action.SIGN, {}, status=404)
    flow.do("street_handler", number, "sign")
    assert flow.detail(number)["status"] == "in_progress"


# -- the outcomes and paths around the table -------------------------------------------------------------

def test_review_return_outcomes(api, new_ticket, world):
    flow = Flow(api, new_ticket, world)
    # redispatch: the old lead is withdrawn, the new department takes it from the start
    ctx = bring(flow, "returned")
    flow.do("reviewer", ctx.number, "review-return", {"approve": True, "department": flow.ids["scj"]})
    d = flow.detail(ctx.number)
    assert d["status"] == "awaiting_sign"
    assert [(a["department"]["code"], a["status"]) for a in d["assignments"]] == \
        [("CGJ", "withdrawn"), ("SCJ", "awaiting_sign")]
    assert d["lead_department"]["code"] == "SCJ"
    # cgj's part is over: it may not sign (and may no longer even see the order: 404)
    assert_refused_unchanged(flow, "handler", ctx.number, Action.SIGN, {},
                             status=409 if flow.can_see("handler", ctx.number) else 404)
    flow.do("handler_b", ctx.number, "sign")
    assert flow.detail(ctx.number)["status"] == "in_progress"

    # withdraw: back to the desk, no department holds it, it can be dispatched afresh
    ctx = bring(flow, "returned_signed")
    flow.do("supervisor", ctx.number, "review-return", {"approve": True, "note": "重新研判"})
    d = flow.detail(ctx.number)
    assert d["status"] == "registered" and d["lead_department"] is None and d["sla"]["due_at"] is None
    assert [a["status"] for a in d["assignments"]] == ["withdrawn"]
    flow.do("call_taker", ctx.number, "dispatch", {"department": flow.ids["scj"]})
    assert flow.detail(ctx.number)["status"] == "awaiting_sign"

    # refuse: the department keeps it, where it was (unsigned -> awaiting sign, signed -> in progress)
    for state, expected in (("returned", "awaiting_sign"), ("returned_signed", "in_progress")):
        ctx = bring(flow, state)
        assert_error(api("reviewer").action(ctx.number, "review-return", {"approve": False}), 422)
        flow.do("reviewer", ctx.number, "review-return", {"approve": False, "note": "属于贵单位职责"})
        d = flow.detail(ctx.number)
        assert d["status"] == expected
        assert [(a["department"]["code"], a["status"]) for a in d["assignments"]] == [("CGJ", expected)]
        ev = flow.events(ctx.number)[-1]
        assert (ev["action"], ev["from_status"], ev["to_status"]) == ("review-return", "returned", expected)
        assert ev["data"]["outcome"] == "refuse"


def test_reopen_gives_a_fresh_deadline_and_walks_again(api, new_ticket, world, clock):
    flow = Flow(api, new_ticket, world)
    ctx = bring(flow, "closed")
    old = flow.detail(ctx.number)["assignments"][0]
    clock.advance(days=14)  # the citizen calls back two weeks later
    flow.do("reviewer", ctx.number, "reopen", {"reason": "问题依旧"})
    d = flow.detail(ctx.number)
    assert d["status"] == "awaiting_sign" and d["reopen_count"] == 1
    assert d["satisfaction"] is None and d["closed_at"] is None
    new = d["assignments"][-1]
    assert new["id"] != old["id"] and new["status"] == "awaiting_sign" and new["department"]["code"] == "CGJ"
    assert datetime.fromisoformat(new["reply_due_at"]) > datetime.fromisoformat(old["reply_due_at"])
    assert datetime.fromisoformat(new["dispatched_at"]) == clock.now
    assert datetime.fromisoformat(d["sla"]["due_at"]) == datetime.fromisoformat(new["reply_due_at"])
    # the reopened order walks the whole way again and follows its new lead
    for user, action, body, status in (
            ("handler", "sign", {}, "in_progress"),
            ("handler", "reply", {"content": "再次处理", "contacted_citizen": True}, "replied"),
            ("reviewer", "review-reply", {"approve": True}, "awaiting_visit"),
            ("reviewer", "visit", {"satisfaction": "satisfied", "resolved": True}, "closed")):
        flow.do(user, ctx.number, action, body)
        assert flow.detail(ctx.number)["status"] == status, action


def test_reopen_of_a_direct_answer_goes_back_to_the_desk(api, new_ticket, world):
    flow = Flow(api, new_ticket, world)
    ctx = bring(flow, "closed_answered")
    flow.do("reviewer", ctx.number, "reopen", {"reason": "答复不清楚"})
    d = flow.detail(ctx.number)
    assert d["status"] == "registered" and d["assignments"] == []
    flow.do("call_taker", ctx.number, "dispatch", {"department": flow.ids["cgj"]})
    assert flow.detail(ctx.number)["status"] == "awaiting_sign"


def test_merge_into_a_master(api, new_ticket, world):
    flow = Flow(api, new_ticket, world)
    ctx = bring(flow, "in_progress")
    master = new_ticket(subject="同一地点占道经营")
    master_before = flow.detail(master)
    flow.do("reviewer", ctx.number, "merge", {"into": master})
    d = flow.detail(ctx.number)
    assert d["status"] == "merged" and d["merged_into"] == master and d["closed_at"]
    assert [a["status"] for a in d["assignments"]] == ["withdrawn"]
    ev = flow.events(ctx.number)[-1]
    assert (ev["action"], ev["from_status"], ev["to_status"]) == ("merge", "in_progress", "merged")
    merged_in = flow.events(master)[-1]
    assert merged_in["action"] == "merged-in" and merged_in["data"] == {"from": ctx.number}
    assert flow.detail(master)["status"] == master_before["status"] == "registered"
    # the department's part is over; a merged order takes no more steps nor merges
    assert_refused_unchanged(flow, "handler", ctx.number, Action.REPLY, {"content": "已处理"})
    other = new_ticket()
    err = assert_error(api("reviewer").action(other, "merge", {"into": ctx.number}), 422)
    assert "into" in err["fields"]
    assert_error(api("reviewer").action(master, "merge", {"into": master}), 422)


def test_cancel(api, new_ticket, world):
    flow = Flow(api, new_ticket, world)
    number = new_ticket()
    flow.do("call_taker", number, "cancel", {"reason": "恶意骚扰电话"})
    assert flow.detail(number)["status"] == "cancelled"
    assert_error(api("call_taker").action(number, "cancel", {}), 409)

    ctx = bring(flow, "in_progress")
    # a call taker cancels only at the desk; once a department has it, the centre's reviewers do
    assert_refused_unchanged(flow, "call_taker", ctx.number, Action.CANCEL, {"reason": "市民撤回"})
    flow.do("reviewer", ctx.number, "cancel", {"reason": "市民撤回"})
    d = flow.detail(ctx.number)
    assert d["status"] == "cancelled" and [a["status"] for a in d["assignments"]] == ["withdrawn"]
    assert_refused_unchanged(flow, "handler", ctx.number, Action.REPLY, {"content": "已处理"})
    assert_refused_unchanged(flow, "reviewer", ctx.number, Action.REOPEN, {"reason": "x"})


def test_sub_dispatch_path_reply_goes_up_through_the_parent(api, new_ticket, world):
    flow = Flow(api, new_ticket, world)
    ctx = bring(flow, "in_progress", dept="dc")
    flow.do("district_admin", ctx.number, "sub-dispatch", {"department": flow.ids["dc_s1"]})
    d = flow.detail(ctx.number)
    parent, child = d["assignments"]
    assert child["parent"] == parent["id"] and child["department"]["code"] == "DC_S1"
    assert child["reply_due_at"] == parent["reply_due_at"]

    # the street sees and signs its part; the order stays with the district
    assert api("street_handler").get(f"/tickets/{ctx.number}").status_code == 200
    assert api("other_street_handler").get(f"/tickets/{ctx.number}").status_code == 404
    flow.do("street_handler", ctx.number, "sign")
    assert flow.detail(ctx.number)["status"] == "in_progress"
    # a sub-unit asks its parent for more time, not the centre
    assert_refused_unchanged(flow, "street_handler", ctx.number, Action.REQUEST_EXTENSION,
                             {"days": 2, "reason": "需时间"})
    # the street replies to the district: nothing reaches the centre yet
    flow.do("street_handler", ctx.number, "reply", {"content": "街道已清理摊点", "contacted_citizen": True})
    d = flow.detail(ctx.number)
    assert d["status"] == "in_progress"
    assert [a["status"] for a in d["assignments"]] == ["in_progress", "replied"]
    assert [r["status"] for r in d["replies"]] == ["forwarded"]
    assert_refused_unchanged(flow, "reviewer", ctx.number, Action.REVIEW_REPLY, {"approve": True})
    # the district replies to the centre; the street's part is done
    flow.do("district_handler", ctx.number, "reply", {"content": "经街道核查已清理", "contacted_citizen": True})
    d = flow.detail(ctx.number)
    assert d["status"] == "replied"
    assert [a["status"] for a in d["assignments"]] == ["replied", "done"]
    ev = flow.events(ctx.number)[-1]
    assert (ev["action"], ev["from_status"], ev["to_status"]) == ("reply", "in_progress", "replied")
    flow.do("reviewer", ctx.number, "review-reply", {"approve": True})
    d = flow.detail(ctx.number)
    assert d["status"] == "awaiting_visit"
    assert [a["status"] for a in d["assignments"]] == ["done", "done"]


def test_return_window(api, new_ticket, world, clock):
    """Returns are accepted for 2 working days after dispatch; 3 working days on: 409."""
    flow = Flow(api, new_ticket, world)
    clock.set(datetime(2026, 6, 15, 10, 0, tzinfo=TZ))      # Monday
    late, in_time = bring(flow, "in_progress"), bring(flow, "awaiting_sign")
    clock.set(datetime(2026, 6, 17, 9, 0, tzinfo=TZ))       # Wednesday: within 2 working days
    flow.do("handler", in_time.number, "return", {"reason": "不属于本单位职责"})
    assert flow.detail(in_time.number)["status"] == "returned"
    clock.set(datetime(2026, 6, 18, 10, 0, tzinfo=TZ))      # Thursday: 3 working days after dispatch
    err = assert_refused_unchanged(flow, "handler", late.number, Action.RETURN, {"reason": "不属于本单位职责"})
    assert err["code"] == "invalid_state"
    # what is left to the department is to reply (or ask for more time)
    flow.do("handler", late.number, "reply", {"content": "已处理", "contacted_citizen": False})
    assert flow.detail(late.number)["status"] == "replied"


def test_approving_the_reply_ends_every_departments_part(api, world, new_ticket):
    cgj, scj = world.dept("cgj").id, world.dept("scj").id
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": cgj, "assist": [scj]})
    api("handler").action(number, "sign")
    api("handler_b").action(number, "sign")
    assert api("handler_b").action(number, "request-extension", {"days": 2, "reason": "需要联合检查"}).status_code == 200
    api("handler").action(number, "reply", {"content": "已处理"})
    assert api("reviewer").action(number, "review-reply", {"approve": True}).status_code == 200
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assert {a["status"] for a in detail["assignments"]} == {"done"}
    assert [e["status"] for e in detail["extension_requests"]] == ["denied"]
    # the assisting department can no longer act on the answered order
    assert api("handler_b").action(number, "reply", {"content": "补充"}).status_code == 409


def test_a_return_is_not_redispatched_to_the_department_that_returned_it(api, world, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    api("handler").action(number, "return", {"reason": "不属于本单位"})
    resp = api("reviewer").action(number, "review-return", {"approve": True, "department": world.dept("cgj").id})
    assert resp.status_code == 422 and "department" in resp.get_json()["error"]["fields"]
    assert api("reviewer").get(f"/tickets/{number}").get_json()["status"] == "returned"


def test_a_pending_extension_ends_with_the_approved_return(api, world, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    api("handler").action(number, "sign")
    assert api("handler").action(number, "request-extension", {"days": 3, "reason": "待协调"}).status_code == 200
    api("handler").action(number, "return", {"reason": "不属于本单位"})
    api("reviewer").action(number, "review-return", {"approve": True, "department": world.dept("scj").id})
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assert [e["status"] for e in detail["extension_requests"]] == ["denied"]
    resp = api("reviewer").action(number, "review-extension", {"approve": True})
    assert resp.status_code == 409  # nothing left to review


def test_urgent_orders_cannot_be_extended_but_can_be_returned_any_time(api, world, new_ticket, clock):
    number = new_ticket(type="help", category="0903", subject="燃气泄漏", content="楼道燃气味")
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    api("handler").action(number, "sign")
    refused = api("handler").action(number, "request-extension", {"days": 1, "reason": "需要时间"})
    assert refused.status_code == 409
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assert detail["assignments"][0]["return_due_at"] is None
    clock.advance(days=5)
    assert api("handler").action(number, "return", {"reason": "应由燃气公司处理"}).status_code == 200


def test_only_the_centre_writes_comments_the_citizen_sees(api, world, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    refused = api("handler").action(number, "comment", {"content": "已联系市民", "internal": False})
    assert refused.status_code == 422 and "internal" in refused.get_json()["error"]["fields"]
    assert api("handler").action(number, "comment", {"content": "已联系市民"}).status_code == 200
    assert api("reviewer").action(number, "comment", {"content": "已转告市民", "internal": False}).status_code == 200
    comments = api("reviewer").get(f"/tickets/{number}").get_json()["comments"]
    assert [c["internal"] for c in comments] == [True, False]
