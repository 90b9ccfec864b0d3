"""Reads of the SMS feature: an order's surveys, answers waiting for review, pending surveys."""
from __future__ import annotations

import sqlalchemy as sa

from hotline.core.postgres import prepared
from hotline.extensions import db
from hotline.sms.models import SmsSurvey, SurveyState
from hotline.tickets.models import Ticket
from workflows.states import TicketStatus


def surveys_of(ticket_id: int) -> list[SmsSurvey]:
    return list(db.session.scalars(prepared(sa.select(SmsSurvey).where(SmsSurvey.ticket_id == ticket_id)
                                            .order_by(SmsSurvey.sent_at.desc(), SmsSurvey.id.desc()))))


def waiting_for_answer():
    """Orders whose survey by SMS still waits for the citizen: off the phone-visit list meanwhile."""
    return sa.select(SmsSurvey.ticket_id).where(SmsSurvey.state == SurveyState.PENDING)


def awaiting_review() -> sa.Select:
    """Orders a citizen closed with "3" (not satisfied) by SMS that wait for a reviewer to reopen them or
    keep them closed: (ticket_id, since: when the answer came), one row an order."""
    return (sa.select(SmsSurvey.ticket_id.label("ticket_id"), sa.func.min(SmsSurvey.answered_at).label("since"))
            .join(Ticket, Ticket.id == SmsSurvey.ticket_id)
            .where(SmsSurvey.needs_review.is_(True), Ticket.status == TicketStatus.CLOSED)
            .group_by(SmsSurvey.ticket_id))
