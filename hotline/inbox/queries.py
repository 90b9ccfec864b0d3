"""What the department workspace reads: the inbox groups and one order as the department sees it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager
from flask_babel import gettext as _
from flask_babel import ngettext

from hotline.auth.models import User
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.inbox.permissions import sees_sub_units
from hotline.sla import service as sla
from hotline.tickets import permissions, rules, schemas
from hotline.tickets.models import (Assignment, Attachment, ExtensionRequest, Reply, Ticket,
                                    TicketEvent)
from workflows.states import ASSIGNMENT_LIVE, Action, AssignmentStatus
from workflows.vocabulary import ExtensionStatus, ReplyStatus

#: How many cards one group shows at most: the most urgent first (a phone page stays small).
GROUP_LIMIT = 100
#: The steps this workspace offers, in the order the page shows them.
DEPARTMENT_ACTIONS = (Action.SIGN, Action.REPLY, Action.PROGRESS, Action.REQUEST_EXTENSION, Action.SUB_DISPATCH,
                      Action.RETURN)
OPEN = (AssignmentStatus.AWAITING_SIGN, AssignmentStatus.IN_PROGRESS)


def time_left(due: datetime | None, now: datetime) -> str:
    """ "3 hours left" / "2 days overdue": the time to a deadline in words."""
    if due is None:
        return _("No deadline")
    seconds = (due - now).total_seconds()
    span = abs(seconds)
    if span < 3600:
        n = max(1, int(span // 60))
        if seconds >= 0:
            return ngettext("%(num)d minute left", "%(num)d minutes left", n)
        return ngettext("%(num)d minute overdue", "%(num)d minutes overdue", n)
    if span < 86400:
        n = int(span // 3600)
        if seconds >= 0:
            return ngettext("%(num)d hour left", "%(num)d hours left", n)
        return ngettext("%(num)d hour overdue", "%(num)d hours overdue", n)
    n = int(span // 86400)
    if seconds >= 0:
        return ngettext("%(num)d day left", "%(num)d days left", n)
    return ngettext("%(num)d day overdue", "%(num)d days overdue", n)


@dataclass
class Card:
    """One order in the inbox, as a card shows it."""

    assignment: Assignment
    ticket: Ticket
    step: str  # "sign" or "reply": which deadline counts now
    due: datetime | None
    state: str  # green / yellow / red
    left: str
    sent_back: str | None = None
    #: Set while the order waits on the centre (a return or a reply under review).
    waiting: str | None = None


@dataclass
class Inbox:
    sent_back: list[Card] = field(default_factory=list)
    to_sign: list[Card] = field(default_factory=list)
    to_handle: list[Card] = field(default_factory=list)
    sub_units: list[Card] = field(default_factory=list)
    waiting: list[Card] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def card(a: Assignment, now: datetime, sent_back: str | None = None) -> Card:
    states = sla.assignment_sla(a, now)
    if a.status == AssignmentStatus.AWAITING_SIGN:
        step, due, state = "sign", a.sign_due_at, states["sign"]
    else:
        step, due, state = "reply", a.reply_due_at, states["reply"]
    return Card(a, a.ticket, step, due, state, time_left(due, now), sent_back)


def _by_deadline(due_column):
    return (due_column.is_(None), due_column, Assignment.id)


def _assignments(where, order, limit: int = GROUP_LIMIT) -> tuple[list[Assignment], int]:
    query = sa.select(Assignment).join(Assignment.ticket).where(*where)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.options(contains_eager(Assignment.ticket))
                              .order_by(*order).limit(limit)).unique().all()
    return list(rows), total


def inbox(user: User, now: datetime) -> Inbox:
    """The user's department's open assignments (and, for its admin, those of its sub-units)."""
    out = Inbox()
    dept_id = user.department_id
    own = Assignment.department_id == dept_id
    to_sign, out.totals["to_sign"] = _assignments(
        [own, Assignment.status == AssignmentStatus.AWAITING_SIGN], _by_deadline(Assignment.sign_due_at))
    to_handle, out.totals["to_handle"] = _assignments(
        [own, Assignment.status == AssignmentStatus.IN_PROGRESS], _by_deadline(Assignment.reply_due_at))
    reasons = sent_back_reasons([*to_sign, *to_handle])
    for a in to_sign + to_handle:
        c = card(a, now, reasons.get(a.id))
        if c.sent_back:
            out.sent_back.append(c)
        elif a.status == AssignmentStatus.AWAITING_SIGN:
            out.to_sign.append(c)
        else:
            out.to_handle.append(c)
    out.sent_back.sort(key=lambda c: (c.due is None, c.due or now))
    out.totals["to_sign"] -= sum(1 for c in out.sent_back if c.step == "sign")
    out.totals["to_handle"] -= sum(1 for c in out.sent_back if c.step == "reply")
    # what the department handed to the centre and waits on: its return or its reply under review
    rows, out.totals["waiting"] = _assignments(
        [own, Assignment.parent_id.is_(None),
         Assignment.status.in_((AssignmentStatus.RETURNED, AssignmentStatus.REPLIED))],
        _by_deadline(Assignment.reply_due_at))
    for a in rows:
        c = card(a, now)
        c.waiting = (_("Return under the centre's review") if a.status == AssignmentStatus.RETURNED
                     else _("Reply under the centre's review"))
        out.waiting.append(c)
    if sees_sub_units(user):
        below = sa.and_(Assignment.department_id.in_(permissions.subtree_ids(dept_id)),
                        Assignment.department_id != dept_id)
        rows, out.totals["sub_units"] = _assignments(
            [below, Assignment.status.in_(ASSIGNMENT_LIVE)], _by_deadline(Assignment.reply_due_at))
        out.sub_units = [card(a, now) for a in rows]
    return out


def sent_back_reasons(assignments: list[Assignment]) -> dict[int, str]:
    """Open assignments the centre sent back: a rejected reply, or a refused return."""
    ids = [a.id for a in assignments]
    if not ids:
        return {}
    rejected = set(db.session.scalars(sa.select(Reply.assignment_id).where(
        Reply.assignment_id.in_(ids), Reply.status == ReplyStatus.REJECTED)))
    out = {}
    for a in assignments:
        if a.id in rejected:
            out[a.id] = _("Reply rejected by the centre")
        elif a.return_reason:  # an approved return withdraws the assignment: one still open was refused
            out[a.id] = _("Return refused by the centre")
    return out


# -- one order -----------------------------------------------------------------------------

@dataclass
class SentBack:
    """Something the centre sent to the department about this order."""

    kind: str
    at: datetime | None
    note: str | None
    extra: str | None = None


@dataclass
class Detail:
    ticket: Ticket
    citizen: dict | None
    mine: Assignment | None
    card: Card | None
    actions: list[Action]
    notices: list[str]
    sent_back: list[SentBack]
    replies: list[Reply]
    extensions: list[ExtensionRequest]
    attachments: list[Attachment]
    events: list[dict]
    sub_units: list[tuple[int, str]]
    extension_left: int | None


def own_assignments(user: User, ticket: Ticket) -> list[Assignment]:
    return [a for a in ticket.assignments if a.department_id == user.department_id]


def current_assignment(user: User, ticket: Ticket) -> Assignment | None:
    """The department's live assignment (the one its steps act on), else its latest one."""
    mine = own_assignments(user, ticket)
    live = [a for a in mine if a.status in ASSIGNMENT_LIVE]
    if live:
        return live[0]
    return mine[-1] if mine else None


def sub_unit_options(user: User, locale: str) -> list[tuple[int, str]]:
    """The department admin's own active sub-units, as (id, label) for a select."""
    if not sees_sub_units(user) or user.department is None:
        return []
    base = user.department
    rows = db.session.scalars(sa.select(Department).where(
        Department.path.startswith(base.path, autoescape=True), Department.id != base.id,
        Department.is_active.is_(True)).order_by(Department.path))
    depth0 = base.path.count("/")
    return [(d.id, "— " * (d.path.count("/") - depth0 - 1) + dept_name(d, locale)) for d in rows]


def dept_name(dept: Department | None, locale: str) -> str:
    if dept is None:
        return ""
    return dept.name_en if locale.startswith("en") and dept.name_en else dept.name


def _extension_left(ticket: Ticket, a: Assignment) -> int | None:
    rule = sla.rule_or_none("extension_max", ticket.urgency, ticket.type)
    return None if rule is None else max(0, rule.amount - a.extended_days)


def available_actions(user: User, ticket: Ticket, now: datetime) -> tuple[list[Action], list[str]]:
    """The steps this workspace offers now, and why those closed for now are closed (`rules.why_not`)."""
    refused = rules.refusals(ticket, user, DEPARTMENT_ACTIONS, now)
    explained = sorted((a for a, r in refused.items() if r is not None and r.explained),
                       key=lambda a: a != Action.RETURN)  # the return window first, as the page always said
    return [a for a in DEPARTMENT_ACTIONS if refused[a] is None], [refused[a].reason for a in explained]


def _sent_back(ticket: Ticket, mine: list[Assignment], replies: list[Reply],
               extensions: list[ExtensionRequest]) -> list[SentBack]:
    ids = {a.id for a in mine}
    top_level = any(a.parent_id is None for a in mine)
    out = [SentBack("reply_rejected", r.reviewed_at, r.review_note, r.content)
           for r in replies if r.status == ReplyStatus.REJECTED]
    out += [SentBack("extension_" + e.status.value, e.decided_at, e.decision_note)
            for e in extensions if e.status != ExtensionStatus.PENDING]
    last_return = None
    events = db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.is_internal.is_(False),
        TicketEvent.action.in_([Action.RETURN.value, Action.REVIEW_RETURN.value, Action.URGE.value,
                                Action.SUPERVISE.value])).order_by(TicketEvent.id))
    for e in events:
        if e.action == Action.RETURN.value:
            last_return = e
        elif e.action == Action.REVIEW_RETURN.value:
            if (e.data or {}).get("outcome") == "refuse" and last_return is not None \
                    and last_return.assignment_id in ids:
                out.append(SentBack("return_refused", e.at, e.note, last_return.note))
        elif top_level:
            out.append(SentBack(e.action, e.at, e.note))
    out.sort(key=lambda s: s.at.timestamp() if s.at else 0, reverse=True)
    return out


def detail(user: User, ticket: Ticket, now: datetime, locale: str) -> Detail:
    """Everything the order page shows this department user."""
    mine = own_assignments(user, ticket)
    ids = [a.id for a in mine]
    a = current_assignment(user, ticket)
    replies = list(db.session.scalars(sa.select(Reply).where(Reply.assignment_id.in_(ids)).order_by(Reply.id))) \
        if ids else []
    extensions = list(db.session.scalars(sa.select(ExtensionRequest).where(
        ExtensionRequest.assignment_id.in_(ids)).order_by(ExtensionRequest.id))) if ids else []
    secret_files = permissions.can_see_confidential_files(user, ticket)
    attachments = [f for f in db.session.scalars(
        sa.select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id))
        if secret_files or not f.is_confidential]
    subs = sub_unit_options(user, locale)
    actions, notices = available_actions(user, ticket, now)
    return Detail(
        ticket=ticket, citizen=schemas.citizen_json(ticket, user), mine=a,
        card=card(a, now) if a is not None and a.status in OPEN else None,
        actions=actions, notices=notices, sent_back=_sent_back(ticket, mine, replies, extensions),
        replies=replies, extensions=extensions, attachments=attachments,
        events=schemas.events_for(ticket, user), sub_units=subs,
        extension_left=_extension_left(ticket, a) if a is not None else None)
