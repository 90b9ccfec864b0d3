"""Users with roles, and API tokens that act as them."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.departments.models import Department
from hotline.extensions import db
from workflows.states import CENTRE, DEPARTMENT, Role


#: A password hash starting with this marks a service account: werkzeug's hashes never do.
SERVICE_PASSWORD_MARK = "!"


#: Only one active user answers an extension (switched-off users keep theirs, for the record).
_ACTIVE_EXTENSION = text("is_active AND extension IS NOT NULL")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_extension_active", "extension", unique=True,
                            sqlite_where=_ACTIVE_EXTENSION, postgresql_where=_ACTIVE_EXTENSION),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    #: Department staff belong to one department; centre staff to none.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Department staff see phone numbers unmasked only when granted.
    can_view_phones: Mapped[bool] = mapped_column(default=False)
    #: Agent's SIP extension, for users who take calls.
    extension: Mapped[str | None] = mapped_column(String(20))
    #: Where text-message notices go (digits only); None: in-app notices only.
    mobile: Mapped[str | None] = mapped_column(String(20))
    #: Routine notices by text message too (urgent ones go to `mobile` whatever this says).
    wants_sms: Mapped[bool] = mapped_column(default=False)
    #: Preferred interface language ("zh" or "en").
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Bumped when the password changes, so old sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)

    department: Mapped[Department | None] = relationship()

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_service_account(self) -> bool:
        """An account the system acts as (the citizen portal): it has no password anyone can use."""
        return self.password_hash.startswith(SERVICE_PASSWORD_MARK)

    @property
    def is_centre(self) -> bool:
        return self.role in CENTRE

    @property
    def is_department(self) -> bool:
        return self.role in DEPARTMENT


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters, to tell tokens apart in listings.
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    is_revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple["ApiToken", str]:
        token = "hl_" + secrets.token_urlsafe(32)
        row = cls(user=user, token_hash=cls.hash(token), prefix=token[:8])
        return row, token
