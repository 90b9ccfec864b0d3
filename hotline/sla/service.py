"""The application's view of deadlines: calendar and policies from the database."""
from __future__ import annotations

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _

from hotline.core.errors import Unavailable
from hotline.core.recent import Recent
from hotline.extensions import db
from hotline.sla.models import CalendarDay, CalendarYear, SlaPolicy
from workflows import deadlines as dl

_cache_lock = threading.Lock()
_cache: dict[str, object] = {"key": None, "calendar": None}


def local_tz() -> ZoneInfo:
    if has_app_context():
        return ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    return dl.DEFAULT_TZ


#: The calendar's year versions and the policy rows, looked at once every few seconds per process
#: (at once again after this process edits them; hotline/core/recent.py), however many deadlines
#: the requests compute.
_versions = Recent(CalendarYear, CalendarDay)
_policies = Recent(SlaPolicy)


def calendar() -> dl.WorkCalendar:
    """The working-day calendar, reloaded whenever an administrator edits it."""
    versions = _versions.get("versions", lambda: tuple(tuple(row) for row in db.session.execute(
        sa.select(CalendarYear.year, CalendarYear.version).order_by(CalendarYear.year))))
    key = (str(db.engine.url), versions)
    with _cache_lock:
        if _cache["key"] == key:
            return _cache["calendar"]  # type: ignore[return-value]
    rows = db.session.execute(sa.select(CalendarDay.day, CalendarDay.is_workday)).all()
    cal = dl.WorkCalendar({d: w for d, w in rows}, [y for y, _ in versions])
    with _cache_lock:
        _cache.update(key=key, calendar=cal)
    return cal


def policies() -> list[dl.PolicyRow]:
    """SLA policy rows."""
    return _policies.get("rows", lambda: [
        dl.PolicyRow(p.step, p.urgency.value if p.urgency else None,
                     p.ticket_type.value if p.ticket_type else None, dl.Rule(p.amount, p.unit))
        for p in db.session.scalars(sa.select(SlaPolicy))])


def rule(step: str, urgency: str, ticket_type: str) -> dl.Rule:
    return dl.pick_rule(policies(), step, str(urgency), str(ticket_type))


def rule_or_none(step: str, urgency: str, ticket_type: str) -> dl.Rule | None:
    """The rule for a step that does not apply to every case (return window, extensions)."""
    try:
        return rule(step, urgency, ticket_type)
    except dl.PolicyMissing:
        return None


def calendar_unavailable(err: dl.CalendarMissing) -> Unavailable:
    """A missing calendar year as the clear 503 every entry point answers (never a 500).

    The message names the year and how to fix it (`hotline calendar import YEAR`).
    """
    return Unavailable(_("No working-day calendar for %(year)d: import it with `hotline calendar import %(year)d` "
                         "or enter it under Administration → Calendar.", year=err.year), code="calendar_missing")


def due(start: datetime, step: str, urgency: str, ticket_type: str) -> datetime:
    """When `step` is due for a case of this urgency and type, started at `start`.

    Raises Unavailable (503, code calendar_missing) when a working-day rule reaches a
    year the calendar does not know.
    """
    return due_with(start, rule(step, urgency, ticket_type))


def due_with(start: datetime, chosen: dl.Rule) -> datetime:
    """`start` plus the length of `chosen`; Unavailable (calendar_missing) outside the known years."""
    try:
        return dl.due_at(start, chosen, calendar(), local_tz())
    except dl.CalendarMissing as err:
        raise calendar_unavailable(err) from err


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` working days; Unavailable (calendar_missing) outside the known years."""
    try:
        return dl.add_working_days(start, days, calendar(), local_tz())
    except dl.CalendarMissing as err:
        raise calendar_unavailable(err) from err


def working_days_before(end: datetime, days: int) -> datetime:
    """The moment before which something must lie to be `days` working days or more before `end`
    (workflows.deadlines.working_days_before); Unavailable (calendar_missing) outside the known years."""
    try:
        return dl.working_days_before(end, days, calendar(), local_tz())
    except dl.CalendarMissing as err:
        raise calendar_unavailable(err) from err


def format_local(at: datetime) -> str:
    """A moment as people here read it: local "2026-11-22 09:30"."""
    return at.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M")


def local_date(at: datetime) -> date:
    return at.astimezone(local_tz()).date()


def ticket_sla(ticket, now: datetime) -> dict:
    """{state, due_at} of an order at `now`: green, yellow (75% used) or red (overdue)."""
    from workflows.states import TicketStatus as S

    if ticket.due_at is None or ticket.status in (S.MERGED, S.CANCELLED, S.REGISTERED):
        return {"state": dl.GREEN, "due_at": ticket.due_at}
    done_at = {S.REPLIED: ticket.replied_at, S.CLOSED: ticket.closed_at}.get(ticket.status)
    start = ticket.sla_started_at or ticket.created_at
    return {"state": dl.sla_state(start, ticket.due_at, now, done_at=done_at), "due_at": ticket.due_at}


def assignment_sla(assignment, now: datetime) -> dict:
    """Sign-for and reply states of one assignment."""
    sign = dl.sla_state(assignment.dispatched_at, assignment.sign_due_at, now, done_at=assignment.signed_at)
    reply = dl.sla_state(assignment.dispatched_at, assignment.reply_due_at, now, done_at=assignment.replied_at)
    return {"sign": sign, "reply": reply}
