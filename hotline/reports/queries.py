"""Reads for the API's reports: the period asked for, and the departments' measures."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.core.base import utcnow
from hotline.core.errors import Invalid
from hotline.core.fields import YEARS
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.reports import measures
from hotline.sla import service as sla
from workflows import measures as wm


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


def department_measures(start: date, end: date) -> list[dict]:
    """Per department, each on its own (no roll-up): dispatched, signed on time, replied on time,
    overdue, returns, reopened, visits, resolution and satisfaction rates, for local days
    start..end (the API's report; the measures are hotline/reports/measures.py's)."""
    raw = measures.raw_counts(start, end, "department")
    raw.pop(None, None)
    depts = {d.id: d for d in db.session.scalars(sa.select(Department).where(Department.id.in_(list(raw))))}
    out = []
    for dept_id in sorted(raw, key=lambda i: depts[i].path):
        c = wm.with_rates(measures.empty_counts() | raw[dept_id])
        out.append({
            "department": {"id": dept_id, "name": depts[dept_id].name, "code": depts[dept_id].code},
            **{k: c[k] for k in ("dispatched", "signed_on_time", "on_time_sign_rate", "due", "replied_on_time",
                                 "on_time_completion_rate", "overdue", "response_rate", "returns", "return_rate",
                                 "urges", "reopened", "visits", "resolution_rate", "satisfaction_rate")},
        })
    return out
