"""The orders behind a figure, as a filter of the work-order list.

`/tickets?measure=overdue&from=2026-06-01&to=2026-06-30&unit=17` lists the orders the figure
counts: the measure over those local days, within department 17 and its sub-units (`exact=1`:
that department alone), a call taker (`taker`), an hour of day (`hour`), or orders without a
category (`uncategorised=1`). Channel, type and category are the list's own filters.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.fields import YEARS, Fields
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.reports import labels, measures
from hotline.tickets.filters import register_list_filter

PARAMS = ("measure", "from", "to", "unit", "exact", "taker", "hour", "uncategorised")


def _date(f: Fields, name: str) -> date | None:
    raw = f.text(name, max_len=10)
    if raw is None:
        f.error(name, _("This field is required."))
        return None
    try:
        value = date.fromisoformat(raw)
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise ValueError
        return value
    except ValueError:
        f.error(name, _("Must be a date like 2026-11-22."))
        return None


def parse(f: Fields) -> measures.Drill | None:
    """The drill-down the list's parameters ask for; None when they ask for none."""
    if all(f.data.get(p) in (None, "") for p in PARAMS):
        return None
    name = f.text("measure", max_len=40)
    if name is None:
        f.error("measure", _("Say which figure's orders to list."))
    elif name not in measures.DRILLABLE:
        f.error("measure", _("Must be one of: %(values)s.", values=", ".join(measures.DRILLABLE)))
    start, end = _date(f, "from"), _date(f, "to")
    if start and end and start > end:
        f.error("to", _("Must not be before the start date."))
    unit = f.integer("unit", low=1)
    exact = f.boolean("exact", default=False)
    taker = f.integer("taker", low=1)
    hour = f.integer("hour", low=0, high=23)
    uncategorised = f.boolean("uncategorised", default=False)
    if f.errors:
        return None
    return measures.Drill(name, start, end, unit=unit, exact=bool(exact), taker=taker, hour=hour,
                          uncategorised=bool(uncategorised))


def condition(f: Fields, now: datetime) -> sa.ColumnElement | None:
    drill = parse(f)
    return measures.orders_where(drill, now) if drill is not None else None


def describe(args: dict) -> str | None:
    """"Orders behind the figure: Overdue · 2026-06-01 – 2026-06-30 · 东城区 and its sub-units"."""
    f = Fields(dict(args))
    drill = parse(f)
    if drill is None:
        return None
    parts = [str(labels.TITLES.get(drill.measure, drill.measure)),
             drill.start.isoformat() if drill.start == drill.end
             else f"{drill.start.isoformat()} – {drill.end.isoformat()}"]
    if drill.unit is not None:
        dept = db.session.get(Department, drill.unit)
        name = dept.name if dept else str(drill.unit)
        parts.append(name if drill.exact else _("%(name)s and its sub-units", name=name))
    if drill.taker is not None:
        user = db.session.get(User, drill.taker)
        parts.append(user.display_name if user else str(drill.taker))
    if drill.hour is not None:
        parts.append(f"{drill.hour:02d}:00–{drill.hour:02d}:59")
    if drill.uncategorised:
        parts.append(_("No category"))
    return _("Orders behind the figure: %(what)s", what=" · ".join(parts))


def install(app: Flask) -> None:
    register_list_filter(app, "measure", PARAMS, condition, describe=describe)
