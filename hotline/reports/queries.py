"""Department measures of DOMAIN.md, one definition used by every report."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.core.base import utcnow
from hotline.core.errors import Invalid
from hotline.core.fields import YEARS
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets.models import Assignment, ReturnVisit, TicketEvent
from workflows.states import Action, AssignmentRole, AssignmentStatus
from workflows.vocabulary import Satisfaction


def period(args) -> tuple[date, date]:
    """`from` and `to` (inclusive local dates); default: the last 30 days."""
    errors = {}
    values = {}
    today = sla.local_date(utcnow())
    for name, default in (("from", today - timedelta(days=29)), ("to", today)):
        raw = args.get(name)
        try:
            values[name] = default if raw in (None, "") else date.fromisoformat(raw)
            if not YEARS[0] <= values[name].year <= YEARS[1]:
                raise ValueError
        except ValueError:
            errors[name] = _("Must be a date like 2026-11-22.")
    if not errors and values["from"] > values["to"]:
        errors["to"] = _("Must not be before the start date.")
    if errors:
        raise Invalid(_("Some fields need fixing."), fields=errors)
    return values["from"], values["to"]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = sla.local_tz()
    return (datetime.combine(start, time(0), tz), datetime.combine(end + timedelta(days=1), time(0), tz))


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def department_measures(start: date, end: date) -> list[dict]:
    """Per department: dispatched, signed on time, replied on time, overdue, returns, reopened,
    visits, resolution and satisfaction rates, for orders in [start, end]."""
    lo, hi = _bounds(start, end)
    now = utcnow()
    top = Assignment.parent_id.is_(None)
    count_if = lambda cond: sa.func.sum(sa.case((cond, 1), else_=0))  # noqa: E731
    dispatched = {row.department_id: row for row in db.session.execute(
        sa.select(Assignment.department_id,
                  sa.func.count().label("dispatched"),
                  count_if(sa.and_(Assignment.signed_at.is_not(None),
                                   Assignment.signed_at <= Assignment.sign_due_at)).label("signed_on_time"),
                  count_if(sa.and_(Assignment.contacted_citizen.is_(True),
                                   Assignment.replied_at <= Assignment.reply_due_at)).label("contacted"),
                  count_if(Assignment.return_reason.is_not(None)).label("returns"),
                  sa.func.sum(Assignment.urge_count).label("urges"))
        .where(top, Assignment.dispatched_at >= lo, Assignment.dispatched_at < hi)
        .group_by(Assignment.department_id))}
    due = {row.department_id: row for row in db.session.execute(
        sa.select(Assignment.department_id,
                  sa.func.count().label("due"),
                  count_if(sa.and_(Assignment.replied_at.is_not(None),
                                   Assignment.replied_at <= Assignment.reply_due_at)).label("replied_on_time"),
                  count_if(sa.or_(Assignment.replied_at > Assignment.reply_due_at,
                                  sa.and_(Assignment.replied_at.is_(None), Assignment.reply_due_at < now))
                           ).label("overdue"))
        # a withdrawn lead (return approved, merged, cancelled) is no longer due from that department
        .where(top, Assignment.role == AssignmentRole.LEAD, Assignment.status != AssignmentStatus.WITHDRAWN,
               Assignment.reply_due_at >= lo, Assignment.reply_due_at < hi)
        .group_by(Assignment.department_id))}
    visits = {row.department_id: row for row in db.session.execute(
        sa.select(ReturnVisit.department_id,
                  sa.func.count().label("visits"),
                  count_if(ReturnVisit.is_resolved.is_(True)).label("resolved"),
                  count_if(ReturnVisit.satisfaction != Satisfaction.UNREACHABLE).label("rated"),
                  count_if(ReturnVisit.satisfaction.in_([Satisfaction.SATISFIED,
                                                         Satisfaction.BASICALLY_SATISFIED])).label("satisfied"))
        .where(ReturnVisit.visited_at >= lo, ReturnVisit.visited_at < hi, ReturnVisit.department_id.is_not(None))
        .group_by(ReturnVisit.department_id))}
    # a reopen counts against the department whose answer the citizen rejected
    reopened: dict[int, int] = {}
    for data in db.session.scalars(sa.select(TicketEvent.data).where(
            TicketEvent.action == Action.REOPEN.value, TicketEvent.at >= lo, TicketEvent.at < hi)):
        dept_id = (data or {}).get("previous_department")
        if dept_id:
            reopened[dept_id] = reopened.get(dept_id, 0) + 1
    ids = set(dispatched) | set(due) | set(visits) | set(reopened)
    depts = {d.id: d for d in db.session.scalars(sa.select(Department).where(Department.id.in_(ids)))}
    out = []
    for dept_id in sorted(ids, key=lambda i: depts[i].path):
        d, u, v = dispatched.get(dept_id), due.get(dept_id), visits.get(dept_id)
        n_dispatched = d.dispatched if d else 0
        n_due = u.due if u else 0
        n_visits = v.visits if v else 0
        out.append({
            "department": {"id": dept_id, "name": depts[dept_id].name, "code": depts[dept_id].code},
            "dispatched": n_dispatched,
            "signed_on_time": int(d.signed_on_time or 0) if d else 0,
            "on_time_sign_rate": _rate(int(d.signed_on_time or 0), n_dispatched) if d else None,
            "due": n_due,
            "replied_on_time": int(u.replied_on_time or 0) if u else 0,
            "on_time_completion_rate": _rate(int(u.replied_on_time or 0), n_due) if u else None,
            "overdue": int(u.overdue or 0) if u else 0,
            "response_rate": _rate(int(d.contacted or 0), n_dispatched) if d else None,
            "returns": int(d.returns or 0) if d else 0,
            "return_rate": _rate(int(d.returns or 0), n_dispatched) if d else None,
            "urges": int(d.urges or 0) if d else 0,
            "reopened": reopened.get(dept_id, 0),
            "visits": n_visits,
            # unreachable visits say nothing about resolution or satisfaction
            "resolution_rate": _rate(int(v.resolved or 0), int(v.rated or 0)) if v else None,
            "satisfaction_rate": _rate(int(v.satisfied or 0), int(v.rated or 0)) if v else None,
        })
    return out
