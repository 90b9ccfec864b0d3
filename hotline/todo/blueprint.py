"""My to-do: what waits on the centre's reviewers, the longest-waiting first, each with its one step."""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from hotline.core import counts as capped
from hotline.core.base import utcnow
from hotline.sla.service import format_local
from hotline.todo import queries
from hotline.todo.permissions import can_use_todo

bp = Blueprint("todo", __name__, url_prefix="/todo")
#: Rows per page.
PER_PAGE = 25
#: What each kind of item is, in the order the page counts them.
KIND_TITLES = {"reply": _l("Reply to review"), "return": _l("Return to review"),
               "extension": _l("Extension request"), "visit": _l("Return visit due"),
               "survey": _l("Dissatisfied by SMS survey")}


class Row(NamedTuple):
    """One item of the to-do, ready to print: a page draws 25 of these without a link built, a word translated
    or a filter called per row."""

    kind: str
    #: what the item is ("Reply to review")
    title: str
    url: str
    number: str
    subject: str
    #: an extension request's days and reason ("3 working days · reason"), else ""
    extension: str
    #: the department the item comes from (an extension's asker, else the order's lead), or ""
    department: str
    #: when it arrived, local
    since: str
    #: the order's page with the step open, coming back here afterwards
    step_url: str
    step: str
    #: the step's button for a screen reader ("Review reply: order 2026...")
    step_label: str


def _rows(items: list[queries.Item]) -> list[Row]:
    locale = str(get_locale() or "zh")
    titles = {kind: str(title) for kind, title in KIND_TITLES.items()}
    order_url = url_for("tickets.detail", number="_")[:-1]   # built once, not per row
    steps = {}
    rows = []
    for item in items:
        t, step = item.ticket, item.step
        if step not in steps:  # once a step: its title, its query, and its label with a mark where the number goes
            title = step.title_for(locale)
            query = urlencode({"act": step.value, "then": "todo"})
            steps[step] = (title, f"?{query}#action-{step.value}",
                           _("%(step)s: order %(number)s", step=title, number="\0"))
        step_title, step_query, label = steps[step]
        extension = item.extension
        dept = extension.assignment.department if extension else t.lead_department
        rows.append(Row(
            kind=item.kind, title=titles[item.kind], url=order_url + t.number, number=t.number, subject=t.subject,
            extension=(_("%(n)d working days", n=extension.days) + " · " + extension.reason) if extension else "",
            department=dept.name if dept else "", since=format_local(item.since) if item.since else "",
            step_url=order_url + t.number + step_query, step=step_title, step_label=label.replace("\0", t.number)))
    return rows


@bp.get("")
@login_required
def index():
    user = current_user._get_current_object()
    if not can_use_todo(user):
        abort(403)
    kind = request.args.get("kind") or None
    if kind is not None and kind not in queries.ORDER:
        abort(404)
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    now = utcnow()
    queue = queries.parts(user, now)
    counts = queries.counts(queue)
    everything = queries.total(counts)
    total = counts[kind] if kind else everything
    items, more = queries.page(queue, page_no, PER_PAGE, kind)
    return render_template(
        "todo/index.html", rows=_rows(items), kinds={k: str(KIND_TITLES[k]) for k in queries.ORDER},
        counts=counts, everything=everything, total=total, kind=kind,
        page=page_no, pages=capped.pages(total, PER_PAGE, page_no, more),
        page_url=lambda n: url_for("todo.index", kind=kind, page=n))
