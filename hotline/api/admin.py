"""Administration over the API: the working-day calendar and SLA policies, as data."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _

from hotline.api.blueprint import bp
from hotline.api.common import api_user, json_body, require, writes
from hotline.core.errors import Invalid, NotFound
from hotline.core.fields import Fields
from hotline.extensions import db
from hotline.sla import operations as sla_operations
from hotline.sla import service
from hotline.sla.models import CalendarDay, CalendarYear, SlaPolicy
from hotline.tickets import permissions
from workflows.deadlines import CalendarMissing


def _day(value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Some fields need fixing."), fields={"date": _("Must be a date like 2026-11-22.")}) from None


@bp.get("/calendar")
def calendar_days():
    """The days of one year: working or not, with holiday names."""
    api_user()
    f = Fields(dict(request.args))
    year = f.integer("year", required=True, low=2000, high=2100)
    f.done()
    known = db.session.get(CalendarYear, year)
    rows = db.session.scalars(sa.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).order_by(CalendarDay.day))
    return jsonify({"year": year, "source": known.source if known else None, "is_known": known is not None,
                    "items": [{"date": d.day.isoformat(), "is_workday": d.is_workday, "note": d.note} for d in rows]})


@bp.put("/calendar/<day>")
@writes
def calendar_set_day(day: str):
    """An administrator marks one day as working or not (e.g. a newly announced make-up day)."""
    require(permissions.can_manage, api_user())
    when = _day(day)
    f = Fields(json_body())
    is_workday = f.boolean("is_workday", required=True)
    note = f.text("note", max_len=60)
    f.done()
    try:
        sla_operations.set_day(when, is_workday, note)
    except CalendarMissing as err:
        raise service.calendar_unavailable(err) from None
    return jsonify({"date": when.isoformat(), "is_workday": is_workday, "note": note})


def _policy_json(p: SlaPolicy) -> dict:
    return {"id": p.id, "step": p.step, "urgency": p.urgency.value if p.urgency else None,
            "ticket_type": p.ticket_type.value if p.ticket_type else None, "amount": p.amount,
            "unit": p.unit.value}


@bp.get("/sla-policies")
def sla_policies():
    api_user()
    rows = db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.step, SlaPolicy.id))
    return jsonify({"items": [_policy_json(p) for p in rows]})


@bp.put("/sla-policies/<int(max=2147483647):policy_id>")
@writes
def sla_policy_update(policy_id: int):
    """Change how long a step may take; new dispatches use it at once, existing deadlines stay."""
    user = api_user()
    require(permissions.can_manage, user)
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(_("There is nothing at this address."))
    sla_operations.update_policy(user, policy, json_body())
    return jsonify(_policy_json(policy))
