"""What the work-order pages read from a browser's forms: list filters and action fields."""
from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from hotline.tickets.filters import extra_params

from workflows.states import Action

#: Filters of the list page, passed on to queries.build_query (and to the CSV export).
FILTER_NAMES = ("status", "type", "channel", "urgency", "category", "department", "overdue", "sla", "created_from",
                "created_to", "q", "phone", "sort")
#: Filters the list's form has no field for (links set them: the reports' drill-downs).
UNSHOWN_FILTERS = ("channel", "urgency", "category")
PER_PAGE = 25
#: Rows a page may hold (?per_page=); anything else falls back to PER_PAGE.
PER_PAGE_CHOICES = (25, 50, 100)
MAX_PAGE = 100000


@dataclass(frozen=True)
class FieldSpec:
    """One input of an action form; `kind` says how the browser sends it."""

    name: str
    kind: str  # text, textarea, number, checkbox, yesno, select, multi


def _f(name: str, kind: str = "text") -> FieldSpec:
    return FieldSpec(name, kind)


#: The fields of each action form (API.md's action table).
ACTION_FIELDS: dict[Action, tuple[FieldSpec, ...]] = {
    Action.ANSWER: (_f("reply", "textarea"),),
    Action.DISPATCH: (_f("department", "select"), _f("assist", "multi"), _f("note", "textarea")),
    Action.SIGN: (),
    Action.RETURN: (_f("reason", "textarea"),),
    Action.REVIEW_RETURN: (_f("approve", "yesno"), _f("department", "select"), _f("note", "textarea")),
    Action.SUB_DISPATCH: (_f("department", "select"), _f("note", "textarea")),
    Action.REQUEST_EXTENSION: (_f("days", "number"), _f("reason", "textarea")),
    Action.REVIEW_EXTENSION: (_f("assignment", "select"), _f("approve", "yesno"), _f("note", "textarea")),
    Action.REPLY: (_f("content", "textarea"), _f("contacted_citizen", "checkbox")),
    Action.PROGRESS: (_f("text", "textarea"), _f("public", "checkbox")),
    Action.REVIEW_REPLY: (_f("approve", "yesno"), _f("note", "textarea")),
    Action.VISIT: (_f("satisfaction", "select"), _f("resolved", "yesno"), _f("note", "textarea")),
    Action.REOPEN: (_f("reason", "textarea"), _f("department", "select")),
    Action.URGE: (_f("note", "textarea"),),
    Action.SUPERVISE: (_f("note", "textarea"),),
    Action.MERGE: (_f("into"),),
    Action.CANCEL: (_f("reason", "textarea"),),
    Action.COMMENT: (_f("content", "textarea"), _f("internal", "checkbox")),
    Action.GRANT_IDENTITY: (_f("department", "select"), _f("reason", "textarea")),
}


def action_data(action: Action, form: MultiDict) -> dict:
    """The posted form as the dict actions.perform expects; only the action's own fields."""
    data: dict = {}
    for spec in ACTION_FIELDS.get(action, ()):
        if spec.kind == "checkbox":
            data[spec.name] = "true" if form.get(spec.name) else "false"
        elif spec.kind == "multi":
            data[spec.name] = [v for v in form.getlist(spec.name) if v]
        else:
            value = form.get(spec.name)
            if value not in (None, ""):
                data[spec.name] = value
    return data


def filter_args(args: MultiDict) -> dict:
    """The list filters that were filled in; several statuses are joined as build_query wants."""
    out: dict = {}
    for name in FILTER_NAMES + extra_params():
        if name == "status":
            values = [v.strip() for v in args.getlist("status") for v in v.split(",") if v.strip()]
            if values:
                out["status"] = ",".join(dict.fromkeys(values))
            continue
        value = (args.get(name) or "").strip()
        if value:
            out[name] = value
    return out


def per_page(args: MultiDict) -> int:
    try:
        value = int(args.get("per_page") or PER_PAGE)
    except ValueError:
        return PER_PAGE
    return value if value in PER_PAGE_CHOICES else PER_PAGE


def page_number(args: MultiDict) -> int:
    try:
        value = int(args.get("page") or 1)
    except ValueError:
        return 1
    return min(max(value, 1), MAX_PAGE)
