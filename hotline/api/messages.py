"""The outbox over the API: an order's messages and their states (centre roles only)."""
from __future__ import annotations

from flask import jsonify

from hotline.api.blueprint import bp
from hotline.api.common import api_user, require
from hotline.messaging import permissions, queries
from hotline.tickets.operations import get_visible_ticket


@bp.get("/tickets/<number>/messages")
def ticket_messages(number: str):
    """Every notice sent about the order: channel, recipient, state, attempts, last error."""
    user = api_user()
    require(permissions.can_view_messages, user)
    ticket = get_visible_ticket(user, number)
    return jsonify({"items": queries.ticket_messages(ticket)})
