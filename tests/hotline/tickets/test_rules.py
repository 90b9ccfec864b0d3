"""`rules.why_not` and the operation never disagree; the pages draw exactly what it lets through.

For orders in many states and every user of the world: each action `available_actions`
lists succeeds through `perform` (with valid fields), and each one `why_not` refuses makes
`perform` raise that very error, in the same words.
"""
from __future__ import annotations

import pytest

from hotline.auth.models import User
from hotline.core.errors import NotFound, OperationError
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.tickets import rules
from hotline.tickets.operations.actions import HANDLERS, perform
from hotline.tickets.operations import get_visible_ticket
from tests.conftest import ROLE_USERS, SAMPLE_TICKET
from tests.hotline.inbox.conftest import csrf_token, post_action
from workflows.states import Action


def _order(api, world, *steps, **ticket) -> str:
    """An order taken through `steps`: (user, action, body) each, through the API."""
    resp = api("call_taker").post("/tickets", json={**SAMPLE_TICKET, **ticket})
    number = resp.get_json()["number"]
    for user, action, body in steps:
        resp = api(user).action(number, action, body)
        assert resp.status_code == 200, (user, action, resp.get_json())
    return number


def _orders(api, world) -> list[str]:
    cgj, scj, dc, s1 = (world.dept(k).id for k in ("cgj", "scj", "dc", "dc_s1"))
    dispatch = ("call_taker", "dispatch", {"department": cgj, "assist": [scj]})
    sign, sign_b = ("handler", "sign", {}), ("handler_b", "sign", {})
    extend = ("handler", "request-extension", {"days": 3, "reason": "需协调"})
    reply = ("handler", "reply", {"content": "已处理"})
    return [
        _order(api, world),
        _order(api, world, dispatch),
        _order(api, world, dispatch, sign, sign_b),
        _order(api, world, dispatch, sign, extend, is_confidential=True),
        _order(api, world, dispatch, ("handler", "return", {"reason": "不属于"})),
        _order(api, world, dispatch, sign, reply),
        _order(api, world, dispatch, sign, reply, ("reviewer", "review-reply", {"approve": True})),
        _order(api, world, ("call_taker", "answer", {"reply": "已答复"}),
               ("reviewer", "visit", {"satisfaction": "satisfied", "resolved": True})),
        _order(api, world, ("call_taker", "dispatch", {"department": dc}), ("district_admin", "sign", {}),
               ("district_admin", "sub-dispatch", {"department": s1}), ("street_handler", "sign", {})),
        _order(api, world, dispatch, sign, ("handler", "request-extension", {"days": 10, "reason": "全部"}),
               ("reviewer", "review-extension", {"approve": True})),
        _order(api, world, ("call_taker", "dispatch", {"department": cgj}), sign,
               type="help", category="0903", subject="燃气泄漏", content="楼道燃气味"),
        _order(api, world, ("reviewer", "cancel", {"reason": "市民撤回"})),
    ]


def _body(action: Action, ticket, user: User, master: str) -> dict:
    """Valid fields for `action` on `ticket` as `user`."""
    if action == Action.SUB_DISPATCH:
        own, holding = user.department, {a.department_id for a in ticket.assignments}
        sub = next((d for d in db.session.query(Department).filter(Department.path.startswith(own.path),
                                                                   Department.id != own.id)
                    if d.id not in holding), None) if own else None
        return {"department": sub.id if sub else 0, "note": "请核查"}
    if action == Action.GRANT_IDENTITY:
        return {"department": ticket.assignments[0].department_id if ticket.assignments else 0, "reason": "核实"}
    return {
        Action.ANSWER: {"reply": "已答复"}, Action.DISPATCH: {"department": _cgj()},
        Action.SIGN: {}, Action.RETURN: {"reason": "不属于"}, Action.REQUEST_EXTENSION: {"days": 1, "reason": "需时间"},
        Action.REVIEW_EXTENSION: {"approve": True}, Action.REPLY: {"content": "已处理"},
        Action.PROGRESS: {"text": "正在处理"},
        Action.REVIEW_RETURN: {"approve": True}, Action.REVIEW_REPLY: {"approve": True},
        Action.VISIT: {"satisfaction": "satisfied", "resolved": True}, Action.REOPEN: {"reason": "依旧"},
        Action.URGE: {}, Action.SUPERVISE: {}, Action.MERGE: {"into": master},
        Action.CANCEL: {"reason": "重复"}, Action.COMMENT: {"content": "备注"},
    }[action]


def _cgj() -> int:
    return db.session.query(Department).filter(Department.code == "CGJ").one().id


def _same(err: OperationError, expected: OperationError) -> bool:
    return (type(err), err.status, err.message, err.fields) == \
        (type(expected), expected.status, expected.message, expected.fields)


def test_the_rule_and_the_operation_never_disagree(app, api, world, clock):
    numbers = _orders(api, world)
    master = _order(api, world)
    late = clock.advance(days=6)  # past the 2-working-day return window of every order above
    seen = {"allowed": 0, "refused": 0}
    with app.test_request_context("/?lang=en"):
        for number in numbers:
            for key in ROLE_USERS:
                for action in HANDLERS:
                    user = db.session.get(User, world.users[key].id)
                    try:
                        ticket = get_visible_ticket(user, number, for_update=True)
                    except NotFound:
                        break
                    listed = action in rules.available_actions(ticket, user, late)
                    refused = rules.why_not(ticket, user, action, late)
                    assert listed == (refused is None), (number, key, action)
                    try:
                        perform(ticket, action.value, user, _body(action, ticket, user, master), at=late)
                    except OperationError as err:
                        assert refused is not None, (number, key, action, err.status, err.message, err.fields)
                        assert _same(err, refused.error), (number, key, action, err.message, refused.reason)
                        seen["refused"] += 1
                    else:
                        assert refused is None, (number, key, action, refused.reason)
                        seen["allowed"] += 1
                    finally:
                        db.session.rollback()
    assert seen["allowed"] > 40 and seen["refused"] > 400, seen


def test_a_refusal_reads_as_the_operation_always_said_it(app, api, world, clock):
    number = _order(api, world, ("call_taker", "dispatch", {"department": world.dept("cgj").id}),
                    ("handler", "sign", {}))
    clock.advance(days=6)
    with app.test_request_context("/?lang=en"):
        user = db.session.get(User, world.users["handler"].id)
        ticket = get_visible_ticket(user, number)
        refused = rules.why_not(ticket, user, Action.RETURN)
        assert refused.reason.startswith("Returns were accepted until ") and refused.explained
        assert refused.error.status == 409 and refused.error.message == refused.reason
        assert rules.why_not(ticket, user, Action.REPLY) is None
        assert rules.why_not(ticket, user, Action.DISPATCH).reason == "Your role (Department handler) may not do “Dispatch”."
    with app.test_request_context("/?lang=zh"):
        user = db.session.get(User, world.users["handler"].id)
        ticket = get_visible_ticket(user, number)
        assert rules.why_not(ticket, user, Action.RETURN).reason.startswith("退单期限已于 ")


@pytest.mark.parametrize("user", ["handler", "cgj_admin"])
def test_both_pages_draw_what_the_rule_lets_through(app, api, world, user):
    """The inbox on /m explains a step closed for now in the rule's words; the order page draws the same steps."""
    number = _order(api, world, ("call_taker", "dispatch", {"department": world.dept("cgj").id}),
                    ("handler", "sign", {}), ("handler", "request-extension", {"days": 2, "reason": "需时间"}))
    client = app.test_client()
    client.get("/login?lang=en")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": user, "password": "password-123",
                                       "csrf_token": token}).status_code == 302
    notice = "An extension request is already waiting for the centre&#39;s review."
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert notice in html
    assert 'id="act-reply"' in html and 'id="act-request-extension"' not in html
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-reply"' in page and 'id="action-request-extension"' not in page
    refused = post_action(client, number, "request-extension", {"days": "1", "reason": "再延"})
    assert refused.status_code == 409 and notice in refused.get_data(as_text=True)
