"""Bulletins (通报): the weekly and monthly reports kept for managers to download."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.extensions import db
from workflows.enums import TitledEnum


class BulletinKind(TitledEnum):
    WEEK = "week", "周报", "Weekly bulletin"
    MONTH = "month", "月报", "Monthly bulletin"


class BulletinState(TitledEnum):
    QUEUED = "queued", "等待生成", "Waiting"
    RUNNING = "running", "正在生成", "Being generated"
    DONE = "done", "已生成", "Ready"
    FAILED = "failed", "生成失败", "Failed"


class Bulletin(db.Model):
    """One generation of the bulletin of a week or month: its DOCX and PDF, kept as files under
    BULLETIN_DIR (paths relative to it), and how far the generation has got."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BulletinKind] = mapped_column(enum_column(BulletinKind, "bulletin_kind"))
    #: 2026-W24 or 2026-06.
    period: Mapped[str] = mapped_column(String(10), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    state: Mapped[BulletinState] = mapped_column(enum_column(BulletinState, "bulletin_state"),
                                                 default=BulletinState.QUEUED)
    #: 0-100, and the step under way (a key of bulletins.STEPS).
    progress: Mapped[int] = mapped_column(default=0)
    step: Mapped[str] = mapped_column(String(20), default="")
    #: Who asked for it; None: the schedule.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The schedule's bulletin of a period is made once ("week:2026-W24"); asked-for ones have none.
    schedule_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    generated_at: Mapped[datetime | None]
    docx_path: Mapped[str | None] = mapped_column(String(300))
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
