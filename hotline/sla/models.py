"""SLA policies and the working-day calendar, as data administrators edit."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.extensions import db
from workflows.deadlines import Unit
from workflows.vocabulary import TicketType, Urgency


class SlaPolicy(db.Model):
    """One deadline rule: for `step`, cases of this urgency/type get `amount` `unit`."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint("step", "urgency", "ticket_type", name="step_urgency_type"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("step IN ('sign','reply','return_window','extension_max','visit','urge','escalate')",
                        name="step_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(String(20))
    #: None means any urgency.
    urgency: Mapped[Urgency | None] = mapped_column(enum_column(Urgency, "policy_urgency"))
    #: None means any case type.
    ticket_type: Mapped[TicketType | None] = mapped_column(enum_column(TicketType, "policy_type"))
    amount: Mapped[int]
    unit: Mapped[Unit] = mapped_column(enum_column(Unit, "policy_unit"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CalendarYear(db.Model):
    """A year the calendar knows; deadlines in other years fail loudly."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Where the days came from: "chinesecalendar", "weekdays" (provisional) or "manual".
    source: Mapped[str] = mapped_column(String(20))
    #: Bumped on every edit so processes reload their cached calendar.
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CalendarDay(db.Model):
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    #: Holiday or make-up day name, e.g. "国庆节" or "调休上班".
    note: Mapped[str | None] = mapped_column(String(60))
