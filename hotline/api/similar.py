"""Similar orders (并单候选) and the department suggestion over the API."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from hotline.api.blueprint import bp
from hotline.api.common import api_user, json_body, require
from hotline.core.base import utcnow
from hotline.similar import permissions, queries, schemas
from hotline.tickets.operations import get_visible_ticket


@bp.get("/tickets/<number>/similar")
def ticket_similar(number: str):
    """Open orders of the last SIMILAR_DAYS days that may be the same case, with why and a score."""
    user = api_user()
    ticket = get_visible_ticket(user, number)
    require(permissions.can_see_similar, user)
    now = utcnow()
    items = queries.similar_orders(ticket, now=now)
    orders = queries.orders_of(items)
    return jsonify({"items": [schemas.similar_json(item, orders[item.ticket_id], user, now) for item in items
                              if item.ticket_id in orders]})


@bp.post("/suggestions/department")
def suggest_department():
    """The three departments most likely to handle a case, each with its confidence."""
    from hotline.similar import suggestions
    user = api_user()
    require(permissions.can_ask_suggestion, user)
    return jsonify(suggestions.suggest_from_request(json_body()))
