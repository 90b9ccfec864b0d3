"""The lifecycle steps of API.md's action table; each is let through by `rules.why_not` first."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, NotFound
from hotline.core.fields import Fields
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import permissions, rules
from hotline.tickets.models import (Assignment, Comment, ExtensionRequest, IdentityGrant, Reply,
                                    ReturnVisit, Ticket)
from hotline.tickets.operations import get_visible_ticket, record_event
from hotline.tickets.operations.progress import mark_progress, record_progress
from workflows import states
from workflows.states import (ASSIGNMENT_ACTIVE, ASSIGNMENT_LIVE, DEPARTMENT, FOLLOW_LEAD, Action,
                              AssignmentRole, AssignmentStatus, TicketStatus, Transition)
from workflows.vocabulary import ExtensionStatus, ReplyStatus, Satisfaction

Handler = Callable[[Ticket, User, Fields, datetime], None]
#: A sub-unit with one of these already has the order; one that returned it may be given it again.
SUB_UNIT_BUSY = frozenset({AssignmentStatus.AWAITING_SIGN, AssignmentStatus.IN_PROGRESS, AssignmentStatus.REPLIED})
HANDLERS: dict[Action, Handler] = {Action.PROGRESS: record_progress}


title = rules.title


def perform(ticket: Ticket, action_name: str, actor: User, data: dict | None,
            *, at: datetime | None = None) -> Ticket:
    """Take one lifecycle step on `ticket` as `actor`; raises before changing anything."""
    action = Action.parse(action_name)
    if action is None or action not in HANDLERS:
        raise NotFound(_("There is no action called %(name)s.", name=action_name))
    at = at or utcnow()
    refused = rules.why_not(ticket, actor, action, at)
    if refused is not None:
        raise refused.error
    HANDLERS[action](ticket, actor, Fields(data if data is not None else {}), at)
    db.session.flush()
    return ticket


def handles(action: Action):
    def register(fn: Handler) -> Handler:
        HANDLERS[action] = fn
        return fn
    return register


# -- checks ----------------------------------------------------------------------------
# `perform` has asked `rules.why_not` before any step runs: a step reads its transition from
# the table (for its target) and checks only what depends on the fields it was sent.

def _transition(action: Action, ticket: Ticket, actor: User, outcome: str | None = None) -> Transition:
    return states.check(action, ticket.status, actor.role, outcome)


def _own_assignment(action: Action, ticket: Ticket, actor: User, at: datetime) -> Assignment:
    """The actor's department's live assignment the step acts on."""
    return rules.acting_assignment(ticket, actor, action, at)


def _department(f: Fields, name: str, *, required: bool) -> Department | None:
    dept_id = f.integer(name, required=required)
    if dept_id is None:
        return None
    dept = db.session.get(Department, dept_id)
    if dept is None or not dept.is_active:
        f.error(name, _("No active department has the id %(id)s.", id=dept_id))
        return None
    return dept


def _set_status(ticket: Ticket, target: str) -> tuple[str, str]:
    before = ticket.status
    if target == FOLLOW_LEAD:
        lead = ticket.lead
        ticket.status = states.status_for_lead(lead.status) if lead else TicketStatus.REGISTERED
    else:
        ticket.status = TicketStatus(target)
    return before, ticket.status


def _follow_lead(ticket: Ticket, assignment: Assignment) -> tuple[str, str]:
    """After an assignment step: the order follows its top-level lead."""
    if assignment.parent_id is None and assignment.role == AssignmentRole.LEAD:
        return _set_status(ticket, FOLLOW_LEAD)
    return ticket.status, ticket.status


def _new_assignment(ticket: Ticket, dept: Department, role: AssignmentRole, at: datetime, actor: User,
                    *, parent: Assignment | None = None, note: str | None = None) -> Assignment:
    kind = (ticket.urgency, ticket.type)
    assignment = Assignment(
        ticket=ticket, ticket_created_at=ticket.created_at, department=dept, role=role,
        status=AssignmentStatus.AWAITING_SIGN,
        parent=parent, dispatched_at=at, dispatched_by_id=actor.id, note=note,
        sign_due_at=sla.due(at, "sign", *kind),
        reply_due_at=parent.reply_due_at if parent else sla.due(at, "reply", *kind),
        return_due_at=_return_due(at, kind))
    db.session.add(assignment)
    return assignment


def _return_due(at: datetime, kind: tuple) -> datetime | None:
    """Until when a return is accepted; None where no policy limits it (urgent, utilities)."""
    rule = sla.rule_or_none("return_window", *kind)
    return None if rule is None else sla.due_with(at, rule)


def _start_clock(ticket: Ticket, lead: Assignment, at: datetime) -> None:
    ticket.lead_department = lead.department  # lead.department_id is unset until the flush
    ticket.sla_started_at = at
    ticket.due_at = lead.reply_due_at


def _close_stale_extensions(ticket: Ticket, actor: User, at: datetime) -> None:
    """Extension requests still waiting whose assignment no longer works on the order are closed."""
    for request in db.session.scalars(sa.select(ExtensionRequest).where(
            ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.status == ExtensionStatus.PENDING)):
        if request.assignment.status not in ASSIGNMENT_ACTIVE:
            request.status, request.decided_by_id, request.decided_at = ExtensionStatus.DENIED, actor.id, at


def _withdraw_all(ticket: Ticket, at: datetime, root: Assignment | None = None) -> None:
    """Withdraw every live assignment, or only `root` and its sub-dispatches."""
    ids = {root.id} if root else None
    for a in ticket.assignments:  # ordered by id: parents come before their children
        if ids is not None and a.id not in ids and a.parent_id not in ids:
            continue
        if ids is not None:
            ids.add(a.id)
        if a.status in ASSIGNMENT_LIVE:
            a.status, a.withdrawn_at = AssignmentStatus.WITHDRAWN, at


def _event(ticket, actor, action, at, change=None, **kw):
    """Record a step; one that does not move the order records its state as from and to."""
    change = change or (ticket.status, ticket.status)
    return record_event(ticket, actor, action, at=at, from_status=change[0], to_status=change[1], **kw)


# -- the centre's steps ------------------------------------------------------------------

@handles(Action.ANSWER)
def answer(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    tr = _transition(Action.ANSWER, ticket, actor)
    reply = f.text("reply", required=True, max_len=20000)
    f.done()
    ticket.answer, ticket.replied_at = reply, at
    ticket.sla_started_at, ticket.due_at = at, sla.due(at, "visit", ticket.urgency, ticket.type)
    _event(ticket, actor, Action.ANSWER, at, _set_status(ticket, tr.target), note=reply)


@handles(Action.DISPATCH)
def dispatch(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    tr = _transition(Action.DISPATCH, ticket, actor)
    lead_dept = _department(f, "department", required=True)
    assist_ids = f.id_list("assist")
    note = f.text("note", max_len=2000)
    assists = []
    for dept_id in dict.fromkeys(assist_ids):
        dept = db.session.get(Department, dept_id)
        if dept is None or not dept.is_active:
            f.error("assist", _("No active department has the id %(id)s.", id=dept_id))
        elif lead_dept is not None and dept.id == lead_dept.id:
            f.error("assist", _("The lead department cannot also assist."))
        else:
            assists.append(dept)
    f.done()
    lead = _new_assignment(ticket, lead_dept, AssignmentRole.LEAD, at, actor, note=note)
    for dept in assists:
        _new_assignment(ticket, dept, AssignmentRole.ASSIST, at, actor, note=note)
    _start_clock(ticket, lead, at)
    _event(ticket, actor, Action.DISPATCH, at, _set_status(ticket, tr.target), note=note,
           data={"department": lead_dept.id, "assist": [d.id for d in assists]})


@handles(Action.REVIEW_RETURN)
def review_return(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    approve = f.boolean("approve", required=True)
    new_dept = _department(f, "department", required=False)
    note = f.text("note", max_len=2000)
    if approve is False and not note:
        f.error("note", _("Say why the return is refused; the department will read it."))
    lead = ticket.lead
    if approve and new_dept is not None and lead is not None and new_dept.id == lead.department_id:
        f.error("department", _("Choose another department: this one returned the order."))
    f.done()
    outcome = "refuse" if not approve else ("redispatch" if new_dept else "withdraw")
    tr = _transition(Action.REVIEW_RETURN, ticket, actor, outcome)
    if outcome == "refuse":
        lead.status = AssignmentStatus.AWAITING_SIGN if lead.signed_at is None else AssignmentStatus.IN_PROGRESS
        lead.sent_back_at = at
    else:
        _withdraw_all(ticket, at, root=lead if new_dept else None)
        _close_stale_extensions(ticket, actor, at)
        if new_dept:
            _start_clock(ticket, _new_assignment(ticket, new_dept, AssignmentRole.LEAD, at, actor, note=note), at)
        else:
            ticket.lead_department = ticket.sla_started_at = ticket.due_at = None
    _event(ticket, actor, Action.REVIEW_RETURN, at, _set_status(ticket, tr.target), note=note,
           data={"approve": approve, "outcome": outcome, "department": new_dept.id if new_dept else None})


@handles(Action.REVIEW_EXTENSION)
def review_extension(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    approve = f.boolean("approve", required=True)
    note = f.text("note", max_len=2000)
    wanted = f.integer("assignment")
    f.done()
    query = sa.select(ExtensionRequest).where(
        ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.status == ExtensionStatus.PENDING)
    if wanted is not None:
        query = query.where(ExtensionRequest.assignment_id == wanted)
    request = db.session.scalars(query.order_by(ExtensionRequest.id)).first()
    if request is None:
        raise Conflict(_("There is no extension request waiting for review."))
    assignment = request.assignment
    request.decided_by_id, request.decided_at, request.decision_note = actor.id, at, note
    if approve:
        old_due = assignment.reply_due_at
        new_due = sla.add_working_days(old_due, request.days)
        request.status, request.new_due_at = ExtensionStatus.APPROVED, new_due
        assignment.reply_due_at = new_due
        assignment.extended_days += request.days
        for child in ticket.assignments:
            if child.parent_id == assignment.id and child.reply_due_at == old_due:
                child.reply_due_at = new_due
        if ticket.lead is assignment:
            ticket.due_at = new_due
    else:
        request.status = ExtensionStatus.DENIED
    _event(ticket, actor, Action.REVIEW_EXTENSION, at, note=note, assignment=assignment,
           data={"approve": approve, "days": request.days,
                 "old_due_at": request.old_due_at.isoformat() if request.old_due_at else None,
                 "new_due_at": request.new_due_at.isoformat() if request.new_due_at else None})


@handles(Action.REVIEW_REPLY)
def review_reply(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    approve = f.boolean("approve", required=True)
    note = f.text("note", max_len=2000)
    if approve is False and not note:
        f.error("note", _("Say what is missing from the reply; the department will read it."))
    f.done()
    tr = _transition(Action.REVIEW_REPLY, ticket, actor, "approve" if approve else "reject")
    lead = ticket.lead
    pending = db.session.scalars(sa.select(Reply).where(
        Reply.ticket_id == ticket.id, Reply.status == ReplyStatus.PENDING)).all()
    for reply in pending:
        if approve or reply.assignment_id == lead.id:
            reply.status = ReplyStatus.APPROVED if approve else ReplyStatus.REJECTED
            reply.reviewed_by_id, reply.reviewed_at, reply.review_note = actor.id, at, note
    closed: list[int] = []
    if approve:
        # the order's answer is given: every department's part in it ends here
        for a in ticket.assignments:
            if a.status == AssignmentStatus.REPLIED or a.status in ASSIGNMENT_ACTIVE:
                a.status = AssignmentStatus.DONE
                closed.append(a.id)
        _close_stale_extensions(ticket, actor, at)
        ticket.sla_started_at, ticket.due_at = at, sla.due(at, "visit", ticket.urgency, ticket.type)
    else:
        lead.status, lead.replied_at, ticket.replied_at = AssignmentStatus.IN_PROGRESS, None, None
        lead.sent_back_at = at
        ticket.sla_started_at, ticket.due_at = lead.dispatched_at, lead.reply_due_at
    _event(ticket, actor, Action.REVIEW_REPLY, at, _set_status(ticket, tr.target), note=note,
           assignment=lead, data={"approve": approve, "closed_assignments": closed})


@handles(Action.VISIT)
def visit(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    tr = _transition(Action.VISIT, ticket, actor)
    satisfaction = f.choice("satisfaction", Satisfaction, required=True)
    resolved = f.boolean("resolved", required=satisfaction not in (None, Satisfaction.UNREACHABLE))
    note = f.text("note", max_len=4000)
    f.done()
    db.session.add(ReturnVisit(ticket_id=ticket.id, satisfaction=satisfaction, is_resolved=resolved,
                               note=note, visited_by_id=actor.id, visited_at=at,
                               department_id=ticket.lead_department_id))
    ticket.satisfaction, ticket.is_resolved, ticket.closed_at = satisfaction, resolved, at
    _event(ticket, actor, Action.VISIT, at, _set_status(ticket, tr.target), note=note,
           data={"satisfaction": satisfaction.value, "resolved": resolved})


@handles(Action.REOPEN)
def reopen(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    reason = f.text("reason", required=True, max_len=4000)
    dept = _department(f, "department", required=False)
    f.done()
    previous = [a for a in ticket.assignments if a.role == AssignmentRole.LEAD and a.parent_id is None
                and a.status == AssignmentStatus.DONE]
    answered_by = previous[-1].department_id if previous else None  # the reopen counts against them
    if dept is None:
        dept = previous[-1].department if previous else None
    tr = _transition(Action.REOPEN, ticket, actor, "redispatch" if dept else "register")
    ticket.reopen_count += 1
    ticket.closed_at = ticket.satisfaction = ticket.is_resolved = ticket.replied_at = None
    if dept:
        _start_clock(ticket, _new_assignment(ticket, dept, AssignmentRole.LEAD, at, actor, note=reason), at)
    else:
        ticket.lead_department = ticket.sla_started_at = ticket.due_at = None
    _event(ticket, actor, Action.REOPEN, at, _set_status(ticket, tr.target), note=reason,
           data={"department": dept.id if dept else None, "previous_department": answered_by})


@handles(Action.URGE)
def urge(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    note = f.text("note", max_len=2000)
    f.done()
    ticket.urge_count += 1
    for a in ticket.assignments:
        if a.parent_id is None and a.status in ASSIGNMENT_ACTIVE:
            a.urge_count += 1
    _event(ticket, actor, Action.URGE, at, note=note)


@handles(Action.SUPERVISE)
def supervise(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    note = f.text("note", max_len=2000)
    f.done()
    ticket.supervision_level += 1
    _event(ticket, actor, Action.SUPERVISE, at, note=note, data={"level": ticket.supervision_level})


@handles(Action.MERGE)
def merge(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    tr = _transition(Action.MERGE, ticket, actor)
    number = f.text("into", required=True, max_len=20)
    master = None
    if number:
        try:
            master = get_visible_ticket(actor, number, for_update=True)
        except NotFound:
            f.error("into", _("No work order %(number)s.", number=number))
        else:
            if master.id == ticket.id:
                f.error("into", _("An order cannot be merged into itself."))
            elif master.status in (TicketStatus.MERGED, TicketStatus.CANCELLED):
                f.error("into", _("Order %(number)s is %(status)s; merge into its master instead.",
                                  number=number, status=title(master.status)))
    f.done()
    _withdraw_all(ticket, at)
    _close_stale_extensions(ticket, actor, at)
    ticket.merged_into_id, ticket.closed_at = master.id, at
    _event(ticket, actor, Action.MERGE, at, _set_status(ticket, tr.target), data={"into": master.number})
    _event(master, actor, "merged-in", at, data={"from": ticket.number})


@handles(Action.CANCEL)
def cancel(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    tr = _transition(Action.CANCEL, ticket, actor)
    reason = f.text("reason", required=True, max_len=4000)
    f.done()
    _withdraw_all(ticket, at)
    _close_stale_extensions(ticket, actor, at)
    ticket.closed_at = at
    _event(ticket, actor, Action.CANCEL, at, _set_status(ticket, tr.target), note=reason)


@handles(Action.COMMENT)
def comment(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    content = f.text("content", required=True, max_len=10000)
    internal = f.boolean("internal", default=True)
    if internal is False and actor.role in DEPARTMENT:
        # the centre speaks to citizens; a department's word reaches them through its reviewed reply
        f.error("internal", _("Only the centre writes comments the citizen sees; a department's comments stay internal."))
    f.done()
    row = Comment(ticket_id=ticket.id, content=content, is_internal=internal, author_id=actor.id, created_at=at)
    db.session.add(row)
    _event(ticket, actor, Action.COMMENT, at, note=content, data={"internal": internal})


@handles(Action.GRANT_IDENTITY)
def grant_identity(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    dept = _department(f, "department", required=True)
    reason = f.text("reason", required=True, max_len=2000)
    if dept is not None and not any(a.department_id == dept.id for a in ticket.assignments):
        f.error("department", _("That department has no assignment on this order."))
    f.done()
    exists = db.session.scalar(sa.select(IdentityGrant).where(
        IdentityGrant.ticket_id == ticket.id, IdentityGrant.department_id == dept.id))
    if exists is None:
        db.session.add(IdentityGrant(ticket_id=ticket.id, department_id=dept.id, granted_by_id=actor.id,
                                     granted_at=at, reason=reason))
        permissions.forget_identity_grants()
    _event(ticket, actor, Action.GRANT_IDENTITY, at, note=reason, data={"department": dept.id}, internal=True)


# -- the department's steps ----------------------------------------------------------------

@handles(Action.SIGN)
def sign(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    a = _own_assignment(Action.SIGN, ticket, actor, at)
    f.done()
    a.status, a.signed_at, a.signed_by_id = AssignmentStatus.IN_PROGRESS, at, actor.id
    mark_progress(a, at)
    _event(ticket, actor, Action.SIGN, at, _follow_lead(ticket, a), assignment=a)


@handles(Action.RETURN)
def return_(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    a = _own_assignment(Action.RETURN, ticket, actor, at)
    reason = f.text("reason", required=True, max_len=4000)
    f.done()
    a.status, a.return_reason = AssignmentStatus.RETURNED, reason
    mark_progress(a, at)
    _event(ticket, actor, Action.RETURN, at, _follow_lead(ticket, a), note=reason, assignment=a,
           data={"to": "parent" if a.parent_id else "centre"})


@handles(Action.SUB_DISPATCH)
def sub_dispatch(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    a = _own_assignment(Action.SUB_DISPATCH, ticket, actor, at)
    dept = _department(f, "department", required=True)
    note = f.text("note", max_len=2000)
    if dept is not None:
        if dept.id == a.department_id or not dept.path.startswith(a.department.path):
            f.error("department", _("Choose one of your department's own sub-units."))
        elif any(c.parent_id == a.id and c.department_id == dept.id and c.status in SUB_UNIT_BUSY
                 for c in ticket.assignments):
            f.error("department", _("That sub-unit already has this order."))
    f.done()
    child = _new_assignment(ticket, dept, a.role, at, actor, parent=a, note=note)
    db.session.flush()
    _event(ticket, actor, Action.SUB_DISPATCH, at, note=note, assignment=child,
           data={"department": dept.id, "parent": a.department_id})


@handles(Action.REQUEST_EXTENSION)
def request_extension(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    a = _own_assignment(Action.REQUEST_EXTENSION, ticket, actor, at)
    limit = sla.rule_or_none("extension_max", ticket.urgency, ticket.type).amount  # rules: there is one
    left = max(0, limit - a.extended_days)
    days = f.integer("days", required=True, low=1)
    reason = f.text("reason", required=True, max_len=4000)
    if days is not None and days > left:
        f.error("days", _("Extensions may add at most %(n)d working days in total; %(left)d are left.",
                          n=limit, left=left))
    f.done()
    db.session.add(ExtensionRequest(ticket_id=ticket.id, assignment=a, days=days, reason=reason,
                                    status=ExtensionStatus.PENDING, requested_by_id=actor.id,
                                    requested_at=at, old_due_at=a.reply_due_at))
    _event(ticket, actor, Action.REQUEST_EXTENSION, at, note=reason, assignment=a, data={"days": days})


@handles(Action.REPLY)
def reply(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    a = _own_assignment(Action.REPLY, ticket, actor, at)
    content = f.text("content", required=True, max_len=20000)
    contacted = f.boolean("contacted_citizen", default=False)
    f.done()
    db.session.add(Reply(ticket_id=ticket.id, assignment=a, content=content, contacted_citizen=contacted,
                         status=ReplyStatus.FORWARDED if a.parent_id else ReplyStatus.PENDING,
                         author_id=actor.id, created_at=at))
    a.status, a.replied_at, a.contacted_citizen = AssignmentStatus.REPLIED, at, contacted
    mark_progress(a, at)
    for child in ticket.assignments:
        if child.parent_id == a.id and child.status == AssignmentStatus.REPLIED:
            child.status = AssignmentStatus.DONE
    if a.parent_id is None and a.role == AssignmentRole.LEAD:
        ticket.replied_at = at
    _event(ticket, actor, Action.REPLY, at, _follow_lead(ticket, a), note=content, assignment=a,
           data={"contacted_citizen": contacted, "to": "parent" if a.parent_id else "centre"})
