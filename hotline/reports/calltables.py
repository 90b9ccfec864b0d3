"""The call-centre pages' columns, charts and export tables, with their titles in the user's language."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.reports import agents as agentq
from hotline.sla import service as sla
from hotline.web.tables import Percent
from workflows.acd import AgentState

#: (key, title, kind): kind is "count", "rate", "seconds" (an average or a longest wait) or "agents".
STAT_COLUMNS = [
    ("offered", _l("Calls offered"), "count"),
    ("answered", _l("Calls answered"), "count"),
    ("abandoned", _l("Calls abandoned"), "count"),
    ("short_abandoned", _l("Short abandons"), "count"),
    ("overflow", _l("Sent to voicemail"), "count"),
    ("answer_rate", _l("Answer rate"), "rate"),
    ("abandon_rate", _l("Abandon rate"), "rate"),
    ("service_level", _l("Service level"), "rate"),
    ("asa", _l("Average speed of answer"), "seconds"),
    ("longest_wait", _l("Longest wait"), "seconds"),
    ("abandon_wait", _l("Average wait before abandoning"), "seconds"),
    ("talk", _l("Average talk time"), "seconds"),
    ("acw", _l("Average after-call work"), "seconds"),
    ("aht", _l("Average handle time"), "seconds"),
]
SLOT_COLUMNS = STAT_COLUMNS + [("idle_agents", _l("Idle agents (average)"), "agents"),
                               ("logged_in", _l("Agents logged in (average)"), "agents")]
AGENT_CALL_COLUMNS = [
    ("answered", _l("Calls taken"), "count"),
    ("missed", _l("Offers not taken"), "count"),
    ("talk", _l("Average talk time"), "seconds"),
    ("acw", _l("Average after-call work"), "seconds"),
    ("aht", _l("Average handle time"), "seconds"),
]
#: Agents' performance: "reasons" stands for one column per reason for not being ready.
AGENT_COLUMNS = [
    ("answered", _l("Calls taken"), "count"),
    ("missed", _l("Offers not taken"), "count"),
    ("outbound", _l("Calls placed"), "count"),
    ("talk", _l("Average talk time"), "seconds"),
    ("acw", _l("Average after-call work"), "seconds"),
    ("aht", _l("Average handle time"), "seconds"),
    ("logged_in", _l("Logged in"), "time"),
    ("ready", AgentState.READY, "time"),
    ("not_ready", AgentState.NOT_READY, "time"),
    ("reasons", None, "time"),
    ("on_call", _l("On calls"), "time"),
    ("after_call_work", AgentState.AFTER_CALL_WORK, "time"),
    ("occupancy", _l("Occupancy"), "rate"),
    ("registered", _l("Orders registered"), "count"),
    ("direct", _l("Answered directly"), "count"),
    ("repeats", _l("Called again"), "count"),
    ("repeat_rate", _l("Repeat-call rate"), "rate"),
]
CDR_COLUMNS = [
    ("started", _l("Started")), ("direction", _l("Direction")), ("citizen", _l("Citizen's number")),
    ("queue", _l("Queue")), ("agent", _l("Agent")), ("wait", _l("Wait")), ("talk", _l("Talk time")),
    ("duration", _l("Duration")), ("disposition", _l("Outcome")), ("ticket", _l("Work order")),
]
FORECAST_COLUMNS = [
    ("calls", _l("Expected calls"), "number"),
    ("aht", _l("Average handle time"), "seconds"),
    ("traffic", _l("Workload (erlangs)"), "number"),
    ("agents", _l("Agents needed"), "count"),
    ("scheduled", _l("Agents to schedule"), "count"),
    ("service_level", _l("Expected service level"), "rate"),
    ("asa", _l("Expected speed of answer"), "seconds"),
    ("logged_in", _l("Agents logged in (average)"), "number"),
]
GROUP_TITLES = {"agent": _l("By agent"), "queue": _l("By queue"), "day": _l("By day"),
                "direction": _l("By direction")}
WEEKDAYS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday")]


def duration(seconds: float | None, hours: bool = False) -> str:
    """12:05 (minutes and seconds) or 1:02:05 (with hours when there are some, or when asked);
    — for nothing."""
    if seconds is None:
        return "—"
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{h}:{minutes:02d}:{secs:02d}" if h or hours else f"{minutes}:{secs:02d}"


def title_of(title) -> str:
    return title.title_for(_locale()) if isinstance(title, AgentState) else str(title)


def _locale() -> str:
    from flask_babel import get_locale
    return str(get_locale() or "zh")


def _header(title, kind: str) -> str:
    name = title_of(title)
    return _("%(name)s (s)", name=name) if kind in ("seconds", "time") else name


def _cell(value, kind: str):
    if value is None:
        return None
    if kind == "rate":
        return Percent(value)
    if kind in ("seconds", "time"):
        return int(round(value))
    if kind in ("agents", "number"):
        return round(value, 1)
    return value


def stat_table(table: str, stats: dict) -> tuple[list[str], list[list], str]:
    if table == "agents":
        columns, rows, first, title = AGENT_CALL_COLUMNS, stats["agents"], _("Agent"), _("Calls per agent")
    elif table == "queues":
        columns, rows, first, title = STAT_COLUMNS, stats["queues"], _("Queue"), _("Calls per queue")
    else:
        columns, rows, first, title = SLOT_COLUMNS, stats["slots"], _("Half hour"), _("Calls per half hour")
    headers = [first] + [_header(t, k) for _key, t, k in columns]
    body = [[r["label"]] + [_cell(r.get(key), kind) for key, _t, kind in columns] for r in rows]
    if table != "agents":
        body.append([_("Total")] + [_cell(stats["totals"].get(key), kind) for key, _t, kind in columns])
    return headers, body, title


def agent_table(perf: dict) -> tuple[list[str], list[list]]:
    headers, keys = [_("Agent"), _("Team")], []
    for key, title, kind in AGENT_COLUMNS:
        if key == "reasons":
            for reason in perf["reasons"]:
                headers.append(_("%(name)s (s)", name=_("Not ready: %(reason)s",
                                                        reason=agentq.reason_title(reason) or _("no reason"))))
                keys.append(("reason", reason, kind))
        else:
            headers.append(_header(title, kind))
            keys.append(("field", key, kind))

    def cells(row, team):
        out = [row["label"], team]
        for what, key, kind in keys:
            value = row["reasons"].get(key, 0.0) if what == "reason" else row.get(key)
            out.append(_cell(value, kind))
        return out

    body = []
    for team in perf["teams"]:
        name = team["role"].title_for(_locale())
        body += [cells(r, name) for r in team["rows"]]
        body.append(cells(team["total"], name))
    body.append(cells(perf["total"], ""))
    return headers, body


def cdr_table(rows: list[dict], number, locale: str) -> tuple[list[str], list[list]]:
    headers = [str(t) for _k, t in CDR_COLUMNS]
    headers[5] = _("%(name)s (s)", name=headers[5])
    headers[6] = _("%(name)s (s)", name=headers[6])
    headers[7] = _("%(name)s (s)", name=headers[7])
    inbound, outbound = _("Inbound"), _("Outbound")
    body = []
    for r in rows:
        body.append([
            r["started"].astimezone(sla.local_tz()).strftime("%Y-%m-%d %H:%M:%S"),
            inbound if r["direction"] == "inbound" else outbound, number(r["citizen"]), r["queue"],
            r["agent"].display_name if r["agent"] else "", _cell(r["wait"], "seconds"), _cell(r["talk"], "seconds"),
            _cell(r["duration"], "seconds"),
            r["disposition"].title_for(locale) if r["disposition"] else _("In progress"), r["ticket"] or "",
        ])
    return headers, body


def forecast_table(result: dict) -> tuple[list[str], list[list]]:
    headers = [_("Half hour")] + [_header(t, k) for _key, t, k in FORECAST_COLUMNS]
    body = [[r["label"]] + [_cell(r.get(key), kind) for key, _t, kind in FORECAST_COLUMNS] for r in result["rows"]]
    return headers, body


# -- charts (ECharts options; static/js/callstats.js draws them) -------------------------------

def charts(stats: dict) -> dict:
    slots = stats["busy_slots"] or stats["slots"][16:36]
    labels = [r["label"][:5] for r in slots]
    sl = [None if r["service_level"] is None else round(r["service_level"] * 100, 1) for r in slots]
    intervals = {
        "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 56, "top": 36, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [{"type": "value", "name": _("Number of calls"), "minInterval": 1},
                  {"type": "value", "name": _("Service level"), "min": 0, "max": 100,
                   "axisLabel": {"formatter": "{value}%"}}],
        "series": [
            {"type": "bar", "name": _("Calls answered"), "stack": "calls", "data": [r["answered"] for r in slots]},
            {"type": "bar", "name": _("Calls abandoned"), "stack": "calls", "data": [r["abandoned"] for r in slots]},
            {"type": "bar", "name": _("Sent to voicemail"), "stack": "calls", "data": [r["overflow"] for r in slots]},
            {"type": "line", "name": _("Service level"), "yAxisIndex": 1, "connectNulls": False, "data": sl},
        ],
    }
    agents = stats["agents"]
    per_agent = {
        "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 24, "top": 36, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": [r["label"] for r in agents]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "name": _("Calls taken"), "barMaxWidth": 36,
                    "data": [r["answered"] for r in agents]},
                   {"type": "bar", "name": _("Offers not taken"), "barMaxWidth": 36,
                    "data": [r["missed"] for r in agents]}],
    }
    return {"intervals": intervals, "agents": per_agent}


def forecast_chart(result: dict) -> dict:
    rows = result["shown"]
    return {
        "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 56, "top": 36, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": [r["label"][:5] for r in rows]},
        "yAxis": [{"type": "value", "name": _("Agents"), "minInterval": 1},
                  {"type": "value", "name": _("Number of calls"), "minInterval": 1}],
        "series": [
            {"type": "bar", "name": _("Agents to schedule"), "data": [r["scheduled"] for r in rows]},
            {"type": "line", "name": _("Agents logged in (average)"), "step": "middle",
             "data": [round(r["logged_in"], 1) for r in rows]},
            {"type": "line", "name": _("Expected calls"), "yAxisIndex": 1, "lineStyle": {"type": "dashed"},
             "data": [round(r["calls"], 1) for r in rows]},
        ],
    }
