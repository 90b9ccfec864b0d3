"""May this role take this lifecycle action on this order now, and if not, why?

One pure answer, given a snapshot of the order (no database, no Flask): the operation
asks it before changing anything, the pages ask it to draw their forms, so they never
disagree. `hotline.tickets.rules` takes the snapshot and turns a refusal into words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workflows.states import (DEPARTMENT, TRANSITIONS, Action, AssignmentRole, AssignmentStatus, Role,
                              TicketStatus, roles_for)

#: Actions taken on the actor's department's own assignment rather than on the order.
ON_ASSIGNMENT = frozenset(t.action for t in TRANSITIONS if t.scope == "assignment")


@dataclass(frozen=True)
class AssignmentView:
    """One of the actor's department's live assignments, as the rules need it."""

    id: int
    status: AssignmentStatus
    role: AssignmentRole
    is_top_level: bool
    #: Until when a return is accepted; None where no policy limits it.
    return_due_at: datetime | None = None
    extended_days: int = 0
    has_pending_extension: bool = False


@dataclass(frozen=True)
class OrderView:
    """What the rules read of an order, from where the actor stands."""

    status: TicketStatus
    is_confidential: bool = False
    has_assignments: bool = False
    has_pending_extensions: bool = False
    #: The actor's department's live assignments (not withdrawn, not done), oldest first.
    own: tuple[AssignmentView, ...] = ()
    #: Working days of extension an assignment may get in total; None: orders of this kind are never extended.
    extension_limit: int | None = None
    #: Whether the actor's department has an active sub-unit to send the order to.
    has_sub_units: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why not: a stable `code` (its words live with the application), the HTTP status it maps to."""

    code: str
    status: int
    params: dict = field(default_factory=dict)
    #: The request field the refusal belongs to (a 422 names it), if any.
    field: str | None = None
    #: A step closed for now (a window passed, a request waiting, the allowance used up) that a page
    #: explains, as opposed to a step that simply does not apply here and is left out silently.
    explained: bool = False


def _table(action: Action, source: str, role: Role) -> Refusal | None:
    """The transition table: 403 when the role never may, 409 when not from `source`."""
    if role not in roles_for(action):
        return Refusal("role", 403)
    if not any(t.action == action and t.source == source for t in TRANSITIONS):
        return Refusal("state", 409, {"status": source})
    if not any(t.action == action and t.source == source and role in t.roles for t in TRANSITIONS):
        return Refusal("state", 409, {"status": source})
    return None


def _on_order(action: Action, order: OrderView, role: Role) -> Refusal | None:
    refused = _table(action, order.status, role)
    if refused is not None:
        return refused
    if action == Action.REVIEW_EXTENSION and not order.has_pending_extensions:
        return Refusal("no_extension_waiting", 409)
    if action == Action.GRANT_IDENTITY:
        if not order.is_confidential:
            return Refusal("not_confidential", 409)
        if not order.has_assignments:
            return Refusal("no_department_to_grant", 422, field="department")
    return None


def _on_assignment(action: Action, a: AssignmentView, order: OrderView, role: Role,
                   now: datetime) -> Refusal | None:
    refused = _table(action, a.status, role)
    if refused is not None:
        return refused
    if action == Action.RETURN:
        if a.is_top_level and a.role != AssignmentRole.LEAD:
            return Refusal("only_lead_returns", 409)
        if a.return_due_at is not None and now > a.return_due_at:
            return Refusal("return_window_closed", 409, {"due": a.return_due_at}, explained=True)
    elif action == Action.REQUEST_EXTENSION:
        if not a.is_top_level:
            return Refusal("sub_unit_asks_parent", 409)
        if order.extension_limit is None:
            return Refusal("not_extendable", 409)
        if a.has_pending_extension:
            return Refusal("extension_waiting", 409, explained=True)
        if a.extended_days >= order.extension_limit:
            return Refusal("extension_used_up", 422, {"n": order.extension_limit}, field="days", explained=True)
    elif action == Action.SUB_DISPATCH and not order.has_sub_units:
        return Refusal("no_sub_units", 422, field="department")
    return None


def _decide(action: Action, order: OrderView, role: Role,
            now: datetime) -> tuple[Refusal | None, AssignmentView | None]:
    if action not in ON_ASSIGNMENT:
        return _on_order(action, order, role), None
    if role not in DEPARTMENT:
        return Refusal("role", 403), None
    if not order.own:
        return Refusal("no_open_assignment", 409), None
    refused = None
    for a in order.own:  # the first assignment the step may act on; else why the last one may not
        refused = _on_assignment(action, a, order, role, now)
        if refused is None:
            return None, a
    return refused, None


def refusal(action: Action, order: OrderView, role: Role, now: datetime) -> Refusal | None:
    """None when `role` may take `action` on `order` at `now`; else why not."""
    return _decide(action, order, role, now)[0]


def acting_assignment(action: Action, order: OrderView, role: Role, now: datetime) -> AssignmentView | None:
    """The actor's own assignment a department step acts on (None: refused, or not such a step)."""
    return _decide(action, order, role, now)[1]


def available(order: OrderView, role: Role, now: datetime) -> list[Action]:
    """Every action `role` may take on `order` now, in the table's order."""
    return [a for a in Action if a != Action.REGISTER and refusal(a, order, role, now) is None]
