"""The bulletins page (/reports/bulletins/): the kept bulletins with their downloads, and "generate now",
which queues a Celery task and shows its progress (the page polls a small JSON status)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.reports import tasks, workspace
from hotline.reports.models import Bulletin, BulletinState
from hotline.reports.operations import bulletins as ops
from hotline.reports.permissions import can_view_workspace
from hotline.sla import service as sla
from hotline.web.pages import run_operation

bp = Blueprint("bulletins", __name__, url_prefix="/reports/bulletins")

LISTED = 60
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


def _require_reader() -> None:
    if not can_view_workspace(current_user):
        abort(403)


def _bulletin(bulletin_id: int) -> Bulletin:
    _require_reader()
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def step_title(step: str) -> str:
    return {
        "totals": _("Counting the centre's figures"), "mix": _("Counting types, channels and categories"),
        "departments": _("Counting the units' rates"), "hotspots": _("Looking for hotspots"),
        "repeats": _("Looking for repeat complaints"), "charts": _("Drawing the charts"),
        "docx": _("Writing the Word document"), "pdf": _("Writing the PDF"), "saving": _("Saving"),
        "done": _("Ready"),
    }.get(step, _("Waiting for a worker"))


def status(bulletin: Bulletin) -> dict:
    locale = str(get_locale() or "zh")
    out = {"id": bulletin.id, "state": bulletin.state.value, "state_title": bulletin.state.title_for(locale),
           "progress": bulletin.progress, "step": bulletin.step, "step_title": step_title(bulletin.step),
           "downloads": []}
    if bulletin.state is BulletinState.DONE:
        out["downloads"] = [{"format": fmt, "label": _("Download %(format)s", format=fmt.upper()),
                             "url": url_for("bulletins.download", bulletin_id=bulletin.id, fmt=fmt)}
                            for fmt in ops.FORMATS if getattr(bulletin, f"{fmt}_path")]
    if bulletin.state is BulletinState.FAILED:
        out["error"] = _("Generation failed; try again, or ask the administrator to look at the worker's log.")
    return out


def _page(error=None, form=None, status_code=200):
    today = sla.local_date(utcnow())
    rows = db.session.scalars(sa.select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
                              .limit(LISTED)).all()
    return render_template(
        "reports/bulletins.html", rows=rows, status=status, error=error, errors=error.fields if error else {},
        form=form or {"kind": "week"}, weeks=workspace.recent_units("week", today, 27),
        months=workspace.recent_units("month", today, 25), new=request.args.get("new", type=int),
        locale=str(get_locale() or "zh")), status_code


@bp.get("/")
@login_required
def index():
    _require_reader()
    return _page()


@bp.post("/")
@login_required
def generate():
    _require_reader()
    kind = request.form.get("kind", "")
    value = request.form.get(kind, "") if kind in ("week", "month") else ""
    today = sla.local_date(utcnow())
    bulletin, error = run_operation(ops.request_bulletin, current_user, kind, value, today)
    if error is not None:
        return _page(error, form=request.form, status_code=error.status)
    tasks.enqueue(bulletin.id)  # after the commit: the worker finds the row
    return redirect(url_for("bulletins.index", new=bulletin.id, _anchor=f"bulletin-{bulletin.id}"), 303)


@bp.get("/<int:bulletin_id>/status")
@login_required
def bulletin_status(bulletin_id: int):
    response = jsonify(status(_bulletin(bulletin_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:bulletin_id>/<fmt>")
@login_required
def download(bulletin_id: int, fmt: str):
    bulletin = _bulletin(bulletin_id)
    path = ops.path_of(bulletin, fmt)
    if path is None:
        abort(404)
    return send_file(path, mimetype=MIME[fmt], as_attachment=True, download_name=ops.file_name(bulletin, fmt),
                     max_age=0)
