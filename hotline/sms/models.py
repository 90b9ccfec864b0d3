"""What citizens text in, and the return-visit surveys sent to them by SMS."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.extensions import db
from hotline.tickets.models import Ticket
from workflows.enums import TitledEnum


class IncomingOutcome(TitledEnum):
    REGISTERED = "registered", "新建工单", "New order"
    APPENDED = "appended", "补充到工单", "Added to an order"
    SURVEY_ANSWER = "survey_answer", "回访答复", "Survey answer"
    IGNORED = "ignored", "未处理", "Ignored"


class IncomingSms(db.Model):
    """One text message a citizen sent to the hotline's number, and what became of it."""

    __tablename__ = "incoming_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The gateway's id of the message: the same message delivered twice is handled once.
    provider_id: Mapped[str] = mapped_column(String(100), unique=True)
    sender: Mapped[str] = mapped_column(String(20), index=True)
    receiver: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[IncomingOutcome] = mapped_column(enum_column(IncomingOutcome, "incoming_sms_outcome"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(200))


class SurveyState(TitledEnum):
    PENDING = "pending", "等待答复", "Waiting for the answer"
    ANSWERED = "answered", "已答复", "Answered"
    EXPIRED = "expired", "未答复，转电话回访", "No answer: back to phone visits"


class SmsSurvey(db.Model):
    """A return visit asked by SMS ("回复1满意，2基本满意，3不满意") and its answer."""

    __tablename__ = "sms_surveys"
    __table_args__ = (
        Index("ix_sms_surveys_state_expires_at", "state", "expires_at"),
        Index("ix_sms_surveys_phone_state", "phone", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    state: Mapped[SurveyState] = mapped_column(enum_column(SurveyState, "sms_survey_state"),
                                               default=SurveyState.PENDING)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    #: "1", "2" or "3" as the citizen answered.
    answer: Mapped[str | None] = mapped_column(String(1))
    #: An answer of 3 (not satisfied) waits for a reviewer, who reopens the order or keeps it closed.
    needs_review: Mapped[bool] = mapped_column(default=False)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    ticket: Mapped[Ticket] = relationship()
