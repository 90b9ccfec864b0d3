"""Similar orders on the order page (a panel) and the department suggestion's accuracy (administrators)."""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.similar import operations, permissions, queries, suggestions
from hotline.tickets.models import Ticket
from hotline.tickets.panels import register_panel
from hotline.tickets.rules import available_actions
from workflows.states import Action
from workflows import similarity

bp = Blueprint("similar", __name__, url_prefix="/similar")
REASONS = {similarity.TEXT: _l("Similar content"), similarity.ADDRESS: _l("Same address"),
           similarity.CALLER: _l("Same caller")}


def similar_panel_context(ticket: Ticket, user: User) -> dict:
    if not permissions.can_see_similar(user):
        return {}
    now = utcnow()
    return {"orders": queries.similar_orders(ticket, now=now), "days": current_app.config.get("SIMILAR_DAYS", 30),
            "number": ticket.number, "reason_titles": REASONS,
            "may_merge": Action.MERGE in available_actions(ticket, user, now, among=(Action.MERGE,))}


@bp.record_once
def _install(state) -> None:
    """Keep orders' words indexed, and show similar orders on the order page (tickets never imports this)."""
    operations.install()
    # drawn after the page: the search grows with the order's look-alikes (a popular complaint has thousands)
    register_panel(state.app, "similar", "similar/_order_similar.html", similar_panel_context,
                   later=lambda ticket, user: permissions.can_see_similar(user))


@bp.get("/model")
@login_required
def model():
    if not permissions.can_see_model(current_user):
        abort(403)
    row = suggestions.latest()
    return render_template("similar/model.html", model=row, evaluation=json.loads(row.evaluation) if row else None,
                           threshold=current_app.config.get("SUGGEST_THRESHOLD", 0.5))
