"""The call-centre pages of the reports workspace: call statistics (话务统计), agents' performance
(座席考核), the call list (通话清单) with the CDR export, and the staffing forecast (排班预测).

Routes on the workspace's blueprint, thin like its own: check the permission, read the period,
ask calls / agents / cdr / forecast, render or write the table.
"""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.core.base import utcnow
from hotline.core.errors import Invalid
from hotline.reports import agents as agentq
from hotline.reports import calls as callq
from hotline.reports import cdr, forecast, labels, workspace
from hotline.reports.blueprint import _require_reader, bp
from hotline.reports.calltables import (AGENT_COLUMNS, CDR_COLUMNS, FORECAST_COLUMNS, GROUP_TITLES, STAT_COLUMNS,
                                        WEEKDAYS, agent_table, charts, cdr_table, duration, forecast_chart,
                                        forecast_table, stat_table, title_of)
from hotline.sla import service as sla
from hotline.web.tables import csv_response, xlsx_response
from workflows import measures as wm


def _period():
    now = utcnow()
    today = sla.local_date(now)
    try:
        return workspace.parse_period(request.args, today), None, now, today
    except Invalid as err:
        return wm.current("month", today), err, now, today


def _render(template: str, period, error, today, endpoint: str, keep: dict | None = None, **context):
    return render_template(
        template, period=period, args=request.args, error=error, errors=error.fields if error else {},
        kind_titles=labels.KIND_TITLES, picker=workspace.picker(endpoint, period, today, keep or {}), duration=duration,
        col_title=title_of,
        base=workspace.period_args(period), **context), (error.status if error else 200)


def _export(fmt: str, name: str, title: str, caption: str, headers: list[str], rows):
    if fmt == "csv":
        return csv_response(f"{name}.csv", headers, rows)
    return xlsx_response(f"{name}.xlsx", title, headers, rows, caption=caption)


def _strict_period():
    now = utcnow()
    try:
        return workspace.parse_period(request.args, sla.local_date(now)), now
    except Invalid as err:
        abort(422, err.message)


def _span(period: wm.Period) -> str:
    return f"{period.start.isoformat()} – {period.end.isoformat()}"


# -- call statistics --------------------------------------------------------------------------

@bp.get("/calls")
@login_required
def calls():
    _require_reader()
    period, error, now, today = _period()
    stats = callq.statistics(period, now)
    return _render("reports/calls.html", period, error, today, "reports.calls", stats=stats,
                   columns=STAT_COLUMNS, charts=charts(stats))


STAT_TABLES = {"queues": "queues", "intervals": "slots", "agents": "agents"}


@bp.get("/calls/<table>.<fmt>")
@login_required
def export_calls(table: str, fmt: str):
    _require_reader()
    if fmt not in ("csv", "xlsx") or table not in STAT_TABLES:
        abort(404)
    period, now = _strict_period()
    stats = callq.statistics(period, now)
    headers, rows, title = stat_table(table, stats)
    return _export(fmt, f"{title}-{period.start.isoformat()}-{period.end.isoformat()}", title,
                   f"{title}, {_span(period)}", headers, rows)


# -- agents' performance ----------------------------------------------------------------------

def _performance(period, now):
    return agentq.performance(period, now, total_title=_("All agents"),
                              team_title=lambda role: _("%(team)s subtotal", team=role.title_for(_locale())))


def _locale() -> str:
    return str(get_locale() or "zh")


@bp.get("/agents")
@login_required
def agents():
    _require_reader()
    period, error, now, today = _period()
    return _render("reports/agents.html", period, error, today, "reports.agents",
                   perf=_performance(period, now), columns=AGENT_COLUMNS, reason_title=agentq.reason_title)


@bp.get("/agents.<fmt>")
@login_required
def export_agents(fmt: str):
    _require_reader()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    period, now = _strict_period()
    headers, rows = agent_table(_performance(period, now))
    title = _("Agents' performance")
    return _export(fmt, f"{title}-{period.start.isoformat()}-{period.end.isoformat()}", title,
                   f"{title}, {_span(period)}", headers, rows)


# -- the call list and the CDR export ---------------------------------------------------------

def _list_options() -> dict:
    group = request.args.get("group") or "agent"
    return {"group": group if group in cdr.GROUPS else "agent",
            "detail": request.args.get("detail", "1") != "0", "masked": request.args.get("masked") == "1"}


@bp.get("/cdr")
@login_required
def call_list():
    _require_reader()
    period, error, now, today = _period()
    options = _list_options()
    rows, more = cdr.records(period, now)
    groups = cdr.grouped(rows, options["group"])
    keep = {"group": options["group"], "detail": "" if options["detail"] else "0",
            "masked": "1" if options["masked"] else ""}
    return _render("reports/cdr.html", period, error, today, "reports.call_list", keep=keep, groups=groups,
                   total=cdr.summed(rows), more=more, options=options, group_titles=GROUP_TITLES,
                   too_many=len(rows) > cdr.PAGE_LIMIT and options["detail"], page_limit=cdr.PAGE_LIMIT,
                   limit=cdr.LIMIT,
                   printed_at=sla.format_local(now),
                   number=lambda n: cdr.shown_number(current_user, n, options["masked"]),
                   group_label=lambda g: _group_label(options["group"], g), columns=CDR_COLUMNS,
                   export_url=lambda fmt: url_for("reports.export_cdr", fmt=fmt, **workspace.period_args(period),
                                                  **({"masked": "1"} if options["masked"] else {})))


def _group_label(by: str, group: dict) -> str:
    first = group["rows"][0]
    if by == "agent":
        return first["agent"].display_name if first["agent"] else _("No agent")
    if by == "queue":
        return first["queue"] or _("No queue")
    if by == "day":
        return first["day"].isoformat()
    return _("Inbound") if first["direction"] == "inbound" else _("Outbound")


@bp.get("/cdr.<fmt>")
@login_required
def export_cdr(fmt: str):
    _require_reader()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    period, now = _strict_period()
    rows, _more = cdr.records(period, now)
    masked = request.args.get("masked") == "1"
    headers, table = cdr_table(rows, lambda n: cdr.shown_number(current_user, n, masked), _locale())
    title = _("Call records")
    return _export(fmt, f"{title}-{period.start.isoformat()}-{period.end.isoformat()}", title,
                   f"{title}, {_span(period)}", headers, table)


# -- the staffing forecast --------------------------------------------------------------------

def _forecast_args(today):
    errors = {}

    def number(name, default, low, high):
        raw = request.args.get(name)
        if raw in (None, ""):
            return default
        try:
            value = float(raw)
            if not low <= value <= high:
                raise ValueError
            return value
        except ValueError:
            errors[name] = _("Must be a number from %(low)s to %(high)s.", low=f"{low:g}", high=f"{high:g}")
            return default

    cfg = callq.settings()
    args = {"weekday": int(number("weekday", today.weekday(), 0, 6)),
            "weeks": int(number("weeks", 8, 1, forecast.MAX_WEEKS)),
            "target": number("target", round(cfg.target * 100), 1, 99),
            "seconds": int(number("seconds", cfg.threshold, 1, 600)),
            "shrinkage": number("shrinkage", 0, 0, 90)}
    return args, errors


@bp.get("/forecast")
@login_required
def staffing():
    _require_reader()
    now = utcnow()
    today = sla.local_date(now)
    args, errors = _forecast_args(today)
    result = _run_forecast(args, today, now)
    error = Invalid(_("Some fields need fixing."), fields=errors) if errors else None
    return render_template("reports/forecast.html", f=args, errors=errors, error=error, result=result,
                           weekdays=WEEKDAYS, columns=FORECAST_COLUMNS, chart=forecast_chart(result),
                           duration=duration), (422 if errors else 200)


def _run_forecast(args, today, now):
    return forecast.forecast(args["weekday"], args["weeks"], today, now, target=args["target"] / 100,
                             threshold=args["seconds"], shrinkage=args["shrinkage"] / 100)


@bp.get("/forecast.<fmt>")
@login_required
def export_forecast(fmt: str):
    _require_reader()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    now = utcnow()
    today = sla.local_date(now)
    args, errors = _forecast_args(today)
    if errors:
        abort(422)
    result = _run_forecast(args, today, now)
    headers, rows = forecast_table(result)
    title = _("Staffing forecast")
    caption = _("%(title)s, %(weekday)s, from %(first)s to %(last)s", title=title,
                weekday=str(WEEKDAYS[args["weekday"]]), first=result["days"][0].isoformat(),
                last=result["days"][-1].isoformat())
    return _export(fmt, f"{title}-{result['days'][-1].isoformat()}", title, caption, headers, rows)
