"""Category ledgers (分类台账): the orders registered in a period, by category and type, each with its
state and timeliness, and a summary per category; printable and exported.

Timeliness is the measures module's own definition (`measures.CONDITIONS`): an order is judged by
its current lead assignment, replied by its (extended) deadline or not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from hotline.categories.models import Category
from hotline.core.errors import Invalid
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.reports import measures, workspace
from hotline.sla import service as sla
from hotline.tickets.models import Assignment, Ticket
from workflows import measures as wm
from workflows.states import AssignmentRole, AssignmentStatus, TicketStatus
from workflows.vocabulary import Satisfaction, TicketType

#: At most this many orders on the page (the export has them all, up to EXPORT_LIMIT).
PAGE_LIMIT = 500
EXPORT_LIMIT = 50000

#: An order's timeliness in the ledger, in the order the summary shows them.
TIMELINESS = {
    "on_time": _l("Replied on time"),
    "late": _l("Replied late"),
    "overdue": _l("Overdue, no reply"),
    "running": _l("Within its deadline"),
    "direct": _l("Answered directly"),
    "none": _l("Not dispatched"),
}
#: States after which an order is no longer worked on.
FINISHED = (TicketStatus.CLOSED, TicketStatus.MERGED, TicketStatus.CANCELLED)


@dataclass(frozen=True)
class Filters:
    period: wm.Period
    type: TicketType | None = None
    category: str | None = None      # a category code: that category and everything below it


@dataclass
class Entry:
    number: str
    registered: datetime
    category_code: str
    category: str
    type: TicketType
    subject: str
    department: str
    status: TicketStatus
    due_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    timeliness: str
    satisfaction: Satisfaction | None


def parse_filters(args, today, categories: dict[str, str]) -> Filters:
    """The ledger's period, type and category; raises Invalid naming the field to fix."""
    period = workspace.parse_period(args, today)
    errors = {}
    ticket_type = None
    if args.get("type"):
        try:
            ticket_type = TicketType(args["type"])
        except ValueError:
            errors["type"] = _("Choose a type from the list.")
    code = (args.get("category") or "").strip() or None
    if code and code not in categories:
        errors["category"] = _("Choose a category from the list.")
    if errors:
        raise Invalid(_("Some fields need fixing."), fields=errors)
    return Filters(period, ticket_type, code)


def _lead():
    """The order's current lead assignment (the newest one not withdrawn; a reopened order has two)."""
    return (sa.select(sa.func.max(Assignment.id)).where(
        Assignment.ticket_id == Ticket.id, Assignment.parent_id.is_(None), Assignment.role == AssignmentRole.LEAD,
        Assignment.status != AssignmentStatus.WITHDRAWN).correlate(Ticket).scalar_subquery())


def _timeliness(now: datetime) -> sa.ColumnElement:
    on_time = measures.CONDITIONS["replied_on_time"][1](now)
    overdue = measures.CONDITIONS["overdue"][1](now)
    return sa.case(
        (Assignment.id.is_(None), sa.case((Ticket.answer.is_not(None), "direct"), else_="none")),
        (on_time, "on_time"),
        (sa.and_(overdue, Assignment.replied_at.is_not(None)), "late"),
        (overdue, "overdue"),
        else_="running")


def query(filters: Filters, now: datetime) -> sa.Select:
    lo, hi = measures.bounds(filters.period.start, filters.period.end)
    lead_dept = aliased(Department)
    english = str(get_locale() or "zh").startswith("en")
    q = (sa.select(Ticket.number, Ticket.created_at, Category.code, Category.name_en if english else Category.name,
                   Category.name, Ticket.type, Ticket.subject, lead_dept.name_en if english else lead_dept.name,
                   lead_dept.name, Ticket.status, Assignment.reply_due_at, Assignment.replied_at, Ticket.closed_at,
                   _timeliness(now), Ticket.satisfaction)
         .outerjoin(Category, Category.id == Ticket.category_id)
         .outerjoin(Assignment, Assignment.id == _lead())
         .outerjoin(lead_dept, lead_dept.id == Assignment.department_id)
         .where(Ticket.created_at >= lo, Ticket.created_at < hi))
    if filters.type is not None:
        q = q.where(Ticket.type == filters.type)
    if filters.category:
        q = q.where(sa.or_(Category.code == filters.category, Category.code.startswith(filters.category)))
    return q.order_by(Category.code.is_(None), Category.code, Ticket.created_at, Ticket.id)


def entries(filters: Filters, now: datetime, limit: int) -> list[Entry]:
    rows = db.session.execute(query(filters, now).limit(limit))
    return [Entry(number=r[0], registered=r[1], category_code=r[2] or "", category=r[3] or r[4] or _("No category"),
                  type=TicketType(r[5]), subject=r[6], department=r[7] or r[8] or "", status=TicketStatus(r[9]),
                  due_at=r[10], replied_at=r[11], closed_at=r[12], timeliness=r[13],
                  satisfaction=Satisfaction(r[14]) if r[14] else None) for r in rows]


def summary(filters: Filters, now: datetime) -> list[dict]:
    """Per category of the ledger: orders, finished, and each timeliness; the on-time completion
    rate of the orders that were due (replied on time / replied on time, late or overdue)."""
    q = query(filters, now).order_by(None).subquery()
    cols = list(q.c)
    code, name, name_zh, status, timeliness = cols[2], cols[3], cols[4], cols[9], cols[13]
    rows = db.session.execute(
        sa.select(code, name, name_zh, timeliness, status, sa.func.count())
        .group_by(code, name, name_zh, timeliness, status).order_by(code.is_(None), code))
    out: dict[str | None, dict] = {}
    for c, n, nz, t, s, count in rows:
        row = out.setdefault(c, {"code": c or "", "label": f"{c} {n or nz}" if c else _("No category"),
                                 "orders": 0, "finished": 0, **{k: 0 for k in TIMELINESS}})
        row["orders"] += count
        row[t] += count
        if TicketStatus(s) in FINISHED:
            row["finished"] += count
    result = list(out.values())
    total = {"code": None, "label": _("Total"), "orders": 0, "finished": 0, **{k: 0 for k in TIMELINESS}}
    for row in result:
        for key in ("orders", "finished", *TIMELINESS):
            total[key] += row[key]
    for row in (*result, total):
        judged = row["on_time"] + row["late"] + row["overdue"]
        row["rate"] = row["on_time"] / judged if judged else None
    return result + ([total] if result else [])


def categories() -> dict[str, str]:
    """code -> label of the categories a ledger can be kept for: the top two levels."""
    english = str(get_locale() or "zh").startswith("en")
    rows = db.session.execute(sa.select(Category.id, Category.code, Category.name, Category.name_en,
                                        Category.parent_id).order_by(Category.code)).all()
    tops = {r.id for r in rows if r.parent_id is None}
    return {r.code: f"{r.code} {(r.name_en or r.name) if english else r.name}" for r in rows
            if r.parent_id is None or r.parent_id in tops}


def local(at: datetime | None) -> str:
    return sla.format_local(at) if at else ""
