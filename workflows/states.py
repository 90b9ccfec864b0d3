"""States of a work order and the transition table: who may do what from where.

Every lifecycle action is checked here, once, by `check()`; operations call it before
they change anything, so a wrong role or a wrong state never half-applies.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.enums import TitledEnum


class Role(TitledEnum):
    CALL_TAKER = "call_taker", "话务员", "Call taker"
    EXPERT = "expert", "专家坐席", "Expert agent"
    SUPERVISOR = "supervisor", "班长", "Supervisor"
    CENTRE_REVIEWER = "centre_reviewer", "中心审核员", "Centre reviewer"
    DEPARTMENT_HANDLER = "department_handler", "承办人", "Department handler"
    DEPARTMENT_ADMIN = "department_admin", "部门管理员", "Department admin"
    MANAGER = "manager", "领导", "Manager"
    ADMIN = "admin", "管理员", "Administrator"


#: Roles that take cases at the centre's desk.
DESK = frozenset({Role.CALL_TAKER, Role.EXPERT, Role.SUPERVISOR, Role.CENTRE_REVIEWER})
#: Roles that review and supervise at the centre.
REVIEW = frozenset({Role.SUPERVISOR, Role.CENTRE_REVIEWER})
#: Roles of department staff; they act on their own department's assignment.
DEPARTMENT = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_ADMIN})
#: Roles that may register a case (the portal and integrations act as a desk-role service user).
REGISTRARS = DESK | {Role.ADMIN}
#: Roles of the centre, who see every order.
CENTRE = frozenset(set(Role) - DEPARTMENT)
STAFF = frozenset(Role)


class TicketStatus(TitledEnum):
    REGISTERED = "registered", "已受理", "Registered"
    AWAITING_SIGN = "awaiting_sign", "待签收", "Awaiting sign-for"
    RETURNED = "returned", "退单待审", "Returned, awaiting review"
    IN_PROGRESS = "in_progress", "办理中", "In progress"
    REPLIED = "replied", "已回复待审核", "Replied, awaiting review"
    AWAITING_VISIT = "awaiting_visit", "待回访", "Awaiting return visit"
    CLOSED = "closed", "已办结", "Closed"
    MERGED = "merged", "已并单", "Merged"
    CANCELLED = "cancelled", "已撤销", "Cancelled"


FINAL = frozenset({TicketStatus.CLOSED, TicketStatus.MERGED, TicketStatus.CANCELLED})
OPEN = frozenset(set(TicketStatus) - FINAL)
#: States in which a department is working on the order against a deadline.
WITH_DEPARTMENT = frozenset({TicketStatus.AWAITING_SIGN, TicketStatus.IN_PROGRESS, TicketStatus.RETURNED})


class AssignmentStatus(TitledEnum):
    AWAITING_SIGN = "awaiting_sign", "待签收", "Awaiting sign-for"
    IN_PROGRESS = "in_progress", "办理中", "In progress"
    RETURNED = "returned", "已退单", "Returned"
    REPLIED = "replied", "已回复", "Replied"
    DONE = "done", "已完成", "Done"
    WITHDRAWN = "withdrawn", "已撤回", "Withdrawn"


ASSIGNMENT_ACTIVE = frozenset({AssignmentStatus.AWAITING_SIGN, AssignmentStatus.IN_PROGRESS})
ASSIGNMENT_LIVE = frozenset(set(AssignmentStatus) - {AssignmentStatus.WITHDRAWN, AssignmentStatus.DONE})


class AssignmentRole(TitledEnum):
    LEAD = "lead", "主办", "Lead"
    ASSIST = "assist", "协办", "Assisting"


class Action(TitledEnum):
    ANSWER = "answer", "直接答复", "Answer directly"
    DISPATCH = "dispatch", "派单", "Dispatch"
    SIGN = "sign", "签收", "Sign for"
    RETURN = "return", "退单", "Return"
    REVIEW_RETURN = "review-return", "审核退单", "Review return"
    SUB_DISPATCH = "sub-dispatch", "二级派单", "Sub-dispatch"
    REQUEST_EXTENSION = "request-extension", "申请延期", "Request extension"
    REVIEW_EXTENSION = "review-extension", "审核延期", "Review extension"
    REPLY = "reply", "回复", "Reply"
    #: An interim note on how the handling is going (过程回复): the clock runs on, the order stays where it is.
    PROGRESS = "progress", "过程回复", "Progress update"
    REVIEW_REPLY = "review-reply", "审核回复", "Review reply"
    VISIT = "visit", "回访", "Return visit"
    REOPEN = "reopen", "重办", "Reopen"
    URGE = "urge", "催办", "Urge"
    SUPERVISE = "supervise", "督办", "Supervise"
    MERGE = "merge", "并单", "Merge"
    CANCEL = "cancel", "撤销", "Cancel"
    COMMENT = "comment", "备注", "Comment"
    GRANT_IDENTITY = "grant-identity", "授权查看身份", "Grant identity"
    REGISTER = "register", "受理", "Register"


#: Sentinel target: the order's status follows its lead assignment (see `status_for_lead`).
FOLLOW_LEAD = "follow-lead"


@dataclass(frozen=True)
class Transition:
    """One edge: from `source`, `roles` may do `action` (with `outcome`), reaching `target`.

    scope "ticket": `source`/`target` are TicketStatus values.
    scope "assignment": they are AssignmentStatus values of the actor's department's
    assignment; the order's status then follows its lead assignment.
    """

    action: Action
    source: str
    roles: frozenset[Role]
    target: str
    scope: str = "ticket"
    outcome: str | None = None


T, A = TicketStatus, AssignmentStatus
_OPEN_WORK = (T.AWAITING_SIGN, T.IN_PROGRESS, T.RETURNED, T.REPLIED)


def _rows() -> list[Transition]:
    rows = [
        Transition(Action.ANSWER, T.REGISTERED, DESK, T.AWAITING_VISIT),
        Transition(Action.DISPATCH, T.REGISTERED, DESK, T.AWAITING_SIGN),
        Transition(Action.REVIEW_RETURN, T.RETURNED, REVIEW, T.AWAITING_SIGN, outcome="redispatch"),
        Transition(Action.REVIEW_RETURN, T.RETURNED, REVIEW, T.REGISTERED, outcome="withdraw"),
        Transition(Action.REVIEW_RETURN, T.RETURNED, REVIEW, FOLLOW_LEAD, outcome="refuse"),
        Transition(Action.REVIEW_REPLY, T.REPLIED, REVIEW, T.AWAITING_VISIT, outcome="approve"),
        Transition(Action.REVIEW_REPLY, T.REPLIED, REVIEW, T.IN_PROGRESS, outcome="reject"),
        Transition(Action.VISIT, T.AWAITING_VISIT, REVIEW, T.CLOSED),
        Transition(Action.REOPEN, T.CLOSED, REVIEW, T.AWAITING_SIGN, outcome="redispatch"),
        Transition(Action.REOPEN, T.CLOSED, REVIEW, T.REGISTERED, outcome="register"),
        Transition(Action.CANCEL, T.REGISTERED, DESK, T.CANCELLED),
        # department-side steps on the actor's own assignment
        Transition(Action.SIGN, A.AWAITING_SIGN, DEPARTMENT, A.IN_PROGRESS, scope="assignment"),
        Transition(Action.RETURN, A.AWAITING_SIGN, DEPARTMENT, A.RETURNED, scope="assignment"),
        Transition(Action.RETURN, A.IN_PROGRESS, DEPARTMENT, A.RETURNED, scope="assignment"),
        Transition(Action.SUB_DISPATCH, A.IN_PROGRESS, frozenset({Role.DEPARTMENT_ADMIN}), A.IN_PROGRESS,
                   scope="assignment"),
        Transition(Action.REQUEST_EXTENSION, A.IN_PROGRESS, DEPARTMENT, A.IN_PROGRESS, scope="assignment"),
        Transition(Action.REPLY, A.IN_PROGRESS, DEPARTMENT, A.REPLIED, scope="assignment"),
        # as often as the department likes, on an assignment it signed for and has not yet answered
        Transition(Action.PROGRESS, A.IN_PROGRESS, DEPARTMENT, A.IN_PROGRESS, scope="assignment"),
    ]
    for source in _OPEN_WORK[:2]:
        rows.append(Transition(Action.URGE, source, REVIEW, source))
    for source in _OPEN_WORK:
        rows.append(Transition(Action.SUPERVISE, source, REVIEW, source))
        rows.append(Transition(Action.REVIEW_EXTENSION, source, REVIEW, source))
    for source in (T.REGISTERED, *_OPEN_WORK):
        rows.append(Transition(Action.MERGE, source, REVIEW, T.MERGED))
    for source in (*_OPEN_WORK, T.AWAITING_VISIT):
        rows.append(Transition(Action.CANCEL, source, REVIEW, T.CANCELLED))
    for source in TicketStatus:
        rows.append(Transition(Action.COMMENT, source, STAFF, source))
        rows.append(Transition(Action.GRANT_IDENTITY, source, REVIEW, source))
    return rows


TRANSITIONS: tuple[Transition, ...] = tuple(_rows())


class TransitionError(Exception):
    """An action refused by the table; `status` is the HTTP status it maps to."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def roles_for(action: Action) -> frozenset[Role]:
    """Every role that may ever take `action`."""
    return frozenset(r for t in TRANSITIONS if t.action == action for r in t.roles)


def check(action: Action, source: str, role: Role, outcome: str | None = None) -> Transition:
    """The transition for (source, action, role, outcome), or TransitionError (403 / 409)."""
    if role not in roles_for(action):
        raise TransitionError(
            "forbidden", f"role {role.value} may not {action.value}", 403)
    candidates = [t for t in TRANSITIONS if t.action == action and t.source == source
                  and (outcome is None or t.outcome is None or t.outcome == outcome)]
    if not candidates:
        raise TransitionError(
            "invalid_state", f"cannot {action.value} an order in state {source}", 409)
    allowed = [t for t in candidates if role in t.roles]
    if not allowed:
        raise TransitionError(
            "invalid_state", f"role {role.value} may not {action.value} in state {source}", 409)
    return allowed[0]


def status_for_lead(lead: AssignmentStatus) -> TicketStatus:
    """The order's status while its lead assignment is in `lead`."""
    return {
        A.AWAITING_SIGN: T.AWAITING_SIGN,
        A.IN_PROGRESS: T.IN_PROGRESS,
        A.RETURNED: T.RETURNED,
        A.REPLIED: T.REPLIED,
        A.DONE: T.AWAITING_VISIT,
        A.WITHDRAWN: T.REGISTERED,
    }[lead]


def allowed_actions(status: TicketStatus, role: Role, assignment_status: AssignmentStatus | None = None) -> list[Action]:
    """Actions `role` may take now: what the pages draw as buttons (the server still checks)."""
    out: list[Action] = []
    for t in TRANSITIONS:
        if role not in t.roles or t.action in out:
            continue
        if t.scope == "ticket" and t.source == status:
            out.append(t.action)
        elif t.scope == "assignment" and assignment_status is not None and t.source == assignment_status:
            out.append(t.action)
    return out
