"""Who may see which orders and whose identity: one place, used by every entry point."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import aliased

from hotline.auth.models import User
from hotline.citizens.models import mask_phone
from hotline.core.recent import Recent
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.tickets.models import Assignment, Attachment, IdentityGrant, Ticket
from workflows.states import CENTRE, DEPARTMENT, AssignmentStatus, Role, TicketStatus

#: Final states reached by withdrawing every assignment; the departments keep sight of them.
ENDED_BY_WITHDRAWAL = (TicketStatus.MERGED, TicketStatus.CANCELLED)
from workflows.vocabulary import TicketType


def is_confidential(ticket: Ticket) -> bool:
    """Reports (举报) are always confidential; other orders when marked so."""
    return ticket.is_confidential or ticket.type == TicketType.REPORT


_subtrees = Recent(Department)


def subtree_ids(department_id: int) -> sa.Select:
    """SELECT of the ids of a department and all its sub-units."""
    path = sa.select(Department.path).where(Department.id == department_id).scalar_subquery()
    return sa.select(Department.id).where(Department.path.startswith(path, autoescape=False))


def subtree_id_list(department_id: int) -> list[int]:
    """The ids of a department and all its sub-units, read at most every few seconds per process (at
    once again after this process changes a department): a list filters by the literal ids, so the
    database checks each order against the (department, order) index alone."""
    return _subtrees.get(department_id, lambda: list(db.session.scalars(subtree_ids(department_id))))


def _counts_for_access(assignment: Assignment, ticket: Ticket) -> bool:
    """A withdrawn assignment (a return approved, a re-dispatch) no longer opens the order,
    except where the merge or cancellation that ended the order withdrew it."""
    return assignment.status != AssignmentStatus.WITHDRAWN or (
        ticket.status in ENDED_BY_WITHDRAWAL and assignment.withdrawn_at == ticket.closed_at)


def _ended_by_its_withdrawal(assignment, ticket):
    """SQL of `_counts_for_access`'s exception: the merge or cancellation that ended the order withdrew the
    assignment (`assignment`, `ticket`: the mapped classes, an alias, or a table's columns)."""
    return sa.and_(ticket.status.in_(ENDED_BY_WITHDRAWAL), assignment.withdrawn_at == ticket.closed_at)


def sees_by_assignments(user: User) -> bool:
    """True for a department's user: the orders it may see are those its units' assignments open to it
    (`visible_filter`, and the same read from the assignments: `visible_walk`, `visible_among`)."""
    return user.role in DEPARTMENT and user.department_id is not None


def visible_filter(user: User):
    """A WHERE clause limiting Ticket rows to those `user` may see (None: all)."""
    if user.role in CENTRE:
        return None
    if sees_by_assignments(user):
        mine = aliased(Assignment)  # its own alias: the outer query may join Assignment too
        return sa.exists().where(
            mine.ticket_id == Ticket.id,
            mine.department_id.in_(subtree_id_list(user.department_id)),
            sa.or_(mine.status != AssignmentStatus.WITHDRAWN, _ended_by_its_withdrawal(mine, Ticket)),
        )
    return sa.false()


@functools.cache
def _walk_ended_by_withdrawal() -> sa.Exists:
    """EXISTS: the order of an assignment in the walk was ended by the withdrawal (`_ended_by_its_withdrawal`).
    Built once: an alias of the orders' table proxies each of its columns when first asked for one."""
    mine, order = Assignment.__table__, Ticket.__table__.alias("ended")
    return sa.exists().where(order.c.id == mine.c.ticket_id, _ended_by_its_withdrawal(mine.c, order.c))


def _own_assignments(user: User, statuses: Sequence[TicketStatus] = ()) -> tuple | None:
    """The department user's assignments that open their orders to it (`visible_filter`'s rule), as WHERE
    conditions on the assignments' table: of its unit and sub-units, not withdrawn unless the merge or
    cancellation that ended the order withdrew them; of orders in `statuses` when given (the assignments' copy
    of their order's status). None for a user who is not a department's."""
    if not sees_by_assignments(user):
        return None
    units = subtree_id_list(user.department_id)
    mine = Assignment.__table__
    not_withdrawn = mine.c.status != AssignmentStatus.WITHDRAWN
    if statuses and not set(statuses) & set(ENDED_BY_WITHDRAWAL):
        opens = not_withdrawn  # no such order can have been ended by a withdrawal
    else:
        opens = sa.or_(not_withdrawn, _walk_ended_by_withdrawal())
    where = (mine.c.department_id == units[0] if len(units) == 1 else mine.c.department_id.in_(units), opens)
    return (*where, mine.c.ticket_status.in_(statuses)) if statuses else where


def visible_walk(user: User, *, newest_first: bool = True, limit: int | None = None, offset: int = 0,
                 statuses: Sequence[TicketStatus] = (), registered_from: datetime | None = None,
                 registered_until: datetime | None = None) -> sa.Subquery | None:
    """The orders a department user may see (the same as `visible_filter`), once each, as rows of
    (created, ticket_id) to be read in registration order (the outer query orders by them the same way):
    read from the department's own assignments, which carry their order's registration instant, so that a
    page reads its rows and stops however many orders other departments hold. A unit alone walks its own
    (ix_assignments_dept_ticket_created); a unit with sub-units walks every assignment newest first and
    keeps its units' (ix_assignments_ticket_created). `limit` and `offset` take a page of the walk: only a
    LIMIT inside lets PostgreSQL plan the walk to stop early, and the orders skipped are never read.
    `statuses`: only orders in one of these statuses, read from the assignments' copy of their order's
    status (ix_assignments_dept_ticket_status: a unit's orders of one status, newest first).
    `registered_from` (included) and `registered_until` (excluded): only orders registered within, a range
    of the same indexes.
    None for a user who is not a department's."""
    where = _own_assignments(user, statuses)
    if where is None:
        return None
    mine = Assignment.__table__
    if registered_from is not None:
        where = (*where, mine.c.ticket_created_at >= registered_from)
    if registered_until is not None:
        where = (*where, mine.c.ticket_created_at < registered_until)
    return assignments_walk(where, newest_first=newest_first, limit=limit, offset=offset, name="visible")


def assignments_walk(where: Sequence, *, newest_first: bool = True, limit: int | None = None, offset: int = 0,
                     name: str = "walk") -> sa.Subquery:
    """The orders of the assignments matching `where` (conditions on the assignments' table), once each, as
    rows of (created, ticket_id) in registration order, read from the assignments' copy of their order's
    registration instant (the outer query orders by them the same way); `limit` and `offset` as visible_walk."""
    direction = sa.desc if newest_first else sa.asc
    mine = Assignment.__table__
    walk = (sa.select(mine.c.ticket_created_at.label("created"), mine.c.ticket_id).distinct().where(*where)
            # ordered inside too: planned on its own, the DISTINCT would otherwise pick its cheapest order
            .order_by(direction(mine.c.ticket_created_at), direction(mine.c.ticket_id)))
    if limit is not None:
        walk = walk.limit(limit).offset(offset)
    return walk.subquery(name)


def visible_among(user: User, statuses: Sequence[TicketStatus]):
    """A WHERE clause limiting Ticket rows in `statuses` to those the department user may see (the same as
    `visible_filter` for them; None for a user who is not a department's): the ids of its own assignments'
    orders in those statuses, read whole from ix_assignments_dept_ticket_status first, then those orders. For
    the statuses of work in hand, which a department holds a few thousand of however many it ever had.

    On PostgreSQL the ids are one array (`id = ANY(ARRAY(...))`), which the planner can only look up by key:
    given an IN it often read the city's orders of the other filters first (estimating a deadline filter to
    keep 400 of the city's orders in hand, where 5,600 of them were), twice as slow as the department's own."""
    where = _own_assignments(user, statuses)
    if where is None:
        return None
    ids = sa.select(Assignment.__table__.c.ticket_id).where(*where)
    if db.session.get_bind().dialect.name == "postgresql":
        return Ticket.id == sa.any_(sa.func.array(ids.scalar_subquery()))
    return Ticket.id.in_(ids)


def can_view(user: User, ticket: Ticket) -> bool:
    if user.role in CENTRE:
        return True
    if user.role not in DEPARTMENT or user.department is None:
        return False
    prefix = user.department.path
    return any(a.department.path.startswith(prefix) and _counts_for_access(a, ticket) for a in ticket.assignments)


def identity_granted(user: User, ticket: Ticket) -> bool:
    """True when the centre granted the user's department the reporter's identity.

    Asked several times per order while a page or a reply is built (name, phone, files),
    so the answer is kept for the rest of the request.
    """
    if user.department_id is None:
        return False
    key = (ticket.id, user.department_id)
    known = g.setdefault("identity_grants", {}) if has_request_context() else {}
    if key not in known:
        known[key] = db.session.scalar(sa.select(sa.func.count(IdentityGrant.id)).where(
            IdentityGrant.ticket_id == ticket.id, IdentityGrant.department_id == user.department_id)) > 0
    return known[key]


def prefetch_identity_grants(user: User, tickets) -> None:
    """Answer `identity_granted` for a whole page of orders with one query (a list asks it per row)."""
    if user.department_id is None or user.role in CENTRE or not has_request_context():
        return
    ids = [t.id for t in tickets if is_confidential(t)]
    known = g.setdefault("identity_grants", {})
    ids = [i for i in ids if (i, user.department_id) not in known]
    if not ids:
        return
    granted = set(db.session.scalars(sa.select(IdentityGrant.ticket_id).where(
        IdentityGrant.ticket_id.in_(ids), IdentityGrant.department_id == user.department_id)))
    for ticket_id in ids:
        known[(ticket_id, user.department_id)] = ticket_id in granted


def forget_identity_grants() -> None:
    """After a grant the request must ask again."""
    if has_request_context():
        g.pop("identity_grants", None)


def can_see_identity(user: User, ticket: Ticket) -> bool:
    """May `user` see who reported this order (name and phone)?"""
    if user.role in CENTRE:
        return True
    if not is_confidential(ticket):
        return True
    return identity_granted(user, ticket)


def can_see_confidential_files(user: User, ticket: Ticket) -> bool:
    """Files marked confidential: the centre, or a department the centre granted the identity."""
    return user.role in CENTRE or identity_granted(user, ticket)


def may_filter_by_phone(user: User) -> bool:
    """Searching by a full number would reveal the digits masking hides."""
    return user.role in CENTRE or user.can_view_phones


def shown_phone(user: User, ticket: Ticket, phone: str | None) -> str | None:
    """The phone number as `user` may see it: full, masked, or not at all."""
    if user.role in CENTRE:
        return phone
    if is_confidential(ticket) and not identity_granted(user, ticket):
        return None
    return phone if user.can_view_phones else mask_phone(phone)


def can_manage(user: User) -> bool:
    """Administration: users, departments, categories, policies, calendar."""
    return user.role == Role.ADMIN


def can_read_reports(user: User) -> bool:
    return user.role in CENTRE


def can_lookup_citizens(user: User) -> bool:
    """The screen-pop of a caller's history is a centre tool."""
    return user.role in CENTRE


def can_download(user: User, ticket: Ticket, attachment: Attachment) -> bool:
    """An attachment of an order: whoever sees the order, unless the file is confidential."""
    if not can_view(user, ticket):
        return False
    return not attachment.is_confidential or can_see_confidential_files(user, ticket)
