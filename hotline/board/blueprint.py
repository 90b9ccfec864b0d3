"""Centre supervision board: what is turning yellow and red, and what waits on the centre."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.board import queries
from hotline.board.permissions import can_urge_from_board, can_view_board
from hotline.core.base import utcnow
from hotline.core.errors import NotFound
from hotline.sla.service import assignment_sla
from hotline.tickets import schemas
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations import get_visible_ticket
from hotline.web.pages import run_operation

bp = Blueprint("board", __name__, url_prefix="/board")
#: How often the counts refresh in the page, in seconds.
REFRESH = 30


def _require_viewer() -> None:
    if not can_view_board(current_user):
        abort(403)


@bp.get("/")
@login_required
def index():
    _require_viewer()
    now = utcnow()
    lists = {key: queries.queue(current_user, key, now) for key in queries.QUEUES}
    extensions = queries.pending_extensions()
    quiet_days = current_app.config["PROGRESS_QUIET_WORKING_DAYS"]
    quiet, quiet_total = queries.quiet(current_user, now, quiet_days)
    rows = {key: [schemas.ticket_summary(t, current_user, now) for t in tickets]
            for key, (tickets, _total) in lists.items()}
    totals = {k: v[1] for k, v in lists.items()}
    return render_template("board/index.html", rows=rows, totals=totals, extensions=extensions, refresh=REFRESH,
                           counts={**totals, "extensions": extensions[1], "quiet": quiet_total},
                           quiet=[(a, assignment_sla(a, now)["reply"]) for a in quiet], quiet_total=quiet_total,
                           quiet_days=quiet_days,
                           can_urge=can_urge_from_board(current_user))


@bp.get("/counts")
@login_required
def counts():
    """The counts alone, polled by the page so they change without reloading."""
    _require_viewer()
    return render_template("board/_counts.html", counts=queries.counts(current_user, utcnow()), refresh=REFRESH)


@bp.post("/urge")
@login_required
def urge():
    """Urge several orders at once; each is its own unit of work, so one refusal stops no other."""
    if not can_urge_from_board(current_user):
        abort(403)
    numbers = request.form.getlist("number")
    note = (request.form.get("note") or "").strip() or None
    if not numbers:
        flash(_("Choose at least one order to urge."))
        return redirect(url_for("board.index"))
    done, refused = [], []
    for number in dict.fromkeys(numbers):
        try:
            ticket = get_visible_ticket(current_user, number, for_update=True)
        except NotFound:
            refused.append(number)
            continue
        _result, error = run_operation(perform, ticket, "urge", current_user, {"note": note})
        (refused if error else done).append(number)
    if done:
        flash(_("Urged %(n)d orders.", n=len(done)))
    if refused:
        flash(_("Not urged (no longer waiting on a department): %(numbers)s", numbers=", ".join(refused)))
    return redirect(url_for("board.index"))
