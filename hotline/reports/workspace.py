"""What the statistics and assessment workspace (/reports) shows, shaped for its page and exports."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _

from hotline.core.errors import Invalid
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.reports import labels, measures
from workflows import measures as wm

#: Figures shown as the centre's totals, in order; rates are compared in points, counts in per cent.
TOTALS = ("intake", "direct", "dispatched_orders", "direct_rate", "on_time_sign_rate", "on_time_completion_rate",
          "satisfaction_rate", "returns", "reopened", "urges", "overdue")
#: Columns of the ranking table (and its export).
RANKING = ("dispatched", "on_time_sign_rate", "due", "on_time_completion_rate", "visits", "satisfaction_rate",
           "returns", "reopened", "urges", "overdue")
#: Slices whose rows are orders rather than departments also show what came in.
INTAKE_COLUMNS = ("intake", "direct")
ORDER_SLICES = ("category", "channel", "type", "call_taker")
RANKING_SLICES = ("department", "district", "category", "channel", "type", "call_taker")
RANKING_FAMILIES = ("dispatch", "due", "visit", "reopen")
DEFAULT_SORT = "on_time_completion_rate"
#: A trend longer than this many days is drawn per week.
DAILY_TREND_DAYS = 45


def floor() -> float:
    return float(current_app.config.get("REPORT_RATE_FLOOR", 0.9))


def is_rate(name: str) -> bool:
    return name in wm.RATES


def parse_period(args, today: date) -> wm.Period:
    """The period the page asks for (kind with week, month, quarter, or from/to); this month so far
    by default. Raises Invalid naming the field to fix."""
    kind = args.get("kind") or "month"
    if kind not in wm.KINDS:
        raise Invalid(_("Some fields need fixing."), fields={"kind": _("Must be one of: %(values)s.",
                                                                      values=", ".join(wm.KINDS))})
    if kind == "custom":
        errors, values = {}, {}
        for name in ("from", "to"):
            try:
                values[name] = date.fromisoformat(args.get(name) or "")
                if not 1990 <= values[name].year <= 2200:
                    raise ValueError
            except ValueError:
                errors[name] = _("Must be a date like 2026-11-22.")
        if not errors and values["from"] > values["to"]:
            errors["to"] = _("Must not be before the start date.")
        if not errors and (values["to"] - values["from"]).days > 366 * 3:
            errors["to"] = _("Choose at most three years.")
        if errors:
            raise Invalid(_("Some fields need fixing."), fields=errors)
        return wm.Period("custom", values["from"], values["to"])
    value = args.get(kind)
    if not value:
        return wm.current(kind, today)
    try:
        return wm.unit(kind, value, today=today)
    except ValueError:
        examples = {"week": "2026-W24", "month": "2026-06", "quarter": "2026-Q2"}
        raise Invalid(_("Some fields need fixing."), fields={
            kind: _("Must name a past or current %(kind)s, like %(example)s.",
                    kind=str(labels.KIND_TITLES[kind]).lower(), example=examples[kind])}) from None


def period_args(period: wm.Period) -> dict:
    """The page's parameters that name `period`."""
    if period.kind == "custom":
        return {"kind": "custom", "from": period.start.isoformat(), "to": period.end.isoformat()}
    return {"kind": period.kind, period.kind: period.label()}


def drill_url(measure: str, period: wm.Period, bucket: dict | None = None) -> str:
    """The work-order list of the orders behind a figure."""
    return url_for("tickets.index", measure=labels.drill_measure(measure), **{"from": period.start.isoformat(),
                   "to": period.end.isoformat()}, **(bucket or {}))


def overview(period: wm.Period, now: datetime) -> tuple[list[dict], list[dict]]:
    """The centre's totals against the previous period (cards) and directly answered vs dispatched
    (split), from one count of each family over both periods."""
    counts = measures.totals_of({"current": (period.start, period.end),
                                 "previous": (period.previous().start, period.previous().end)}, now=now)
    return _cards(period, counts["current"], counts["previous"]), _split(period, counts["current"])


def _cards(period: wm.Period, current: dict, previous: dict) -> list[dict]:
    cards = []
    for name in TOTALS:
        value = current.get(name)
        cards.append({"name": name, "title": labels.TITLES[name], "value": value, "rate": is_rate(name),
                      "change": wm.change(value, previous.get(name)), "url": drill_url(name, period),
                      "below": name in wm.ASSESSED and wm.below_floor(value, floor())})
    return cards


#: The slices of the intake charts, counted together.
INTAKE_CHARTS = ("channel", "type", "hour")


def intake_charts(period: wm.Period, now: datetime) -> dict[str, list[dict]]:
    """The intake by channel, by type and by hour of day."""
    tables = measures.intake_tables(period.start, period.end, INTAKE_CHARTS, now=now)
    return {dim: [{"label": r["label"], "value": r["intake"], "url": drill_url("intake", period, r["drill"])}
                  for r in rows] for dim, rows in tables.items()}


def _split(period: wm.Period, t: dict) -> list[dict]:
    """Answered directly against dispatched (and the rest: waiting, merged, cancelled), of the totals `t`."""
    rest = t["intake"] - t["direct"] - t["dispatched_orders"]
    out = [{"label": str(labels.TITLES["direct"]), "value": t["direct"], "url": drill_url("direct", period)},
           {"label": str(labels.TITLES["dispatched_orders"]), "value": t["dispatched_orders"],
            "url": drill_url("dispatched_orders", period)}]
    if rest:
        out.append({"label": _("Neither yet (waiting, merged or cancelled)"), "value": rest,
                    "url": drill_url("intake", period)})
    return out


def ranking(period: wm.Period, slice_name: str, parent_id: int | None, sort: str, now: datetime) -> dict:
    """The ranking table: one row per bucket of the slice, the rates under the floor marked."""
    families = RANKING_FAMILIES + (("intake",) if slice_name in ORDER_SLICES else ())
    columns = ((INTAKE_COLUMNS if slice_name in ORDER_SLICES else ()) + RANKING)
    asked = parent_id
    if slice_name == "department" and parent_id is None:
        parent_id = measures.ranking_parent()
    rows = measures.table(period.start, period.end, slice_name, parent_id=parent_id, families=families, now=now,
                          keep_empty=slice_name in ("channel", "type"))
    rows = [r for r in rows if slice_name in ("channel", "type") or any(r.get(c) for c in columns if not is_rate(c))]
    sort = sort if sort in columns else DEFAULT_SORT
    # best first: highest rate, or fewest returns, reopens, urges, overdue; nothing measured last
    descending = is_rate(sort) or sort in ("dispatched", "due", "visits", "intake", "direct")
    measured = sorted((r for r in rows if r.get(sort) is not None), key=lambda r: r[sort], reverse=descending)
    rows = measured + [r for r in rows if r.get(sort) is None]
    has_children = _with_children() if slice_name == "department" else set()
    limit = floor()
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank if row.get(sort) is not None else None
        row["below"] = wm.shortfalls(row, limit)
        row["urls"] = {c: drill_url(c, period, row["drill"]) for c in columns}
        key = row["key"]
        row["sub_units"] = (isinstance(key, tuple) and key[0] == "unit" and key[1] in has_children) and key[1]
    parent = db.session.get(Department, parent_id) if slice_name == "department" and parent_id else None
    return {"slice": slice_name, "columns": columns, "rows": rows, "sort": sort, "floor": limit,
            "parent": parent, "can_go_up": asked is not None and parent is not None,
            "up": parent.parent_id if parent and parent.parent_id != measures.ranking_parent() else None}


def _with_children() -> set[int]:
    import sqlalchemy as sa
    return set(db.session.scalars(sa.select(Department.parent_id).where(Department.parent_id.is_not(None)).distinct()))


def trend(period: wm.Period, now: datetime) -> dict:
    step = "day" if period.days <= DAILY_TREND_DAYS else "week"
    points = measures.trend(period.start, period.end, step, now=now)
    for p in points:
        p["intake_url"] = url_for("tickets.index", measure="intake", **p["drill"])
        p["due_url"] = url_for("tickets.index", measure="not_on_time", **p["drill"])
    return {"step": step, "points": points}


def recent_units(kind: str, today: date, count: int) -> list[tuple[str, str]]:
    """(value, title) of the last `count` weeks or months up to today, newest first, for the picker."""
    out, day = [], today
    for _i in range(count):
        start = wm.unit_start(kind, day)
        label = wm.Period(kind, start, start).label()
        end = wm.unit_end(kind, start)
        if kind == "week":
            title = _("%(year)s, week %(week)s (%(start)s – %(end)s)", year=label[:4], week=int(label[-2:]),
                      start=f"{start:%m-%d}", end=f"{end:%m-%d}")
        else:
            title = _("%(year)s, month %(month)s", year=start.year, month=start.month)
        out.append((label, title))
        day = start - timedelta(days=1)
    return out


def previous_next(period: wm.Period, today: date) -> tuple[dict | None, dict | None]:
    """The page's parameters of the period before and after (None past today)."""
    if period.kind == "custom":
        before = period.previous()
        after = wm.Period("custom", period.end + timedelta(days=1), period.end + timedelta(days=period.days))
    else:
        before = period.previous()
        before = wm.Period(period.kind, before.start, wm.unit_end(period.kind, before.start))
        start = wm.unit_end(period.kind, period.start) + timedelta(days=1)
        after = wm.Period(period.kind, start, min(wm.unit_end(period.kind, start), today))
    return period_args(before), (period_args(after) if after.start <= today else None)


def recent_quarters(today: date, count: int = 8) -> list[str]:
    """The last `count` quarters up to today, newest first ("2026-Q4"), for the picker."""
    year, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _i in range(count):
        out.append(f"{year}-Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return out


def picker(endpoint: str, period: wm.Period, today: date, keep: dict) -> dict:
    """What the period picker (reports/_picker.html) needs, for a page that keeps `keep` when the period changes."""
    before, after = previous_next(period, today)
    kept = {k: v for k, v in keep.items() if v not in (None, "")}
    return {"endpoint": endpoint, "keep": kept, "period_url": lambda a: url_for(endpoint, **{**(a or {}), **kept}),
            "before": before, "after": after, "quarters": recent_quarters(today),
            "weeks": recent_units("week", today, 27), "months": recent_units("month", today, 25)}
