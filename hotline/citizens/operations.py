"""Citizens: recognised by phone, created on first contact."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.core.postgres import prepared
from hotline.citizens.models import Citizen
from hotline.extensions import db

_NON_DIGITS = re.compile(r"[^0-9]")


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, without a +86/0086 country prefix; None when it can't be a phone number."""
    if raw is None:
        return None
    digits = _NON_DIGITS.sub("", str(raw))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if 5 <= len(digits) <= 20 else None


def is_mobile(phone: str | None) -> bool:
    """Whether a (normalized) number is a mainland mobile one, which can receive text messages."""
    return bool(phone) and len(phone) == 11 and phone.startswith("1") and phone.isdigit()


def set_sms_preference(citizen: Citizen, wants_sms: bool) -> Citizen:
    """Whether the citizen gets the progress of their orders by text message (they say so themselves)."""
    citizen.wants_sms = bool(wants_sms)
    db.session.flush()
    return citizen


def find_citizen(phone: str) -> Citizen | None:
    normalized = normalize_phone(phone)
    if normalized is None:
        return None
    return db.session.scalar(prepared(sa.select(Citizen).where(Citizen.phone == normalized)))


def find_or_create_citizen(phone: str, name: str | None) -> Citizen:
    """The citizen with this phone, created if new; safe when two calls race.

    A known caller (most calls) costs one read; a new one an insert that returns the row, and a
    lost race (the other call inserted first) one more read."""
    citizen = db.session.scalar(prepared(sa.select(Citizen).where(Citizen.phone == phone)))
    if citizen is None:
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        citizen = db.session.scalar(
            insert(Citizen).values(phone=phone, name=name, is_vip=False, is_important=False)
            .on_conflict_do_nothing(index_elements=["phone"]).returning(Citizen))
        if citizen is None:
            citizen = db.session.scalar(sa.select(Citizen).where(Citizen.phone == phone))
    if name and not citizen.name:
        citizen.name = name
    return citizen
