"""The statistics and assessment workspace (统计考核): totals, charts, the department ranking, exports.

Thin: check the permission, read the period, ask workspace.py, render or write the table.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.core.base import utcnow
from hotline.core.errors import Invalid
from hotline.reports import drill, hotspots, labels, workspace
from hotline.reports.permissions import can_view_workspace
from hotline.sla import service as sla
from hotline.web.tables import Percent, csv_response, xlsx_response
from workflows import measures as wm

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.record_once
def _install(state) -> None:
    drill.install(state.app)


def _require_reader() -> None:
    if not can_view_workspace(current_user):
        abort(403)


def _choices(args) -> tuple[str, int | None, str]:
    slice_name = args.get("slice") or "department"
    if slice_name not in workspace.RANKING_SLICES:
        slice_name = "department"
    try:
        parent = int(args["parent"]) if args.get("parent") else None
    except ValueError:
        parent = None
    return slice_name, parent, args.get("sort") or workspace.DEFAULT_SORT


@bp.get("/")
@login_required
def index():
    _require_reader()
    now = utcnow()
    today = sla.local_date(now)
    try:
        period = workspace.parse_period(request.args, today)
        error = None
    except Invalid as err:
        period, error = wm.current("month", today), err
    slice_name, parent, sort = _choices(request.args)
    base = workspace.period_args(period)
    before, after = workspace.previous_next(period, today)
    ranking = workspace.ranking(period, slice_name, parent, sort, now)
    view = {"slice": slice_name, "parent": parent, "sort": sort}
    charts = {
        "channel": workspace.intake_by(period, "channel", now),
        "type": workspace.intake_by(period, "type", now),
        "hour": workspace.intake_by(period, "hour", now),
        "split": workspace.split(period, now),
        "trend": workspace.trend(period, now),
    }
    return render_template(
        "reports/index.html", period=period, previous=period.previous(), args=request.args, error=error,
        errors=error.fields if error else {}, cards=workspace.totals(period, now), charts=charts,
        ranking=ranking, titles=labels.TITLES, slice_titles=labels.SLICE_TITLES, kind_titles=labels.KIND_TITLES,
        is_rate=workspace.is_rate, today=today, quarters=_quarters(today),
        weeks=workspace.recent_units("week", today, 27), months=workspace.recent_units("month", today, 25),
        page_url=lambda **kw: url_for("reports.index", **{**base, **view, **kw}),
        period_url=lambda a: url_for("reports.index", **{**(a or {}), **view}),
        before=before, after=after, hotspots=hotspots.panel(period, now),
        export_url=lambda fmt: url_for("reports.export_ranking", fmt=fmt, **base, **view),
    ), (error.status if error else 200)


def _quarters(today) -> list[str]:
    year, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _i in range(8):
        out.append(f"{year}-Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return out


@bp.get("/ranking.<fmt>")
@login_required
def export_ranking(fmt: str):
    """The ranking table as CSV or XLSX, with the page's headers and values in the user's language."""
    _require_reader()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    now = utcnow()
    try:
        period = workspace.parse_period(request.args, sla.local_date(now))
    except Invalid as err:
        abort(422, err.message)
    slice_name, parent, sort = _choices(request.args)
    table = workspace.ranking(period, slice_name, parent, sort, now)
    headers = [_("Rank"), str(labels.SLICE_TITLES[slice_name])] + [str(labels.TITLES[c]) for c in table["columns"]] \
        + [_("Below the floor (%(floor)s)", floor=f"{table['floor'] * 100:g}%")]
    rows = []
    for row in table["rows"]:
        cells = [row["rank"], row["label"]]
        for c in table["columns"]:
            value = row.get(c)
            cells.append(Percent(value) if workspace.is_rate(c) and value is not None else value)
        cells.append("、".join(str(labels.TITLES[n]) for n in row["below"]))
        rows.append(cells)
    caption = _("Department ranking, %(start)s – %(end)s", start=period.start.isoformat(), end=period.end.isoformat())
    name = f"{_('Ranking')}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"
    if fmt == "csv":
        return csv_response(name, headers, rows)
    return xlsx_response(name, _("Ranking"), headers, rows, caption=caption)
