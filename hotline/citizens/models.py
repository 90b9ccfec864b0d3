"""Citizens and enterprises, found by phone number."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, true
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.base import utcnow
from hotline.extensions import db


class Citizen(db.Model):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Digits only, the key a caller is recognised by.
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    #: Important callers jump the phone queue.
    is_vip: Mapped[bool] = mapped_column(default=False)
    #: Important callers (e.g. repeat urgent cases) come after VIPs, before everyone else.
    is_important: Mapped[bool] = mapped_column(default=False)
    #: Progress notes on their orders by text message (to a mobile number); the citizen may say no.
    wants_sms: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def mask_phone(phone: str | None) -> str | None:
    """138****1234: what department staff see unless granted."""
    if not phone:
        return phone
    if len(phone) <= 4:
        return "*" * len(phone)
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 3) + phone[-2:]
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
