"""The content of a bulletin (通报), built once as plain data from the measures; bulletin_docx.py and
bulletin_pdf.py lay the same content out as a Word document and a PDF.

Every figure is hotline/reports/measures.py's (the dashboard's own); hotspots are
hotline/reports/hotspots.py's. Bulletins are official documents in Chinese: they are built in the
locale given (Chinese unless asked), whoever asks for them.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.categories.models import Category
from hotline.citizens.models import Citizen, mask_phone
from hotline.extensions import db
from hotline.reports import hotspots as hotspot_finder
from hotline.reports import labels, measures
from hotline.tickets.models import Ticket
from workflows import measures as wm

#: The centre's figures in the first section, in order.
TOTALS = ("intake", "direct", "dispatched_orders", "direct_rate", "dispatched", "on_time_sign_rate", "due",
          "on_time_completion_rate", "response_rate", "visits", "resolution_rate", "satisfaction_rate",
          "returns", "reopened", "urges", "overdue")
#: The columns of the annex table of departments.
ANNEX = ("dispatched", "on_time_sign_rate", "due", "on_time_completion_rate", "response_rate", "visits",
         "satisfaction_rate", "returns", "reopened", "urges", "overdue")
DEPARTMENT_FAMILIES = ("dispatch", "due", "visit", "reopen")
TOP_CATEGORIES = 10
REPEAT_ROWS = 10
#: What a generation reports as it goes: step -> per cent done when it starts.
STEPS = {"totals": 5, "mix": 20, "departments": 35, "hotspots": 50, "repeats": 60, "charts": 65, "docx": 75,
         "pdf": 85, "saving": 95}


def floor() -> float:
    return float(current_app.config.get("REPORT_RATE_FLOOR", 0.9))


def issuer() -> str:
    return current_app.config.get("BULLETIN_ISSUER") or _("XX City 12345 Government Service Hotline")


def period_for(kind: str, value: str, today: date) -> wm.Period:
    """The week (2026-W24) or month (2026-06) a bulletin covers; ValueError for anything else."""
    if kind not in ("week", "month"):
        raise ValueError(kind)
    return wm.unit(kind, value, today=today)


def issue_number(period: wm.Period) -> tuple[int, int]:
    """(year, issue): the ISO week, or the month, is the issue's number in its year."""
    if period.kind == "week":
        year, week, _d = period.start.isocalendar()
        return year, week
    return period.start.year, period.start.month


def build(period: wm.Period, now: datetime, *, locale: str = "zh", progress=None) -> dict:
    """The bulletin of `period` as plain data (see the keys below); `progress(step)` is told each step."""
    with force_locale(locale):
        return _build(period, now, progress or (lambda step: None))


def _figure(name: str, value, previous) -> dict:
    return {"name": name, "title": str(labels.TITLES[name]), "value": value, "rate": name in wm.RATES,
            "change": wm.change(value, previous)}


def _build(period: wm.Period, now: datetime, progress) -> dict:
    prev = period.previous()
    limit = floor()
    year, issue = issue_number(period)
    kind_title = _("Weekly bulletin") if period.kind == "week" else _("Monthly bulletin")
    out = {
        "kind": period.kind, "period": period.label(), "start": period.start, "end": period.end,
        "previous": {"start": prev.start, "end": prev.end}, "floor": limit, "generated_at": now,
        "issuer": issuer(), "kind_title": kind_title, "title": f"{issuer()}{kind_title}",
        "number": _("Issue %(issue)s, %(year)s", year=year, issue=issue),
        "period_text": _("%(start)s to %(end)s", start=_date(period.start), end=_date(period.end)),
        "complete": period.end == wm.unit_end(period.kind, period.start),
    }
    name = (_("week %(week)s of %(year)s", year=year, week=issue) if period.kind == "week"
            else _("%(year)s, month %(month)s", year=year, month=issue))
    out["heading"] = _("Report on the hotline's work, %(period)s", period=name)
    progress("totals")
    both = measures.totals_of({"current": (period.start, period.end), "before": (prev.start, prev.end)}, now=now)
    current, before = both["current"], both["before"]
    out["totals"] = [_figure(n, current.get(n), before.get(n)) for n in TOTALS]
    out["figures"] = {f["name"]: f for f in out["totals"]}
    rest = current["intake"] - current["direct"] - current["dispatched_orders"]
    out["split"] = [{"label": str(labels.TITLES["direct"]), "value": current["direct"]},
                    {"label": str(labels.TITLES["dispatched_orders"]), "value": current["dispatched_orders"]}]
    if rest:
        out["split"].append({"label": _("Neither yet (waiting, merged or cancelled)"), "value": rest})

    progress("mix")
    out["by_type"] = _mix(period, prev, "type", now)
    out["by_channel"] = _mix(period, prev, "channel", now)
    out["top_categories"] = _mix(period, prev, "category", now, top=TOP_CATEGORIES)

    progress("departments")
    out["departments"] = _departments(period, now, limit)
    out["below_floor"] = [{"label": d["label"], "rates": [{"title": str(labels.TITLES[r]), "value": d[r]}
                                                          for r in d["below"]],
                           "text": "；".join(f"{labels.TITLES[r]} {percent(d[r])}" for r in d["below"])}
                          for d in out["departments"] if d["below"]]
    out["annex_columns"] = [{"name": c, "title": str(labels.TITLES[c]), "rate": c in wm.RATES} for c in ANNEX]

    progress("hotspots")
    out["hotspots"] = hotspot_finder.find(period, now)
    out["hotspot_history"] = hotspot_finder.history_window(period)

    progress("repeats")
    out["repeats"] = repeat_requests(period)
    out["reopened"] = current.get("reopened", 0)
    out["summary"] = _summary(out)
    return out


def _date(day: date) -> str:
    return _("%(year)s-%(month)s-%(day)s", year=day.year, month=day.month, day=day.day)


def _mix(period: wm.Period, prev: wm.Period, dim: str, now: datetime, top: int | None = None) -> list[dict]:
    """Intake by type, channel or top-level category, with shares and the change against the period before."""
    rows = measures.table(period.start, period.end, dim, families=("intake",), now=now, only=("intake",))
    before = {r["key"]: r["intake"] for r in measures.table(prev.start, prev.end, dim, families=("intake",), now=now,
                                                           only=("intake",))}
    total = sum(r["intake"] for r in rows)
    out = [{"label": r["label"], "value": r["intake"], "share": wm.rate(r["intake"], total),
            "change": wm.change(r["intake"], before.get(r["key"], 0))} for r in rows if r["intake"]]
    out.sort(key=lambda r: -r["value"])
    return out[:top] if top else out


def _departments(period: wm.Period, now: datetime, limit: float) -> list[dict]:
    """The first-level units (the city's bureaus and districts, each with its sub-units rolled up)
    that had anything in the period, best on-time completion first; the assessed rates under the floor named."""
    rows = measures.table(period.start, period.end, "department", parent_id=measures.ranking_parent(),
                          families=DEPARTMENT_FAMILIES, now=now)
    rows = [r for r in rows if any(r.get(c) for c in ANNEX if c not in wm.RATES)]
    measured = sorted((r for r in rows if r.get("on_time_completion_rate") is not None),
                      key=lambda r: (-r["on_time_completion_rate"], r["label"]))
    rows = measured + [r for r in rows if r.get("on_time_completion_rate") is None]
    return [{"label": r["label"], **{c: r.get(c) for c in ANNEX}, "below": wm.shortfalls(r, limit)} for r in rows]


def repeat_requests(period: wm.Period) -> dict:
    """Repeat complaints (重复投诉): the same citizen about the same category more than once in the period
    (orders registered in it), most repeated first; the citizen masked as on the order list."""
    lo, hi = measures.bounds(period.start, period.end)
    in_period = (Ticket.created_at >= lo, Ticket.created_at < hi, Ticket.citizen_id.is_not(None),
                 Ticket.category_id.is_not(None))
    groups = sa.select(Ticket.citizen_id, Ticket.category_id, sa.func.count().label("n")).where(*in_period) \
        .group_by(Ticket.citizen_id, Ticket.category_id).having(sa.func.count() > 1)
    found = db.session.execute(groups.order_by(sa.desc("n"), Ticket.citizen_id, Ticket.category_id)).all()
    citizens_total = len(found)
    orders_total = sum(g.n for g in found)
    rows = []
    for g in found[:REPEAT_ROWS]:
        citizen = db.session.get(Citizen, g.citizen_id)
        category = db.session.get(Category, g.category_id)
        numbers = list(db.session.scalars(sa.select(Ticket.number).where(
            *in_period, Ticket.citizen_id == g.citizen_id, Ticket.category_id == g.category_id)
            .order_by(Ticket.created_at).limit(5)))
        name = (citizen.name[0] + "*" * (len(citizen.name) - 1)) if citizen and citizen.name else "—"
        rows.append({"citizen": f"{name} {mask_phone(citizen.phone) if citizen else ''}".strip(),
                     "category": f"{category.code} {category.name}" if category else "—",
                     "count": g.n, "numbers": numbers})
    return {"groups": citizens_total, "orders": orders_total, "rows": rows}


def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def change_text(figure: dict) -> str:
    """'up 12.5%' / 'down 3.0 points' / 'unchanged' / '' (nothing to compare with)."""
    c = figure.get("change")
    if c is None or (c["relative"] is None and not figure["rate"] and c["diff"]):
        return _("no figure to compare with") if c is None else _("up from none")
    if c["diff"] == 0:
        return _("unchanged")
    if figure["rate"]:
        points = f"{abs(c['diff']) * 100:.1f}"
        return _("up %(n)s points", n=points) if c["diff"] > 0 else _("down %(n)s points", n=points)
    rel = f"{abs(c['relative']) * 100:.1f}%"
    return _("up %(n)s", n=rel) if c["diff"] > 0 else _("down %(n)s", n=rel)


def value_text(figure: dict) -> str:
    return percent(figure["value"]) if figure["rate"] else str(figure["value"] if figure["value"] is not None else "—")


def _summary(b: dict) -> list[str]:
    """The opening paragraphs: what happened in the period, in sentences."""
    f = b["figures"]
    out = [_("In this period the hotline received %(intake)s requests (%(change)s on the period before). "
             "%(direct)s were answered directly (direct answer rate %(direct_rate)s) and %(dispatched)s were "
             "dispatched to departments.",
             intake=f["intake"]["value"], change=change_text(f["intake"]), direct=f["direct"]["value"],
             direct_rate=percent(f["direct_rate"]["value"]), dispatched=f["dispatched_orders"]["value"])]
    out.append(_("Departments signed for %(sign)s of their orders on time, completed %(completion)s of the orders "
                 "due on time, and citizens were satisfied in %(satisfaction)s of return visits. There were "
                 "%(returns)s returns, %(reopened)s reopened orders, %(urges)s urges and %(overdue)s overdue orders.",
                 sign=percent(f["on_time_sign_rate"]["value"]),
                 completion=percent(f["on_time_completion_rate"]["value"]),
                 satisfaction=percent(f["satisfaction_rate"]["value"]), returns=f["returns"]["value"],
                 reopened=f["reopened"]["value"], urges=f["urges"]["value"], overdue=f["overdue"]["value"]))
    if b["below_floor"]:
        out.append(_("%(n)s units fell below the assessment line of %(floor)s: %(names)s.",
                     n=len(b["below_floor"]), floor=percent(b["floor"]),
                     names="、".join(d["label"] for d in b["below_floor"])))
    else:
        out.append(_("No unit fell below the assessment line of %(floor)s.", floor=percent(b["floor"])))
    return out


#: The sections of the document, numbered 一、二、三 … in both layouts.
SECTIONS = (("overview", _l("Overview")), ("mix", _l("Types and channels")), ("hotspots", _l("Top categories and hotspots")),
            ("departments", _l("Assessment of the units")), ("repeats", _l("Repeat complaints")))
CHINESE_NUMERALS = "一二三四五六七八九十"


def numbered(index: int, title: str) -> str:
    """一、Title (the first level of a Chinese official document's headings)."""
    return f"{CHINESE_NUMERALS[index]}、{title}"


def sub_numbered(index: int, title: str) -> str:
    """（一）Title (the second level)."""
    return f"（{CHINESE_NUMERALS[index]}）{title}"


def hotspot_method(history: tuple[date, date] | None) -> str:
    from workflows import hotspots as hs
    if history is None:
        return _("No hotspot can be judged yet: there are no orders before this period to compare with.")
    return _("A hotspot is a category or an area whose intake in the period is improbably high against its own "
             "history (%(start)s to %(end)s): at least %(min)s orders, and a one-sided Poisson test against the "
             "count its history's daily rate expects gives p < %(alpha)s.",
             start=_date(history[0]), end=_date(history[1]), min=hs.MIN_COUNT, alpha=hs.ALPHA)


def hotspot_p(p: float) -> str:
    return hotspot_finder.format_p(p)


def local_date_text(at: datetime) -> str:
    """The issue date under the issuer's name: 2026年6月15日."""
    from hotline.sla import service as sla
    return _date(sla.local_date(at))
