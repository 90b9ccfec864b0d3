"""Every write to the deadline tables: the working-day calendar and the SLA policies."""
from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.fields import Fields
from hotline.extensions import db
from hotline.sla.models import CalendarDay, CalendarYear, SlaPolicy
from workflows import deadlines as dl
from workflows.deadlines import Unit

log = logging.getLogger(__name__)


def update_policy(actor: User, policy: SlaPolicy, data: dict) -> SlaPolicy:
    """Set how long a step may take; new dispatches use it at once, existing deadlines stay."""
    f = Fields(data)
    amount = f.integer("amount", required=True, low=0, high=100000)
    unit = f.text("unit", max_len=20)
    if unit is not None and unit not in [u.value for u in Unit]:
        f.error("unit", _("Must be one of: %(values)s.", values=", ".join(u.value for u in Unit)))
    f.done()
    before = (policy.amount, policy.unit.value)
    policy.amount = amount
    if unit:
        policy.unit = Unit(unit)
    db.session.flush()
    log.info("SLA policy %s (%s/%s/%s) changed by %s from %s to %s", policy.id, policy.step, policy.urgency,
             policy.ticket_type, actor.username, before, (policy.amount, policy.unit.value))
    return policy


def import_year(year: int, *, provisional: bool = False) -> int:
    """Load a year's working days (official, or Mon–Fri when provisional); returns days written.

    Raises CalendarMissing when the official calendar doesn't know the year.
    """
    days = dl.weekday_calendar(year) if provisional else dl.official_calendar(year)
    notes = {} if provisional else dl.official_holiday_names(year)
    db.session.execute(sa.delete(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))
    db.session.execute(sa.insert(CalendarDay), [
        {"day": d, "is_workday": w, "note": notes.get(d)} for d, w in sorted(days.items())])
    row = db.session.get(CalendarYear, year)
    source = "weekdays" if provisional else "chinesecalendar"
    if row is None:
        db.session.add(CalendarYear(year=year, source=source, version=1))
    else:
        row.source = source
        row.version += 1
    db.session.flush()
    return len(days)


def set_day(day: date, is_workday: bool, note: str | None = None) -> None:
    """An administrator's edit of one day; the year must already be known."""
    year = db.session.get(CalendarYear, day.year)
    if year is None:
        raise dl.CalendarMissing(day.year)
    row = db.session.get(CalendarDay, day)
    if row is None:
        db.session.add(CalendarDay(day=day, is_workday=is_workday, note=note))
    else:
        row.is_workday, row.note = is_workday, note
    year.source = "manual" if year.source == "weekdays" else year.source
    year.version += 1
    db.session.flush()


def install_default_policies() -> int:
    """Write DOMAIN.md's default SLA policies where none exist; returns rows added."""
    existing = {(p.step, p.urgency, p.ticket_type) for p in db.session.scalars(sa.select(SlaPolicy))}
    added = 0
    for row in dl.DEFAULT_POLICIES:
        key = (row.step, row.urgency, row.ticket_type)
        if key in existing:
            continue
        db.session.add(SlaPolicy(step=row.step, urgency=row.urgency, ticket_type=row.ticket_type,
                                 amount=row.rule.amount, unit=row.rule.unit))
        added += 1
    db.session.flush()
    return added
