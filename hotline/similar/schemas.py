"""JSON shapes of similar orders and department suggestions."""
from __future__ import annotations

from datetime import datetime

from hotline.auth.models import User
from hotline.similar.queries import Similar
from hotline.tickets.models import Ticket
from hotline.tickets.schemas import ticket_summary


def similar_json(item: Similar, ticket: Ticket, viewer: User, now: datetime) -> dict:
    """One similar order: `ticket` is the order `item` names, loaded whole (queries.orders_of)."""
    return {"ticket": ticket_summary(ticket, viewer, now), "score": item.score, "reasons": item.reasons}
