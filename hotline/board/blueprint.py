"""Centre supervision board: what is turning yellow and red, and what waits on the centre."""
from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from hotline.board import queries
from hotline.board.permissions import can_urge_from_board, can_view_board
from hotline.core.base import utcnow
from hotline.core.errors import NotFound
from hotline.sla import service as sla_service
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations import get_visible_ticket
from hotline.web.pages import run_operation, sla_words

bp = Blueprint("board", __name__, url_prefix="/board")
#: How often the counts refresh in the page, in seconds.
REFRESH = 30
#: How many rows each list of the board shows; the rest are a "view all" link away.
FOLD = 10
#: Rows per page of one list shown whole.
PER_PAGE = 25
#: Lists a reviewer may pick orders from to urge them.
URGEABLE = ("red", "yellow", "quiet")


def _require_viewer() -> None:
    if not can_view_board(current_user):
        abort(403)


class Row(NamedTuple):
    """One row of a board list, ready to print: the board draws up to 50 of these without a macro call each."""

    url: str
    number: str
    subject: str
    #: "Supervised" when the order is under supervision, else ""
    supervised: str
    #: "Urged 3 times", or "" when never urged
    urged: str
    department: str
    #: the SLA badge: its state (green, yellow, red) and its word
    state: str
    state_word: str
    #: the instant shown in the last column: whole (its title) and without the year
    when: str
    when_short: str


def _rows(key: str, rows: list, now) -> list:
    """A list's rows as the board draws them: orders with their deadline, quiet work with its last word and
    its reply deadline's state; extension requests as they are (a few, drawn from their own fields)."""
    if key not in queries.QUEUES and key != "quiet":
        return rows
    words = sla_words()
    order_url = url_for("tickets.detail", number="_")[:-1]   # built once, not per row
    out = []
    for item in rows:
        if key == "quiet":
            ticket, state, at = item.ticket, sla_service.assignment_sla(item, now)["reply"], item.last_progress_at
            department, urges = item.department.name, item.urge_count
        else:
            ticket = item
            sla = sla_service.ticket_sla(ticket, now)
            state, at, urges = sla["state"], sla["due_at"], ticket.urge_count
            department = ticket.lead_department.name if ticket.lead_department else "—"
        when = sla_service.format_local(at) if at else ""
        out.append(Row(url=order_url + ticket.number, number=ticket.number, subject=ticket.subject,
                       supervised=_("Supervised") if key != "quiet" and ticket.supervision_level else "",
                       urged=ngettext("Urged once", "Urged %(num)d times", urges) if urges else "",
                       department=department, state=state, state_word=words[state], when=when,
                       when_short=when[5:]))
    return out


def _lists(now, limit: int, page_no: int = 1, only: str | None = None) -> dict:
    """key -> (rows, total, pages) of the board's lists (or of the one list `only`), one page of `limit`."""
    user = current_user._get_current_object()
    out = {}
    for key in queries.QUEUES:
        if only in (None, key):
            tickets, total, pages = queries.queue(user, key, now, limit, page_no)
            out[key] = (_rows(key, tickets, now), total, pages)
    if only in (None, "quiet"):
        quiet, total, pages = queries.quiet(user, now, current_app.config["PROGRESS_QUIET_WORKING_DAYS"], limit,
                                            page_no)
        out["quiet"] = (_rows("quiet", quiet, now), total, pages)
    if only in (None, "extensions"):
        out["extensions"] = queries.pending_extensions(limit, page_no)
    return out


def _titles(quiet_days: int) -> dict[str, str]:
    return {"red": _("Overdue"), "yellow": _("Due soon (three quarters of the time used)"),
            "quiet": ngettext("No progress for %(num)d working day", "No progress for %(num)d working days",
                              quiet_days),
            "returned": _("Returns waiting for review"), "extensions": _("Extension requests"),
            "replied": _("Replies waiting for review"), "awaiting_visit": _("Return visits due")}


def _page_context() -> dict:
    quiet_days = current_app.config["PROGRESS_QUIET_WORKING_DAYS"]
    return {"quiet_days": quiet_days, "titles": _titles(quiet_days), "refresh": REFRESH,
            "can_urge": can_urge_from_board(current_user), "urgeable": URGEABLE}


@bp.get("/")
@login_required
def index():
    _require_viewer()
    user, now = current_user._get_current_object(), utcnow()
    lists = {key: (_rows(key, rows, now), total, 1)
             for key, (rows, total) in queries.first_rows(user, now, FOLD).items()}
    return render_template("board/index.html", lists=lists, counts={k: v[1] for k, v in lists.items()},
                           **_page_context())


@bp.get("/list/<key>")
@login_required
def full_list(key: str):
    """One list of the board shown whole, a page at a time, in the board's order."""
    _require_viewer()
    if key not in (*queries.QUEUES, "quiet", "extensions"):
        abort(404)
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    rows, total, pages = _lists(utcnow(), PER_PAGE, page_no, only=key)[key]
    return render_template("board/list.html", key=key, rows=rows, total=total, page=page_no, pages=pages,
                           page_url=lambda n: url_for("board.full_list", key=key, page=n), **_page_context())


@bp.get("/counts")
@login_required
def counts():
    """The counts alone, polled by the page so they change without reloading."""
    _require_viewer()
    return render_template("board/_counts.html", counts=queries.queue_counts(current_user, utcnow()), refresh=REFRESH)


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
        return redirect(_back())
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
    return redirect(_back())


def _back() -> str:
    """Back to the list the urge was sent from (the board, or one of its lists shown whole)."""
    key = request.form.get("back")
    if key in URGEABLE:
        return url_for("board.full_list", key=key)
    return url_for("board.index")
