"""My to-do: what waits on the centre's reviewers, the longest-waiting first, each with its one step."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from hotline.core import counts as capped
from hotline.core.base import utcnow
from hotline.todo import queries
from hotline.todo.permissions import can_use_todo

bp = Blueprint("todo", __name__, url_prefix="/todo")
#: Rows per page.
PER_PAGE = 25


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
        "todo/index.html", items=items, counts=counts, everything=everything, total=total, kind=kind, now=now,
        page=page_no, pages=capped.pages(total, PER_PAGE, page_no, more),
        page_url=lambda n: url_for("todo.index", kind=kind, page=n),
        step_url=lambda item: url_for("tickets.detail", number=item.ticket.number, act=item.step.value,
                                      then="todo", _anchor=f"action-{item.step.value}"))
