"""A lease that keeps two runs of a periodic job from overlapping, on any database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db


class PeriodicLock(db.Model):
    """Held by one process until `held_until`; a holder that died frees it by expiring."""

    __tablename__ = "periodic_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    held_until: Mapped[datetime]
    #: What the job last ran under (the escalation sweep: a fingerprint of the calendar and policies).
    rules: Mapped[str | None] = mapped_column(String(64))
