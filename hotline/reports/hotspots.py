"""Hotspots (热点) found in the database: the counts behind workflows/hotspots.py's test.

Candidates: every category an order was filed under (as filed: 占道经营, not only 城市管理), and
every district and street, each with what was sent to its units below (an order counts for its
street and for its district). What is counted is the measures' intake (hotline/reports/measures.py:
orders registered in the period; an area is the order's lead department), so a hotspot's figure
and the list it drills down to are the dashboard's own.

History: the 8 weeks before a week, the 6 months before a month, never before the first order
the centre registered (a new installation does not compare with weeks it did not exist).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from hotline.categories.models import Category
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.reports import measures
from hotline.sla import service as sla
from hotline.tickets.models import Ticket
from workflows import hotspots as hs
from workflows import measures as wm
from workflows.vocabulary import DepartmentLevel

AREA_LEVELS = (DepartmentLevel.DISTRICT, DepartmentLevel.STREET)


def history_of(period: wm.Period) -> tuple[date, date]:
    """The days a week or month is compared with (anything else: the 8 weeks before it)."""
    end = period.start - timedelta(days=1)
    if period.kind == "month":
        start = period.start
        for _i in range(hs.HISTORY_MONTHS):
            start = wm.unit_start("month", start - timedelta(days=1))
        return start, end
    return period.start - timedelta(weeks=hs.HISTORY_WEEKS), end


def assessed_period(period: wm.Period) -> wm.Period:
    """The period a page's hotspots are about: a week or a month itself; for a quarter or a custom range,
    the week its last day falls in (up to that day): hotspots are news, not a long average."""
    if period.kind in ("week", "month"):
        return period
    return wm.Period("week", wm.unit_start("week", period.end), period.end)


def _first_order_day() -> date | None:
    first = db.session.scalar(sa.select(sa.func.min(Ticket.created_at)))
    if first is None:
        return None
    if first.tzinfo is None:  # SQLite keeps naive UTC
        from datetime import timezone
        first = first.replace(tzinfo=timezone.utc)
    return sla.local_date(first)


def _areas(by_department: dict) -> tuple[dict, dict]:
    """Counts per lead department rolled up to every district and street above it; and those areas' rows."""
    depts = {r.id: r for r in db.session.execute(sa.select(
        Department.id, Department.path, Department.level, Department.name, Department.name_en, Department.parent_id))}
    areas = {i for i, d in depts.items() if d.level in AREA_LEVELS}
    out: dict[int, int] = {}
    for dept_id, count in by_department.items():
        d = depts.get(dept_id)
        if d is None:
            continue
        for i in measures._ids(d.path):
            if i in areas:
                out[i] = out.get(i, 0) + count
    return out, depts


def history_window(period: wm.Period) -> tuple[date, date] | None:
    """The days `period` is compared with, from the first order the centre registered; None: no history yet."""
    start, end = history_of(period)
    first = _first_order_day()
    if first is None:
        return None
    start = max(start, first)
    return (start, end) if start <= end else None


def find(period: wm.Period, now: datetime) -> list[dict]:
    """The hotspots of `period` (a week or month; see assessed_period for others), most significant first:
    kind (category or area), key, label, count, expected, ratio, p_value and the list's query (drill)."""
    days = period.days
    window = history_window(period)
    if window is None:
        return []
    hist_start, hist_end = window
    history_days = (hist_end - hist_start).days + 1
    out = []
    counts = measures.intake_grouped({"current": (period.start, period.end), "history": (hist_start, hist_end)},
                                     ("category", "department"))
    counts = {name: {dim: {k: n for k, n in by_key.items() if k is not None} for dim, by_key in c.items()}
              for name, c in counts.items()}
    # categories, as filed
    current, history = counts["current"]["category"], counts["history"]["category"]
    found = hs.hotspots(current, history, history_days, days)
    if found:
        cats = {c.id: c for c in db.session.execute(sa.select(Category.id, Category.code, Category.name,
                                                              Category.name_en).where(
            Category.id.in_([k for k, _r in found])))}
        for key, r in found:
            c = cats[key]
            name = (c.name_en or c.name) if measures._english() else c.name
            out.append(_row("category", key, f"{c.code} {name}", r, {"category": c.code}))
    # districts and streets
    current, depts = _areas(counts["current"]["department"])
    history, _d = _areas(counts["history"]["department"])
    for key, r in hs.hotspots(current, history, history_days, days):
        d = depts[key]
        label = measures._dept_name(d)
        parent = depts.get(d.parent_id)
        if d.level == DepartmentLevel.STREET and parent is not None and parent.level == DepartmentLevel.DISTRICT:
            label = f"{measures._dept_name(parent)} {label}"
        out.append(_row("area", key, label, r, {"unit": key}))
    out.sort(key=lambda h: (h["p_value"], -h["count"]))
    return out


def _row(kind: str, key, label: str, r: hs.Result, drill: dict) -> dict:
    return {"kind": kind, "key": key, "label": label, "count": r.count, "expected": r.expected,
            "ratio": r.ratio, "p_value": r.p_value, "drill": drill}


def format_p(p: float) -> str:
    """A p-value as a reader takes it in: 0.0045, 1.2e-06, or < 0.000001."""
    if p < 1e-6:
        return "< 0.000001"
    return f"{p:.4f}" if p >= 0.001 else f"{p:.1e}"


def panel(period: wm.Period, now: datetime) -> dict:
    """The dashboard's hotspot table: the period it is about, its history, the hotspots with their lists."""
    from flask import url_for
    assessed = assessed_period(period)
    rows = find(assessed, now)
    for h in rows:
        h["url"] = url_for("tickets.index", measure="intake", **{"from": assessed.start.isoformat(),
                           "to": assessed.end.isoformat()}, **h["drill"])
        h["p_text"] = format_p(h["p_value"])
    return {"period": assessed, "history": history_window(assessed), "rows": rows, "min_count": hs.MIN_COUNT,
            "alpha": hs.ALPHA}
