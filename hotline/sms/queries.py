"""Reads of the SMS feature: an order's surveys, answers waiting for review, pending surveys."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.sms.models import SmsSurvey, SurveyState
from hotline.tickets.models import Ticket


def surveys_of(ticket_id: int) -> list[SmsSurvey]:
    return list(db.session.scalars(sa.select(SmsSurvey).where(SmsSurvey.ticket_id == ticket_id)
                                   .order_by(SmsSurvey.sent_at.desc(), SmsSurvey.id.desc())))


def waiting_for_answer():
    """Orders whose survey by SMS still waits for the citizen: off the phone-visit list meanwhile."""
    return sa.select(SmsSurvey.ticket_id).where(SmsSurvey.state == SurveyState.PENDING)


def to_review(limit: int = 50) -> tuple[list[SmsSurvey], int]:
    """Answers of "not satisfied" a reviewer has not yet settled (reopen or keep closed), oldest first."""
    base = sa.select(SmsSurvey).where(SmsSurvey.needs_review.is_(True))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = db.session.scalars(base.options(selectinload(SmsSurvey.ticket).selectinload(Ticket.lead_department))
                              .order_by(SmsSurvey.answered_at).limit(limit)).all()
    return list(rows), total
