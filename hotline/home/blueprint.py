"""After login: straight to the user's main workspace."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from workflows.states import Role

bp = Blueprint("home", __name__)

#: Where each role starts its day: its own to-do queue (reviewers and supervisors: what waits on them;
#: call takers: the desk, ready for the next call; departments: their inbox), or the reports for managers.
HOME = {
    Role.CALL_TAKER: "desk.index", Role.EXPERT: "desk.index",
    Role.SUPERVISOR: "todo.index", Role.CENTRE_REVIEWER: "todo.index", Role.MANAGER: "reports.index",
    Role.DEPARTMENT_HANDLER: "inbox.inbox", Role.DEPARTMENT_ADMIN: "inbox.inbox",
    Role.ADMIN: "admin.index",
}


@bp.get("/")
@login_required
def index():
    endpoint = HOME.get(current_user.role)
    if endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    return render_template("home/index.html", user=current_user)
