"""The statistics and assessment workspace (统计考核): totals, charts, the department ranking, exports.

Thin: check the permission, read the period, ask workspace.py, render or write the table.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user, login_required

from hotline.core.base import utcnow
from hotline.core.errors import Invalid
from hotline.reports import drill, hotspots, labels, ledger, measures, workspace
from hotline.reports.permissions import can_view_workspace
from hotline.sla import service as sla
from hotline.web.tables import Percent, csv_response, xlsx_response
from workflows import measures as wm
from workflows.vocabulary import TicketType

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.record_once
def _install(state) -> None:
    drill.install(state.app)


@bp.before_request
def _report_reads() -> None:
    """Every page here reads a report (measures.report_reads: parallel workers, no JIT)."""
    measures.report_reads()


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
    ranking = workspace.ranking(period, slice_name, parent, sort, now)
    view = {"slice": slice_name, "parent": parent, "sort": sort}
    cards, split = workspace.overview(period, now)
    charts = {**workspace.intake_charts(period, now), "split": split, "trend": workspace.trend(period, now)}
    return render_template(
        "reports/index.html", period=period, previous=period.previous(), args=request.args, error=error,
        errors=error.fields if error else {}, cards=cards, charts=charts,
        ranking=ranking, titles=labels.TITLES, slice_titles=labels.SLICE_TITLES, kind_titles=labels.KIND_TITLES,
        is_rate=workspace.is_rate, today=today, picker=workspace.picker("reports.index", period, today, view),
        page_url=lambda **kw: url_for("reports.index", **{**base, **view, **kw}),
        hotspots=hotspots.panel(period, now),
        export_url=lambda fmt: url_for("reports.export_ranking", fmt=fmt, **base, **view),
    ), (error.status if error else 200)


@bp.get("/ledger")
@login_required
def ledger_page():
    """分类台账: the orders of a period by category and type, with their state and timeliness."""
    _require_reader()
    now = utcnow()
    today = sla.local_date(now)
    categories = ledger.categories()
    try:
        filters, error = ledger.parse_filters(request.args, today, categories), None
    except Invalid as err:
        filters, error = ledger.Filters(wm.current("month", today)), err
    entries = ledger.entries(filters, now, ledger.PAGE_LIMIT + 1)
    base = {**workspace.period_args(filters.period), **({"type": filters.type.value} if filters.type else {}),
            **({"category": filters.category} if filters.category else {})}
    choice = {k: v for k, v in base.items() if k in ("type", "category")}
    return render_template(
        "reports/ledger.html", filters=filters, period=filters.period, error=error,
        errors=error.fields if error else {}, picker=workspace.picker("reports.ledger_page", filters.period, today, choice),
        entries=entries[:ledger.PAGE_LIMIT], more=len(entries) > ledger.PAGE_LIMIT, limit=ledger.PAGE_LIMIT,
        summary=ledger.summary(filters, now), timeliness=ledger.TIMELINESS, categories=categories,
        types=list(TicketType), kind_titles=labels.KIND_TITLES, args=request.args, today=today, local=ledger.local,
        export_url=lambda fmt: url_for("reports.export_ledger", fmt=fmt, **base),
    ), (error.status if error else 200)


@bp.get("/ledger.<fmt>")
@login_required
def export_ledger(fmt: str):
    """The ledger as CSV or XLSX: every order of it, headers and values in the user's language."""
    _require_reader()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    now = utcnow()
    try:
        filters = ledger.parse_filters(request.args, sla.local_date(now), ledger.categories())
    except Invalid as err:
        abort(422, err.message)
    locale = str(get_locale() or "zh")
    headers = [pgettext("order", "Number"), _("Registered"), _("Category"), _("Type"), _("Subject"), _("Lead department"),
               _("Status"), _("Deadline"), _("Replied"), pgettext("date", "Closed"), _("Timeliness"), _("Satisfaction")]
    rows = ([e.number, ledger.local(e.registered), e.category, e.type.title_for(locale), e.subject, e.department,
             e.status.title_for(locale), ledger.local(e.due_at), ledger.local(e.replied_at),
             ledger.local(e.closed_at), str(ledger.TIMELINESS[e.timeliness]),
             e.satisfaction.title_for(locale) if e.satisfaction else ""]
            for e in ledger.entries(filters, now, ledger.EXPORT_LIMIT))
    period = f"{filters.period.start.isoformat()}-{filters.period.end.isoformat()}"
    name = f"{_('Category ledger')}-{period}.{fmt}"
    if fmt == "csv":
        return csv_response(name, headers, rows)
    caption = _("Category ledger, %(start)s – %(end)s", start=filters.period.start.isoformat(),
                end=filters.period.end.isoformat())
    return xlsx_response(name, _("Category ledger"), headers, rows, caption=caption)


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


# the call-centre pages (calls, agents, call list, forecast) add their routes to this blueprint
from hotline.reports import callpages  # noqa: E402,F401
