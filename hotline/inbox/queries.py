"""What the department workspace reads: the inbox groups and one order as the department sees it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager
from flask_babel import gettext as _
from flask_babel import ngettext

from hotline.auth.models import User
from hotline.core import counts
from hotline.core.postgres import prepared
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.inbox.permissions import sees_sub_units
from hotline.sla import service as sla
from hotline.tickets import permissions, rules, schemas
from hotline.tickets.models import (Assignment, Attachment, ExtensionRequest, Reply, Ticket,
                                    TicketEvent)
from workflows import deadlines as dl
from workflows.states import ASSIGNMENT_LIVE, Action, AssignmentStatus
from workflows.vocabulary import ExtensionStatus, ReplyStatus

#: How many cards each group of the inbox shows; the rest of a group is a "view all" link away.
FOLD = 5
#: Cards per page of one group shown whole.
PER_PAGE = 25
#: The inbox's groups, in the order the page shows them.
GROUPS = ("sent_back", "to_sign", "to_handle", "waiting", "sub_units")
#: The steps this workspace offers, in the order the page shows them.
DEPARTMENT_ACTIONS = (Action.SIGN, Action.REPLY, Action.PROGRESS, Action.REQUEST_EXTENSION, Action.SUB_DISPATCH,
                      Action.RETURN)
OPEN = (AssignmentStatus.AWAITING_SIGN, AssignmentStatus.IN_PROGRESS)


def time_left(due: datetime | None, now: datetime, unit: dl.Unit | None = None) -> str:
    """ "3 hours left", "2 working days left", "4 calendar days overdue": the time to a deadline in
    words, days counted as its rule counts them (`unit`; calendar days when it is not known)."""
    if due is None:
        return _("No deadline")
    left = dl.time_left(due, now, unit, sla.calendar(), sla.local_tz())
    n = left.n
    if left.what == "minutes":
        if left.overdue:
            return ngettext("%(num)d minute overdue", "%(num)d minutes overdue", n)
        return ngettext("%(num)d minute left", "%(num)d minutes left", n)
    if left.what == "hours":
        if left.overdue:
            return ngettext("%(num)d hour overdue", "%(num)d hours overdue", n)
        return ngettext("%(num)d hour left", "%(num)d hours left", n)
    if left.what == "working_days":
        if left.overdue:
            return ngettext("%(num)d working day overdue", "%(num)d working days overdue", n)
        return ngettext("%(num)d working day left", "%(num)d working days left", n)
    if left.overdue:
        return ngettext("%(num)d calendar day overdue", "%(num)d calendar days overdue", n)
    return ngettext("%(num)d calendar day left", "%(num)d calendar days left", n)


def deadline_unit(a: Assignment, step: str) -> dl.Unit | None:
    """How the assignment's `step` deadline ("sign" or "reply") is counted: its policy's unit (an
    extension, always in working days, is only granted on a working-day reply deadline)."""
    rule = sla.rule_or_none(step, a.ticket.urgency, a.ticket.type)
    return rule.unit if rule is not None else None


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
    return Card(a, a.ticket, step, due, state, time_left(due, now, deadline_unit(a, step)), sent_back)


#: The deadline that counts now: signing for an order waiting to be signed for, else replying.
_DUE_NOW = sa.case((Assignment.status == AssignmentStatus.AWAITING_SIGN, Assignment.sign_due_at),
                   else_=Assignment.reply_due_at)


#: Live assignments, in a fixed order (the statement's text, and so its cached plan, stays the same).
LIVE = sorted(ASSIGNMENT_LIVE, key=lambda s: s.value)


def _group_query(user: User, name: str) -> tuple[list, sa.ColumnElement]:
    """(conditions, deadline) of one group of `user`'s inbox. Each assignment falls in one group; a group
    shows the nearest deadline first (none last), then the oldest assignment, the order its own index
    (tickets.models) keeps. Sent back: an open assignment whose reply the centre rejected or whose return
    it refused (`Assignment.sent_back_at`)."""
    own = Assignment.department_id == user.department_id
    status, sent_back = Assignment.status, Assignment.sent_back_at
    if name == "sent_back":
        return [own, status.in_(OPEN), sent_back.is_not(None)], _DUE_NOW
    if name == "to_sign":
        return [own, status == AssignmentStatus.AWAITING_SIGN, sent_back.is_(None)], Assignment.sign_due_at
    if name == "to_handle":
        return [own, status == AssignmentStatus.IN_PROGRESS, sent_back.is_(None)], Assignment.reply_due_at
    if name == "waiting":  # what the department handed to the centre: its return or its reply under review
        return [own, Assignment.parent_id.is_(None),
                status.in_((AssignmentStatus.RETURNED, AssignmentStatus.REPLIED))], Assignment.reply_due_at
    # a department admin's sub-units' live work (a sub-unit's work: its reply deadline)
    return [Assignment.department_id.in_(_sub_units(user)), status.in_(LIVE)], Assignment.reply_due_at


def _sub_units(user: User) -> list[int]:
    return [d for d in permissions.subtree_id_list(user.department_id) if d != user.department_id]


def _first(user: User, name: str, limit: int) -> sa.Subquery:
    """The first `limit` assignments of one group, as rows (id, due) in the group's order: read from the
    group's index and stopped there. A department admin's sub-units are read unit by unit, each from its
    own range of the index, and merged: one index range across units would be sorted whole first."""
    where, due = _group_query(user, name)

    def top(*conditions) -> sa.Select:
        return (sa.select(Assignment.id, due.label("due")).where(*conditions)
                .order_by(due.asc().nulls_last(), Assignment.id).limit(limit))
    units = _sub_units(user) if name == "sub_units" else []
    if len(units) < 2:
        return top(*where).subquery()
    live = Assignment.status.in_(LIVE)
    each = [top(Assignment.department_id == unit, live).subquery() for unit in units]
    merged = sa.union_all(*(sa.select(t.c.id, t.c.due) for t in each)).subquery()
    return (sa.select(merged.c.id, merged.c.due).order_by(merged.c.due.asc().nulls_last(), merged.c.id)
            .limit(limit).subquery())


def _capped_size(user: User, name: str) -> sa.ScalarSelect:
    """How many assignments one group holds, reading at most counts.CAP + 1 of them (from its index)."""
    where, _due = _group_query(user, name)
    return counts.capped_size(sa.select(Assignment.id).where(*where))


def groups_of(user: User) -> tuple[str, ...]:
    return GROUPS if sees_sub_units(user) else GROUPS[:-1]


def _cards(name: str, rows: list[Assignment], now: datetime) -> list[Card]:
    """The cards of one group's assignments (loaded with their orders)."""
    reasons = sent_back_reasons(rows) if name == "sent_back" else {}
    cards = [card(a, now, reasons.get(a.id)) for a in rows]
    if name == "waiting":
        for c in cards:
            c.waiting = (_("Return under the centre's review") if c.assignment.status == AssignmentStatus.RETURNED
                         else _("Reply under the centre's review"))
    return cards


def group(user: User, name: str, now: datetime, limit: int, page_no: int = 1) -> tuple[list[Card], int, int]:
    """One page of one group of the inbox, the nearest deadline first: (cards, how many the group holds
    (capped, counts.AtLeast), pages). The page is read one card long to know whether another follows; the
    group is counted only when the first page does not hold it all."""
    offset = (page_no - 1) * limit
    first = _first(user, name, offset + limit + 1)
    rows = list(db.session.scalars(
        sa.select(Assignment).join(first, first.c.id == Assignment.id).join(Assignment.ticket)
        .options(contains_eager(Assignment.ticket))
        .order_by(first.c.due.asc().nulls_last(), first.c.id).offset(offset).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    if page_no == 1 and not more:
        total = len(rows)
    else:
        total = counts.at_most(db.session.scalar(sa.select(_capped_size(user, name))))
    return _cards(name, rows, now), total, counts.pages(total, limit, page_no, more)


def _first_of_each_group(user: User, names: tuple[str, ...], fold: int) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The first `fold` assignment ids of each group (in the group's order) and each group's size (capped),
    in one statement: each group read from its own index, so the cost does not grow with the work."""
    lists = {}
    for name in names:
        first = _first(user, name, fold)
        rank = sa.func.row_number().over(order_by=(first.c.due.asc().nulls_last(), first.c.id))
        lists[name] = sa.select(first.c.id, rank.label("rank"), _capped_size(user, name).label("total"))
    found = counts.first_rows(lists)
    first_ids = {name: [row.id for row in rows] for name, rows in found.items() if rows}
    totals = {name: counts.at_most(rows[0].total) if rows else 0 for name, rows in found.items()}
    return first_ids, totals


def inbox(user: User, now: datetime) -> Inbox:
    """The first cards of each group of the user's department's open assignments (and, for its
    admin, those of its sub-units), and how many each group holds (capped): one statement for the groups
    and their sizes, one for the cards' assignments and orders."""
    out = Inbox()
    names = groups_of(user)
    first, out.totals = _first_of_each_group(user, names, FOLD)
    ids = [i for group_ids in first.values() for i in group_ids]
    loaded = {a.id: a for a in db.session.scalars(prepared(
        sa.select(Assignment).join(Assignment.ticket).options(contains_eager(Assignment.ticket))
        .where(Assignment.id.in_(ids)))).unique()} if ids else {}
    for name in names:
        setattr(out, name, _cards(name, [loaded[i] for i in first.get(name, [])], now))
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


SENT_BACK_STEPS = (Action.RETURN.value, Action.REVIEW_RETURN.value, Action.URGE.value, Action.SUPERVISE.value)


def _sent_back(ticket: Ticket, mine: list[Assignment], replies: list[Reply],
               extensions: list[ExtensionRequest], events: list[TicketEvent]) -> list[SentBack]:
    """`events`: the order's trail as the department sees it (no internal steps), in order."""
    ids = {a.id for a in mine}
    top_level = any(a.parent_id is None for a in mine)
    out = [SentBack("reply_rejected", r.reviewed_at, r.review_note, r.content)
           for r in replies if r.status == ReplyStatus.REJECTED]
    out += [SentBack("extension_" + e.status.value, e.decided_at, e.decision_note)
            for e in extensions if e.status != ExtensionStatus.PENDING]
    last_return = None
    for e in events:
        if e.action not in SENT_BACK_STEPS:
            continue
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
    files = list(db.session.scalars(sa.select(Attachment).where(Attachment.ticket_id == ticket.id)
                                    .order_by(Attachment.id)))
    events = schemas.visible_events(ticket, user)
    subs = sub_unit_options(user, locale)
    actions, notices = available_actions(user, ticket, now)
    return Detail(
        ticket=ticket, citizen=schemas.citizen_json(ticket, user), mine=a,
        card=card(a, now) if a is not None and a.status in OPEN else None,
        actions=actions, notices=notices, sent_back=_sent_back(ticket, mine, replies, extensions, events),
        replies=replies, extensions=extensions, attachments=[f for f in files if secret_files or not f.is_confidential],
        events=schemas.events_for(ticket, user, events=events, files=files), sub_units=subs,
        extension_left=_extension_left(ticket, a) if a is not None else None)
