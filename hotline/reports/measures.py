"""DOMAIN.md's measures, counted in the database for any period and any slice.

Each measure is counted once, here, from one of five families of rows, each with the moment
that places a row in a period (orders that cross a period's boundaries count where that
moment falls):

| family   | rows                                                   | in the period when    |
|----------|--------------------------------------------------------|-----------------------|
| intake   | orders                                                 | registered            |
| dispatch | a department's part (top-level assignments, lead or assisting) | dispatched    |
| due      | the lead department's part, not withdrawn              | its reply is due      |
| visit    | return visits (charged to the lead department)         | visited               |
| reopen   | reopens (charged to the department whose answer failed) | reopened             |

Every count is a condition on its family's rows (CONDITIONS); the same condition counts a
figure (GROUP BY in SQL) and finds the orders behind it (`orders_where`), so a figure and its
drill-down list always agree. Slices: the centre as a whole, a department with its sub-units
rolled up, the districts, top-level categories, channel, type, call taker, hour of day, day.
The rates, the change against the previous period and the floor are workflows/measures.py.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets.models import Assignment, ReturnVisit, Ticket, TicketEvent
from workflows import measures as wm
from workflows.states import Action, AssignmentRole, AssignmentStatus
from workflows.vocabulary import Channel, DepartmentLevel, Satisfaction, TicketType

_HAS_ASSIGNMENT = sa.exists().where(Assignment.ticket_id == Ticket.id, Assignment.parent_id.is_(None))
_REOPENED_FROM = TicketEvent.data["previous_department"].as_integer()
_SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)


@dataclass(frozen=True)
class Family:
    name: str
    entity: type
    #: The moment that places a row in a period.
    ref: sa.ColumnElement
    #: The order a row belongs to.
    ticket_id: sa.ColumnElement
    #: The department a row is charged to (None: the order's lead department).
    department: sa.ColumnElement
    where: tuple


FAMILIES = {f.name: f for f in (
    Family("intake", Ticket, Ticket.created_at, Ticket.id, Ticket.lead_department_id, ()),
    Family("dispatch", Assignment, Assignment.dispatched_at, Assignment.ticket_id, Assignment.department_id,
           (Assignment.parent_id.is_(None),)),
    # a withdrawn lead (return approved, merged, cancelled) is no longer due from that department
    Family("due", Assignment, Assignment.reply_due_at, Assignment.ticket_id, Assignment.department_id,
           (Assignment.parent_id.is_(None), Assignment.role == AssignmentRole.LEAD,
            Assignment.status != AssignmentStatus.WITHDRAWN)),
    Family("visit", ReturnVisit, ReturnVisit.visited_at, ReturnVisit.ticket_id, ReturnVisit.department_id, ()),
    Family("reopen", TicketEvent, TicketEvent.at, TicketEvent.ticket_id, _REOPENED_FROM,
           (TicketEvent.action == Action.REOPEN.value,)),
)}

#: name -> (family, condition on the family's rows given `now`; None: every row). One definition each.
CONDITIONS: dict[str, tuple[str, Callable[[datetime], sa.ColumnElement] | None]] = {
    "intake": ("intake", None),
    # answered on the spot and never sent to a department
    "direct": ("intake", lambda now: sa.and_(Ticket.answer.is_not(None), ~_HAS_ASSIGNMENT)),
    "dispatched_orders": ("intake", lambda now: _HAS_ASSIGNMENT),
    "dispatched": ("dispatch", None),
    "signed_on_time": ("dispatch", lambda now: sa.and_(Assignment.signed_at.is_not(None),
                                                       Assignment.signed_at <= Assignment.sign_due_at)),
    "contacted": ("dispatch", lambda now: sa.and_(Assignment.contacted_citizen.is_(True),
                                                  Assignment.replied_at <= Assignment.reply_due_at)),
    "returns": ("dispatch", lambda now: Assignment.return_reason.is_not(None)),
    "urged": ("dispatch", lambda now: Assignment.urge_count > 0),
    "due": ("due", None),
    "replied_on_time": ("due", lambda now: sa.and_(Assignment.replied_at.is_not(None),
                                                   Assignment.replied_at <= Assignment.reply_due_at)),
    "overdue": ("due", lambda now: sa.or_(Assignment.replied_at > Assignment.reply_due_at,
                                          sa.and_(Assignment.replied_at.is_(None), Assignment.reply_due_at < now))),
    "visits": ("visit", None),
    "resolved": ("visit", lambda now: ReturnVisit.is_resolved.is_(True)),
    "rated": ("visit", lambda now: ReturnVisit.satisfaction != Satisfaction.UNREACHABLE),
    "satisfied": ("visit", lambda now: ReturnVisit.satisfaction.in_(_SATISFIED)),
    "reopened": ("reopen", None),
}
#: Counts that add up a column rather than counting rows.
SUMS = {"urges": ("dispatch", Assignment.urge_count)}
#: The orders that fail a rate: what its figure drills down to.
FAILING = {
    "sign_late": ("dispatched", "signed_on_time"),
    "not_on_time": ("due", "replied_on_time"),
    "not_contacted": ("dispatched", "contacted"),
    "not_satisfied": ("rated", "satisfied"),
    "unresolved": ("rated", "resolved"),
}
#: What a drill-down may ask for.
DRILLABLE = tuple(CONDITIONS) + tuple(FAILING)
#: The slices a table may be cut by.
SLICES = ("department", "district", "category", "channel", "type", "call_taker", "hour", "day")


def family_of(name: str) -> str:
    if name in SUMS:
        return SUMS[name][0]
    return CONDITIONS[FAILING[name][0] if name in FAILING else name][0]


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local days start..end (inclusive) as [lo, hi) instants."""
    tz = sla.local_tz()
    return datetime.combine(start, time(0), tz), datetime.combine(end + timedelta(days=1), time(0), tz)


# -- local time in SQL ------------------------------------------------------------------------

def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def report_reads() -> None:
    """Ready the session's transaction for a report's reads: on PostgreSQL, no JIT compilation, and
    parallel workers (DATABASE_REPORT_WORKERS per step), for this transaction only. A report's aggregates
    over many rows are costed high enough to be compiled, and compiling them took far longer than running
    them (1.6 s of a dashboard at a million orders); the application's connections use no workers (a page
    stops after its rows), but a report's scan of months of orders shares its work among them (the ledger
    at a million orders: 0.75-0.84 s with two, 1.4-1.5 s without). Once per transaction; nothing on SQLite."""
    if not _postgres():
        return
    session = db.session()
    session.connection()  # begins the transaction when none has begun
    transaction = session.get_transaction()
    done = session.info.get("report_reads")
    if done is not None and done() is transaction:
        return
    workers = str(current_app.config["DATABASE_REPORT_WORKERS"])  # validated at start-up
    session.execute(sa.select(sa.func.set_config("jit", "off", True),
                              sa.func.set_config("max_parallel_workers_per_gather", workers, True)))
    session.info["report_reads"] = weakref.ref(transaction)


def _sqlite_shift(at: date) -> str:
    """SQLite keeps naive UTC: shift by the zone's offset on `at` (a zone with summer time is off by
    an hour across its change; PostgreSQL converts exactly)."""
    offset = sla.local_tz().utcoffset(datetime.combine(at, time(12)))
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def local_hour(ts, at: date) -> sa.ColumnElement:
    if _postgres():
        return sa.cast(sa.extract("hour", sa.func.timezone(sla.local_tz().key, ts)), sa.Integer)
    return sa.cast(sa.func.strftime("%H", ts, _sqlite_shift(at)), sa.Integer)


def local_day(ts, at: date) -> sa.ColumnElement:
    if _postgres():
        return sa.cast(sa.func.timezone(sla.local_tz().key, ts), sa.Date)
    return sa.func.date(ts, _sqlite_shift(at))


# -- counting ---------------------------------------------------------------------------------

def _ticket_dimension(dim: str) -> sa.ColumnElement | None:
    return {"channel": Ticket.channel, "type": Ticket.type, "category": Ticket.category_id,
            "call_taker": Ticket.created_by_id}.get(dim)


def _key(family: Family, dim: str | None, start: date) -> tuple[sa.ColumnElement | None, bool]:
    """The column a family's rows are grouped by for a slice, and whether it needs the order joined."""
    if dim is None:
        return None, False
    if dim in ("department", "district"):
        return family.department, False
    if dim == "hour":
        return local_hour(family.ref, start), False
    if dim == "day":
        return local_day(family.ref, start), False
    column = _ticket_dimension(dim)
    if column is None:
        raise ValueError(dim)
    return column, family.entity is not Ticket


def _count_names(family: str, only=None) -> list[str]:
    return [name for name, (fam, _c) in (*CONDITIONS.items(), *SUMS.items())
            if fam == family and (only is None or name in only)]


def _count_columns(family: str, now: datetime, only=None, inside: sa.ColumnElement | None = None,
                   prefix: str = "") -> list:
    """The family's counts as columns labelled prefix + name; `inside`: over the rows it holds for only."""
    cols = []
    for name in _count_names(family, only):
        if name in SUMS:
            column = SUMS[name][1]
            value = column if inside is None else sa.case((inside, column), else_=0)
        else:
            cond = CONDITIONS[name][1]
            cond = cond(now) if cond is not None else None
            if inside is not None:
                cond = inside if cond is None else sa.and_(inside, cond)
            if cond is None:
                cols.append(sa.func.count().label(prefix + name))
                continue
            value = sa.case((cond, 1), else_=0)
        cols.append(sa.func.sum(value).label(prefix + name))
    return cols


def raw_counts(start: date, end: date, dim: str | None, families=tuple(FAMILIES),
               now: datetime | None = None, only=None) -> dict:
    """{key: {count name: value}} for the rows of `families` in local days start..end, grouped by
    the slice's key (None for the centre as a whole). Keys are not yet rolled up. `only`: just
    these counts (a count of rows is much cheaper than one that looks at each order's assignments)."""
    return grouped_counts({None: (start, end)}, dim, families, now, only)[None]


def grouped_counts(periods: dict, dim: str | None, families=tuple(FAMILIES), now: datetime | None = None,
                   only=None) -> dict:
    """raw_counts of several periods at once: {period name: {key: {count name: value}}} for
    `periods` {name: (start, end)}, each family's rows read once (one query) for all of them, each
    count taken over the rows of its own period (the current and the previous period, a week and
    its history). On SQLite, hour and day are those of the first period's zone offset."""
    from hotline.core.base import utcnow
    now = now or utcnow()
    ranges = {name: bounds(start, end) for name, (start, end) in periods.items()}
    first = next(iter(periods.values()))[0]
    several = len(ranges) > 1
    out: dict = {name: {} for name in periods}
    report_reads()
    for family_name in families:
        family = FAMILIES[family_name]
        names = _count_names(family_name, only)
        if not names:
            continue
        key, join_ticket = _key(family, dim, first)
        columns = []
        for i, (lo, hi) in enumerate(ranges.values()):
            inside = sa.and_(family.ref >= lo, family.ref < hi) if several else None
            columns += _count_columns(family_name, now, only, inside, f"p{i}_")
            if several:  # a key is in a period's counts only when the period has rows of it
                columns.append(sa.func.sum(sa.case((inside, 1), else_=0)).label(f"p{i}_"))
        query = sa.select(*([key.label("key")] if key is not None else []), *columns).select_from(family.entity)
        if join_ticket:
            query = query.join(Ticket, Ticket.id == family.ticket_id)
        query = query.where(*family.where, _spanning(family.ref, list(ranges.values())))
        if key is not None:
            query = query.group_by(key)
        if family_name == "reopen" and dim in ("department", "district"):
            query = query.where(_REOPENED_FROM.is_not(None))
        for row in db.session.execute(query).mappings():
            k = _normalise(row["key"], dim) if key is not None else None
            for i, period_name in enumerate(ranges):
                if several and key is not None and not row[f"p{i}_"]:
                    continue
                target = out[period_name].setdefault(k, {})
                for name in names:
                    target[name] = target.get(name, 0) + int(row[f"p{i}_{name}"] or 0)
    return out


def _spanning(ref: sa.ColumnElement, ranges: list) -> sa.ColumnElement:
    """Rows in any of `ranges` [lo, hi): one range from the first start to the last end when they
    touch or overlap (one index range scan), else each range apart."""
    ordered = sorted(ranges, key=lambda r: r[0])
    if all(nxt[0] <= prev[1] for prev, nxt in zip(ordered, ordered[1:])):
        return sa.and_(ref >= ordered[0][0], ref < max(hi for _lo, hi in ordered))
    return sa.or_(*(sa.and_(ref >= lo, ref < hi) for lo, hi in ordered))


def _normalise(value, dim: str | None):
    if value is None:
        return None
    if dim == "day":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if dim in ("channel", "type"):
        return getattr(value, "value", value)
    return int(value) if dim in ("department", "district", "category", "call_taker", "hour") else value


def empty_counts(families=tuple(FAMILIES)) -> dict:
    names = [n for n, (f, _c) in CONDITIONS.items() if f in families] + [n for n, (f, _c) in SUMS.items()
                                                                          if f in families]
    return dict.fromkeys(names, 0)


def totals(start: date, end: date, families=tuple(FAMILIES), now: datetime | None = None) -> dict:
    """The centre's counts and rates for local days start..end."""
    return totals_of({None: (start, end)}, families, now)[None]


def totals_of(periods: dict, families=tuple(FAMILIES), now: datetime | None = None) -> dict:
    """totals of several periods {name: (start, end)} at once (each family read once): {name: totals}."""
    raw = grouped_counts(periods, None, families, now)
    return {name: wm.with_rates(empty_counts(families) | raw[name].get(None, {})) for name in periods}


# -- slices: buckets, their labels and their drill-down ------------------------------------------

@dataclass
class Bucket:
    key: object
    label: str
    #: Query parameters of the work-order list that select this bucket's orders.
    drill: dict
    sort: object = 0


def _english() -> bool:
    return str(get_locale() or "zh").startswith("en")


def _dept_rows() -> dict[int, sa.Row]:
    return {r.id: r for r in db.session.execute(sa.select(
        Department.id, Department.parent_id, Department.path, Department.level, Department.name,
        Department.name_en))}


def _dept_name(row) -> str:
    return (row.name_en or row.name) if _english() else row.name


def _ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def ranking_parent() -> int | None:
    """The department whose sub-units the ranking compares by default: the one root (the city
    government), or None when the tree has several roots."""
    roots = db.session.scalars(sa.select(Department.id).where(Department.parent_id.is_(None)).limit(2)).all()
    return roots[0] if len(roots) == 1 else None


def department_buckets(parent_id: int | None) -> tuple[Callable, list[Bucket]]:
    """The sub-units of `parent_id` (the roots when None), each with its own sub-units rolled up,
    and the parent itself for what was given to it directly (本级)."""
    from flask_babel import gettext as _
    depts = _dept_rows()
    children = sorted((d for d in depts.values() if d.parent_id == parent_id), key=lambda d: d.path)
    buckets = [Bucket(("unit", d.id), _dept_name(d), {"unit": d.id}, d.path) for d in children]
    if parent_id is not None and parent_id in depts:
        own = depts[parent_id]
        buckets.insert(0, Bucket(("dept", own.id), _("%(name)s (itself)", name=_dept_name(own)),
                                 {"unit": own.id, "exact": 1}, ""))

    def bucket_of(dept_id):
        d = depts.get(dept_id)
        if d is None:
            return None
        path = _ids(d.path)
        if parent_id is None:
            return ("unit", path[0])
        if parent_id not in path:
            return None
        i = path.index(parent_id)
        return ("dept", parent_id) if i == len(path) - 1 else ("unit", path[i + 1])
    return bucket_of, buckets


def district_buckets() -> tuple[Callable, list[Bucket]]:
    """The districts (the topmost district-level units), each with everything below it."""
    depts = _dept_rows()
    tops = {d.id for d in depts.values() if d.level == DepartmentLevel.DISTRICT
            and (d.parent_id is None or depts[d.parent_id].level != DepartmentLevel.DISTRICT)}
    buckets = [Bucket(("unit", i), _dept_name(depts[i]), {"unit": i}, depts[i].path) for i in tops]

    def bucket_of(dept_id):
        d = depts.get(dept_id)
        return next((("unit", i) for i in _ids(d.path) if i in tops), None) if d else None
    return bucket_of, sorted(buckets, key=lambda b: b.sort)


def category_buckets() -> tuple[Callable, list[Bucket]]:
    """Top-level categories, each with its sub-categories; orders without one apart."""
    from flask_babel import gettext as _
    rows = {r.id: r for r in db.session.execute(sa.select(Category.id, Category.parent_id, Category.code,
                                                          Category.name, Category.name_en))}

    def top(cid):
        seen = 0
        while cid in rows and rows[cid].parent_id is not None and seen < 20:
            cid, seen = rows[cid].parent_id, seen + 1
        return cid
    buckets = [Bucket(r.id, f"{r.code} {(r.name_en or r.name) if _english() else r.name}", {"category": r.code},
                      r.code) for r in rows.values() if r.parent_id is None]
    buckets.append(Bucket(None, _("No category"), {"uncategorised": 1}, "~"))
    return (lambda cid: top(cid) if cid is not None else None), sorted(buckets, key=lambda b: b.sort)


def _enum_buckets(enum_cls, param: str) -> tuple[Callable, list[Bucket]]:
    locale = str(get_locale() or "zh")
    return (lambda v: v), [Bucket(m.value, m.title_for(locale), {param: m.value}, i)
                           for i, m in enumerate(enum_cls)]


def call_taker_buckets(keys) -> tuple[Callable, list[Bucket]]:
    ids = [k for k in keys if k is not None]
    users = db.session.execute(sa.select(User.id, User.display_name, User.username).where(User.id.in_(ids))) \
        if ids else []
    return (lambda v: v), [Bucket(u.id, u.display_name or u.username, {"taker": u.id}, u.display_name or "")
                           for u in users]


def buckets_for(dim: str, keys, parent_id: int | None = None) -> tuple[Callable, list[Bucket]]:
    if dim == "department":
        return department_buckets(parent_id)
    if dim == "district":
        return district_buckets()
    if dim == "category":
        return category_buckets()
    if dim == "channel":
        return _enum_buckets(Channel, "channel")
    if dim == "type":
        return _enum_buckets(TicketType, "type")
    if dim == "call_taker":
        return call_taker_buckets(keys)
    if dim == "hour":
        return (lambda v: v), [Bucket(h, f"{h:02d}:00", {"hour": h}, h) for h in range(24)]
    raise ValueError(dim)


def table(start: date, end: date, dim: str, *, parent_id: int | None = None, families=tuple(FAMILIES),
          now: datetime | None = None, keep_empty: bool = True, only=None) -> list[dict]:
    """One row per bucket of the slice: label, drill-down parameters, counts and rates (`only`: see
    raw_counts; the other counts are 0)."""
    return _rows(raw_counts(start, end, dim, families, now, only), dim, parent_id, families, keep_empty)


def _rows(raw: dict, dim: str, parent_id: int | None, families, keep_empty: bool) -> list[dict]:
    """raw_counts of a slice rolled up into its buckets, one row each (see table)."""
    bucket_of, buckets = buckets_for(dim, raw.keys(), parent_id)
    sums: dict = {}
    for key, counts in raw.items():
        b = bucket_of(key)
        if b is None and dim in ("department", "district"):
            continue
        target = sums.setdefault(b, {})
        for name, value in counts.items():
            target[name] = target.get(name, 0) + value
    rows = []
    for bucket in buckets:
        counts = sums.get(bucket.key)
        if counts is None and not keep_empty:
            continue
        rows.append({"key": bucket.key, "label": bucket.label, "drill": bucket.drill,
                     **wm.with_rates(empty_counts(families) | (counts or {}))})
    return rows


#: The slices of intake that intake_tables counts in one query: those of the order itself.
INTAKE_SLICES = ("category", "channel", "type", "call_taker", "hour", "department", "district")


def intake_tables(start: date, end: date, dims: tuple[str, ...], now: datetime | None = None) -> dict:
    """{slice: table(start, end, slice, families=("intake",), only=("intake",))} of several slices of
    the intake, from one query (intake_grouped)."""
    raw = intake_grouped({None: (start, end)}, dims)[None]
    return {dim: _rows({k: {"intake": n} for k, n in raw[dim].items()}, dim, None, ("intake",), True)
            for dim in dims}


def intake_grouped(periods: dict, dims: tuple[str, ...]) -> dict:
    """The intake (orders registered) of several periods {name: (start, end)} by several slices of the
    order itself (INTAKE_SLICES), from one query grouped by all of those slices' columns (a few thousand
    groups at most): {period name: {slice: {key: count}}}, keys not rolled up, as raw_counts's."""
    if not dims or any(dim not in INTAKE_SLICES for dim in dims):
        raise ValueError(dims)
    family = FAMILIES["intake"]
    first = next(iter(periods.values()))[0]
    keys = {dim: _key(family, dim, first)[0] for dim in dims}
    columns = list(dict.fromkeys(keys.values()))  # department and district share one column
    position = {dim: next(i for i, c in enumerate(columns) if c is keys[dim]) for dim in dims}
    ranges = {name: bounds(start, end) for name, (start, end) in periods.items()}
    counts = [sa.func.sum(sa.case((sa.and_(family.ref >= lo, family.ref < hi), 1), else_=0)) if len(ranges) > 1
              else sa.func.count() for lo, hi in ranges.values()]
    report_reads()
    query = sa.select(*columns, *counts).where(*family.where, _spanning(family.ref, list(ranges.values()))) \
        .group_by(*columns)
    out: dict = {name: {dim: {} for dim in dims} for name in periods}
    for row in db.session.execute(query):
        for i, name in enumerate(ranges):
            n = int(row[len(columns) + i] or 0)
            if not n:
                continue
            for dim in dims:
                target = out[name][dim]
                k = _normalise(row[position[dim]], dim)
                target[k] = target.get(k, 0) + n
    return out


#: What a trend's points count (and the rate they make: on-time completion).
TREND = ("intake", "due", "replied_on_time")


def trend(start: date, end: date, step: str = "day", now: datetime | None = None) -> list[dict]:
    """Intake and the on-time completion rate per day (or ISO week) of the period (its counts: TREND)."""
    raw = raw_counts(start, end, "day", ("intake", "due"), now, only=TREND)
    days = [(d, dict.fromkeys(TREND, 0) | raw.get(d, {})) for d in wm.Period("custom", start, end).day_list()]
    if step == "week":
        points = []
        for label, counts in wm.fold_weeks(days):
            in_week = [d for d, _c in days if wm.iso_week(d) == label]
            points.append({"label": label, "drill": {"from": in_week[0].isoformat(), "to": in_week[-1].isoformat()},
                           **wm.with_rates(counts)})
        return points
    return [{"label": f"{d:%m-%d}", "drill": {"from": d.isoformat(), "to": d.isoformat()}, **wm.with_rates(c)}
            for d, c in days]


# -- the orders behind a figure -----------------------------------------------------------------

@dataclass(frozen=True)
class Drill:
    """What a drill-down asks for: a measure over local days start..end, within one bucket."""

    measure: str
    start: date
    end: date
    unit: int | None = None
    exact: bool = False
    taker: int | None = None
    hour: int | None = None
    uncategorised: bool = False


def orders_where(drill: Drill, now: datetime) -> sa.ColumnElement:
    """A condition on Ticket: the orders behind the figure `drill` names (the same conditions and
    the same period as the figure's count). A figure counts rows of its family: where one order has
    two of them in a bucket (returned and sent again within one district), the list shows it once."""
    name = drill.measure
    if name in FAILING:
        whole, part = FAILING[name]
        family_name, base = CONDITIONS[whole]
        cond = sa.not_(CONDITIONS[part][1](now))
        if base is not None:
            cond = sa.and_(base(now), cond)
    else:
        family_name, make = CONDITIONS[name]
        cond = make(now) if make is not None else None
    family = FAMILIES[family_name]
    lo, hi = bounds(drill.start, drill.end)
    where = [*family.where, family.ref >= lo, family.ref < hi]
    if cond is not None:
        where.append(cond)
    if drill.unit is not None:
        if drill.exact:
            where.append(family.department == drill.unit)
        else:
            path = sa.select(Department.path).where(Department.id == drill.unit).scalar_subquery()
            where.append(family.department.in_(
                sa.select(Department.id).where(Department.path.like(path + "%"))))
    if drill.hour is not None:
        where.append(local_hour(family.ref, drill.start) == drill.hour)
    # channel, type and category are the work-order list's own filters, applied beside this one
    ticket_where = []
    if drill.taker is not None:
        ticket_where.append(Ticket.created_by_id == drill.taker)
    if drill.uncategorised:
        ticket_where.append(Ticket.category_id.is_(None))
    if family.entity is Ticket:
        return sa.and_(*where, *ticket_where)
    return sa.and_(Ticket.id.in_(sa.select(family.ticket_id).where(*where)), *ticket_where)
