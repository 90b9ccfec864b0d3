"""JSON shapes of similar orders and department suggestions."""
from __future__ import annotations

from datetime import datetime

from hotline.auth.models import User
from hotline.similar.queries import Similar
from hotline.tickets.schemas import ticket_summary


def similar_json(item: Similar, viewer: User, now: datetime) -> dict:
    return {"ticket": ticket_summary(item.ticket, viewer, now), "score": item.score, "reasons": item.reasons}
