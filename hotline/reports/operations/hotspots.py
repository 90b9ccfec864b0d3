"""Hotspot alerts: an in-app notice to the supervisors for each hotspot of a week, once per week and hotspot."""
from __future__ import annotations

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.messaging import operations as messaging
from hotline.messaging.models import MessageChannel
from hotline.reports.hotspots import format_p
from workflows import measures as wm
from workflows.states import Role


def notify_supervisors(period: wm.Period, found: list[dict]) -> int:
    """Queue the notices of `found` (hotline/reports/hotspots.find of `period`); how many were new.
    The idempotency key is the week and the hotspot: a later, bigger count of the same week says nothing again."""
    if not found:
        return 0
    supervisors = db.session.scalars(sa.select(User).where(User.role == Role.SUPERVISOR, User.is_active.is_(True))
                                     .order_by(User.id)).all()
    rows = []
    for h in found:
        params = {"name": h["label"], "count": h["count"], "expected": f"{h['expected']:.1f}",
                  "start": period.start.isoformat(), "end": period.end.isoformat(), "p": format_p(h["p_value"]),
                  "link": "/reports/?" + ("kind=week&week=" if period.kind == "week" else "kind=month&month=")
                  + period.label() + "#h-hotspots"}
        for user in supervisors:
            rows.append(messaging.message_values(
                intent=f"hotspot:{period.label()}:{h['kind']}:{h['key']}:u{user.id}:inapp", channel=MessageChannel.INAPP,
                template="hotspot", params=params, recipient=user))
    return messaging.queue_messages(rows)
