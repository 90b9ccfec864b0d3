"""Finding orders: the filters people use, always inside what the viewer may see."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload, selectinload

from hotline.auth.models import User
from hotline.categories import operations as categories
from hotline.categories.models import Category
from hotline.citizens.models import Citizen
from hotline.citizens.operations import normalize_phone
from hotline.core import counts
from hotline.core.errors import Forbidden
from hotline.core.fields import Fields
from hotline.core.postgres import prepared
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import filters, permissions, search
from hotline.tickets.models import Assignment, Ticket, TicketEvent
from hotline.tickets.operations.register import NUMBER_SHAPE
from workflows.states import CENTRE, WITH_DEPARTMENT, Action, AssignmentStatus, TicketStatus
from workflows.vocabulary import Channel, TicketType, Urgency

SORTS = {
    "-created_at": (Ticket.created_at.desc(), Ticket.id.desc()),
    "created_at": (Ticket.created_at.asc(), Ticket.id.asc()),
    # an order without a deadline (not yet dispatched) comes after every deadline, and before them backwards: said
    # outright, as PostgreSQL does it (its index reads either way), or SQLite listed such orders first
    "due_at": (Ticket.due_at.asc().nulls_last(), Ticket.id.asc()),
    "-due_at": (Ticket.due_at.desc().nulls_first(), Ticket.id.desc()),
    "number": (Ticket.number.asc(),),
    "-number": (Ticket.number.desc(),),
}
OVERDUE_ASSIGNMENT = (AssignmentStatus.AWAITING_SIGN, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)
#: An execution option of a query from build_query: a cheaper statement counting exactly its rows (or a function
#: returning it), when there is one.
EXACT_TOTAL = "hotline_exact_total"
#: An execution option of a query from build_query: its ORDER BY as a tuple, for a statement that reads the first
#: rows of several lists at once and must number each one's rows in its own order (the board).
ORDER = "hotline_order"


def _statuses(f: Fields) -> list[TicketStatus]:
    raw = f.data.get("status")
    if raw in (None, ""):
        return []
    out = []
    for part in str(raw).split(","):
        member = TicketStatus.parse(part.strip())
        if member is None:
            f.error("status", _("Must be one of: %(values)s.", values=", ".join(TicketStatus.values())))
            return []
        out.append(member)
    return out


def _local_bound(value: datetime | None, *, end: bool) -> datetime | None:
    """A date (or naive time) in local time -> aware UTC; an end date includes its whole day."""
    if value is None:
        return None
    if value.tzinfo is None:
        if end and value.time() == time(0):
            value = value + timedelta(days=1)
        value = value.replace(tzinfo=sla.local_tz())
    return value


def build_query(viewer: User, args: dict, now: datetime) -> tuple[sa.Select, Fields]:
    """SELECT of the orders matching `args` that `viewer` may see; raises Invalid on bad filters."""
    f = Fields(dict(args))
    statuses = _statuses(f)
    ticket_type = f.choice("type", TicketType)
    channel = f.choice("channel", Channel)
    urgency = f.choice("urgency", Urgency)
    department = f.integer("department", low=1)
    overdue = f.boolean("overdue")
    sla_state = f.text("sla", max_len=10)
    if sla_state not in (None, "green", "yellow", "red"):
        f.error("sla", _("Must be one of: %(values)s.", values="green, yellow, red"))
    raw_phone = f.text("phone", max_len=40)
    phone = normalize_phone(raw_phone) if raw_phone else None
    if raw_phone and phone is None:
        f.error("phone", _("Not a phone number: use 5 to 20 digits, e.g. 13812345678."))
    q = f.text("q", max_len=100)
    created_from = _local_bound(f.datetime("created_from"), end=False)
    created_to = _local_bound(f.datetime("created_to"), end=True)
    category = f.text("category", max_len=20)
    sort = f.text("sort", max_len=20) or "-created_at"
    if sort not in SORTS:
        f.error("sort", _("Must be one of: %(values)s.", values=", ".join(SORTS)))
    registered = [c for c in (flt.condition(f, now) for flt in filters.list_filters()) if c is not None]
    f.done()

    query = sa.select(Ticket)
    if registered:
        query = query.where(*registered)
    if ticket_type:
        query = query.where(Ticket.type == ticket_type)
    if channel:
        query = query.where(Ticket.channel == channel)
    if urgency:
        query = query.where(Ticket.urgency == urgency)
    if category:
        ids = categories.subtree_id_list(category)
        query = query.where(Ticket.category_id == ids[0] if len(ids) == 1 else Ticket.category_id.in_(ids))
    order = SORTS[sort]
    overdue_here = None
    if department is not None and overdue:
        # A department's overdue orders: its own assignments past their reply deadline, read in
        # deadline order straight from the (department, status, reply_due_at) index.
        overdue_here = sa.and_(Assignment.department_id == department, Assignment.status.in_(OVERDUE_ASSIGNMENT),
                               Assignment.reply_due_at < now)
        query = query.join(Assignment, sa.and_(Assignment.ticket_id == Ticket.id, overdue_here))
        if sort in ("due_at", "-due_at"):
            due = Assignment.reply_due_at
            order = (due.asc(), Assignment.id.asc()) if sort == "due_at" else (due.desc(), Assignment.id.desc())
    elif department is not None and sort in ("-created_at", "created_at"):
        # The orders a department had, by registration: its own assignments in that order, each order once
        # (ix_assignments_dept_ticket_created), so the page stops after its rows; tested the other way round
        # (the city's orders newest first, each asked whether the department had it), a department few of the
        # viewer's orders went to read every order to say so.
        direction = sa.desc if sort == "-created_at" else sa.asc
        had = permissions.assignments_walk((Assignment.__table__.c.department_id == department,),
                                           newest_first=sort == "-created_at", name="had")
        query = query.join(had, had.c.ticket_id == Ticket.id)
        order = (direction(had.c.created), direction(had.c.ticket_id))
    elif department is not None:
        query = query.where(Ticket.id.in_(sa.select(Assignment.ticket_id).where(Assignment.department_id == department)))
    if overdue and department is None:
        query = query.where(Ticket.status.in_(WITH_DEPARTMENT), Ticket.due_at < now)
    elif overdue is False:
        query = query.where(sa.or_(Ticket.due_at.is_(None), Ticket.due_at >= now,
                                   Ticket.status.not_in(WITH_DEPARTMENT)))
    if sla_state == "red":
        query = query.where(Ticket.status.in_(WITH_DEPARTMENT), Ticket.due_at < now)
    elif sla_state in ("yellow", "green"):
        query = query.where(Ticket.status.in_(WITH_DEPARTMENT), Ticket.due_at >= now)
        used = _three_quarters_used(now)  # on the row itself: read in deadline order, no id list
        query = query.where(used if sla_state == "yellow" else sa.not_(used))
    if phone:
        if not permissions.may_filter_by_phone(viewer):
            raise Forbidden(_("Only staff who may see full phone numbers can search by phone."))
        citizen_ids = sa.select(Citizen.id).where(Citizen.phone == phone)
        query = query.where(Ticket.citizen_id.in_(citizen_ids))
        if viewer.role not in CENTRE:
            # never let a department find a confidential reporter by their number
            query = query.where(Ticket.is_confidential.is_(False))
    if q:
        query = query.where(_keyword_matches(q))
    # nothing asked of the order itself but maybe its status and when it was registered (the walk's own columns)
    asks_no_more = query.whereclause is None
    if created_from:
        query = query.where(Ticket.created_at >= created_from)
    if created_to:
        query = query.where(Ticket.created_at < created_to)
    walk_counts = {}
    if asks_no_more and department is None and permissions.sees_by_assignments(viewer):
        newest_first = sort != "created_at"  # the walk's own order: any, for counting
        # A department's whole list, or its orders in some statuses or registered within some dates: its own
        # assignments (which carry their order's registration instant and status) hold each visible order
        # once, and every one exists, so the page's capped count and the API's exact total count the walk alone
        # (from the index), in any order, instead of joining every order to it.
        def walk(**page) -> sa.Subquery:
            return permissions.visible_walk(viewer, newest_first=newest_first, statuses=statuses,
                                            registered_from=created_from, registered_until=created_to, **page)

        def total() -> sa.Select:
            return sa.select(sa.func.count()).select_from(walk())
        walk_counts = {EXACT_TOTAL: total, counts.COUNTED_ROWS: lambda limit: walk(limit=limit)}
        if sort in ("-created_at", "created_at"):
            # by registration (its default view) the rows are read from the walk too, a page at a time
            direction = sa.desc if newest_first else sa.asc

            def walked(limit: int | None = None, offset: int = 0) -> sa.Select:
                visible = walk(limit=limit, offset=offset)
                order = (direction(visible.c.created), direction(visible.c.ticket_id))
                return (query.join(visible, visible.c.ticket_id == Ticket.id).order_by(*order)
                        .execution_options(**{ORDER: order}))
            return walked().execution_options(**{counts.FIRST_ROWS: walked, **walk_counts}), f
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    open_work = _open_work(statuses, implied=WITH_DEPARTMENT if (overdue and department is None) or sla_state else None)
    # Only orders a department still has in hand can match: its own assignments in those statuses (its open
    # work) are read whole, instead of testing the city's matching orders one by one for the department's.
    visible = permissions.visible_among(viewer, open_work) if open_work else None
    if visible is None:
        visible = permissions.visible_filter(viewer)
    if visible is not None:
        query = query.where(visible)
    if overdue_here is not None and asks_no_more and not (statuses or created_from or created_to) and visible is None:
        # Nothing is asked of the order itself (a centre viewer, no other filter): each such assignment is
        # one row, its order always exists, so the exact total is counted from the assignments' index alone
        # (migration 0028) instead of looking up every overdue order.
        query = query.execution_options(**{EXACT_TOTAL: sa.select(sa.func.count()).where(overdue_here)})
    return query.order_by(*order).execution_options(**{ORDER: order, **walk_counts}), f


def _open_work(statuses: list[TicketStatus], *, implied: frozenset[TicketStatus] | None) -> frozenset[TicketStatus]:
    """The statuses a list's orders must be in (asked for, and `implied` by its other filters), when all of them
    are statuses of work in a department's hands (`WITH_DEPARTMENT`); empty when the list may hold others."""
    kept = implied
    if statuses:
        kept = frozenset(statuses) if kept is None else kept & frozenset(statuses)
    return kept if kept and kept <= WITH_DEPARTMENT else frozenset()


def _keyword_matches(q: str):
    """Condition: the order's number is `q`, or its subject or content holds it. Asked of the keyword index first
    (tickets.search), so that a keyword few orders hold reads those orders, not every one."""
    pattern = f"%{q}%"
    may_be_number = NUMBER_SHAPE.fullmatch(q) is not None
    text = sa.or_(Ticket.subject.ilike(pattern), Ticket.content.ilike(pattern))
    matches = sa.or_(Ticket.number == q, text) if may_be_number else text
    candidates = search.holding(q)
    if candidates is None:
        return matches
    if may_be_number:  # the order of that number is a candidate too
        candidates = sa.union_all(sa.select(Ticket.id).where(Ticket.number == q), candidates)
    return sa.and_(Ticket.id.in_(candidates), matches)


def _three_quarters_used(now: datetime):
    """Condition: an order has used 75% of its time (yellow once it also has a department and is not yet due)."""
    start = sa.func.coalesce(Ticket.sla_started_at, Ticket.created_at)
    if db.session.get_bind().dialect.name == "postgresql":
        return start + (Ticket.due_at - start) * 0.75 <= now
    day = sa.func.julianday
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return day(start) + (day(Ticket.due_at) - day(start)) * 0.75 <= day(stamp)


class ListedDepartment(NamedTuple):
    id: int
    name: str
    code: str


class ListedCategory(NamedTuple):
    id: int
    code: str
    name: str


class ListedCitizen(NamedTuple):
    id: int
    name: str | None
    phone: str
    is_vip: bool


class Listed(NamedTuple):
    """An order as lists show it (the order list, the board, the to-do, the API's list): the columns they
    print and the rules they ask read (`permissions` who may see the caller, `sla.ticket_sla` the badge,
    `schemas.ticket_summary`: all take it as they take an order), as plain rows. Orders loaded whole, each
    with its caller, category and department, cost a 50-row page about 0.7-1.1 ms more at 1,000,000 orders
    (2.9-3.1 against 1.9-2.4 ms by the list's three ways of reading; its request takes about 9 ms)."""

    id: int
    number: str
    status: TicketStatus
    type: TicketType
    channel: Channel
    urgency: Urgency
    subject: str
    is_confidential: bool
    created_at: datetime
    due_at: datetime | None
    sla_started_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    urge_count: int
    supervision_level: int
    lead_department: ListedDepartment | None
    category: ListedCategory | None
    citizen: ListedCitizen | None


_LISTED_ORDER = (Ticket.id, Ticket.number, Ticket.status, Ticket.type, Ticket.channel, Ticket.urgency, Ticket.subject,
                 Ticket.is_confidential, Ticket.created_at, Ticket.due_at, Ticket.sla_started_at, Ticket.replied_at,
                 Ticket.closed_at, Ticket.urge_count, Ticket.supervision_level)
#: what an order points at, each read in the same statement (an outer join of its own alias, apart from any
#: subquery of the filters): its kind, its columns (the id first: None when the order points at none) and
#: how it joins
_lead, _category, _citizen = (aliased(Department, name="listed_lead"), aliased(Category, name="listed_category"),
                              aliased(Citizen, name="listed_citizen"))
_LISTED_PARTS = ((ListedDepartment, (_lead.id, _lead.name, _lead.code), (_lead, _lead.id == Ticket.lead_department_id)),
                 (ListedCategory, (_category.id, _category.code, _category.name),
                  (_category, _category.id == Ticket.category_id)),
                 (ListedCitizen, (_citizen.id, _citizen.name, _citizen.phone, _citizen.is_vip),
                  (_citizen, _citizen.id == Ticket.citizen_id)))


def _listed(row: sa.Row) -> Listed:
    values, at = list(row[:len(_LISTED_ORDER)]), len(_LISTED_ORDER)
    for kind, columns, _join in _LISTED_PARTS:
        part = row[at:at + len(columns)]
        values.append(kind(*part) if part[0] is not None else None)
        at += len(columns)
    return Listed(*values)


def _loader(viewer: User | None, *, paged: bool = False):
    """How a list reads its orders (`Listed`), and what `viewer` may see of each in one more query.

    `paged`: the query is one page of a list from build_query (limited, its ORDER given): when it filters the
    orders, the page's ids are picked first, in a subquery that reads nothing but what the filters and the order
    need (often one index alone), numbered in the list's order, and only those orders are then read whole and
    joined to what they point at. Asked in one piece, a planner that underestimated how many orders match (the
    yellow list: 473 guessed, 11,000 there) joined every match to its caller and category before sorting them.
    A list that filters nothing (or only through a department's walk, joined) walks one index in its order and
    stops: the second look-up of each row cost it about a tenth of its pages a second."""
    def load(query: sa.Select) -> list[Listed]:
        order = query.get_execution_options().get(ORDER) if paged and query.whereclause is not None else None
        if order:
            rank = sa.func.row_number().over(order_by=order).label("rank")
            picked = query.with_only_columns(Ticket.id.label("id"), rank).subquery("page")
            query = sa.select(Ticket).join(picked, picked.c.id == Ticket.id).order_by(picked.c.rank)
        for _kind, _columns, (target, on) in _LISTED_PARTS:
            query = query.outerjoin(target, on)
        statement = query.with_only_columns(*_LISTED_ORDER, *(c for _k, columns, _j in _LISTED_PARTS for c in columns))
        rows: dict[int, Listed] = {}
        for row in db.session.execute(statement):
            if row[0] not in rows:  # once each, as orders loaded whole were (a join may meet an order twice)
                rows[row[0]] = _listed(row)
        listed = list(rows.values())
        if viewer is not None:
            permissions.prefetch_identity_grants(viewer, listed)
        return listed
    return load


def load(query: sa.Select, viewer: User | None = None) -> list[Listed]:
    """The orders `query` reads, as a list shows them to `viewer` (`Listed`)."""
    return _loader(viewer)(query)


def page(query: sa.Select, page_no: int, per_page: int, viewer: User | None = None) -> tuple[list[Listed], int]:
    """One page of `query` (`Listed`) and the exact total (the API's contract); who of them `viewer` may
    see the caller of is asked in one go."""
    count = query.get_execution_options().get(EXACT_TOTAL)
    if callable(count):
        count = count()
    if count is None:
        count = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = db.session.scalar(count)
    offset = (page_no - 1) * per_page
    return _loader(viewer, paged=True)(counts.rows_of(query, per_page, offset)), total


def page_capped(query: sa.Select, page_no: int, per_page: int,
                viewer: User | None = None) -> tuple[list[Listed], int, int]:
    """One page of `query` for a web page: (rows, total capped, pages), as `core.counts.capped_page`."""
    return counts.capped_page(query, page_no, per_page, _loader(viewer, paged=True))


def latest_public_progress(ticket_ids: list[int]) -> dict[int, str]:
    """The newest public progress note (过程回复) of each of these orders that has one, by order id."""
    if not ticket_ids:
        return {}
    out: dict[int, str] = {}
    for ticket_id, data in db.session.execute(sa.select(TicketEvent.ticket_id, TicketEvent.data).where(
            TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action == Action.PROGRESS.value,
            TicketEvent.is_internal.is_(False)).order_by(TicketEvent.id)):
        if (data or {}).get("public"):
            out[ticket_id] = data["text"]
    return out


def citizen_history(phone: str, limit: int = 50, *, with_assignments: bool = False) -> list[Ticket]:
    """A caller's orders, newest first (the screen-pop); `with_assignments` loads them in one more query
    (the desk asks each order whether it may be urged)."""
    query = (sa.select(Ticket).join(Citizen, Ticket.citizen_id == Citizen.id).where(Citizen.phone == phone)
             .options(joinedload(Ticket.lead_department))
             .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit))
    if with_assignments:
        query = query.options(selectinload(Ticket.assignments))
    return list(db.session.scalars(prepared(query)))

