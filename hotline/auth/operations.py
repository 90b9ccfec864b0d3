"""Users and tokens: created by administrators or the CLI."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from hotline.auth.models import SERVICE_PASSWORD_MARK, ApiToken, User
from hotline.core.base import utcnow
from hotline.citizens.operations import is_mobile, normalize_phone
from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.core.recent import Recent, detached
from hotline.departments.models import Department
from hotline.extensions import db
from workflows.states import DEPARTMENT, Role

MIN_PASSWORD = 8


def create_user(username: str, role: str, password: str, *, department_id: int | None = None,
                display_name: str | None = None, can_view_phones: bool = False) -> User:
    """A new user; department staff must name their department, centre staff must not."""
    errors: dict[str, str] = {}
    member = Role.parse(role)
    if member is None:
        errors["role"] = _("Must be one of: %(values)s.", values=", ".join(Role.values()))
    if not username or len(username) > 64:
        errors["username"] = _("Give a user name of 1 to 64 characters.")
    elif db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors["username"] = _("The user name %(name)s is taken.", name=username)
    if not password or len(password) < MIN_PASSWORD:
        errors["password"] = _("Use a password of at least %(n)d characters.", n=MIN_PASSWORD)
    if member in DEPARTMENT and department_id is None:
        errors["department"] = _("Department staff need a department.")
    if department_id is not None and db.session.get(Department, department_id) is None:
        errors["department"] = _("No department has the id %(id)s.", id=department_id)
    if errors:
        raise Invalid(_("Some fields need fixing."), fields=errors)
    user = User(username=username, display_name=display_name or username, role=member,
                department_id=department_id, can_view_phones=can_view_phones, password_hash="")
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def issue_token(user: User) -> str:
    """A new API token for `user`; only its hash is kept."""
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.flush()
    return token


#: Users (with their department) by id, and live tokens by hash, kept a few seconds between requests.
_users = Recent(User, Department)
_tokens = Recent(ApiToken, User, Department)


def _kept(load):
    return detached(lambda: orm.Session(db.engine), load)


def session_user(user_id: int) -> User | None:
    """The user a login session names, in this request's session (read at most every few seconds)."""
    user = _users.get(user_id, lambda: _kept(lambda s: s.scalar(
        sa.select(User).options(orm.joinedload(User.department)).where(User.id == user_id))))
    return None if user is None else db.session.merge(user, load=False)


def user_for_token(token: str) -> User | None:
    """The active user a live API token acts as, in this request's session (revocation takes effect
    here at once and in other processes within seconds: see `hotline.core.recent`)."""
    digest = ApiToken.hash(token)
    row = _tokens.get(digest, lambda: _kept(lambda s: s.scalar(
        sa.select(ApiToken).options(orm.joinedload(ApiToken.user).joinedload(User.department))
        .where(ApiToken.token_hash == digest, ApiToken.is_revoked.is_(False)))))
    if row is None or not row.user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
        # At most every five minutes, in a transaction of its own: a request's own work never
        # waits on the token row, and a read-only request still records the use.
        with db.engine.begin() as conn:
            conn.execute(sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        orm.attributes.set_committed_value(row, "last_used_at", now)  # the kept copy: no second write soon
    return db.session.merge(row.user, load=False)


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.is_active or not user.check_password(password):
        return None
    return user


def _changeable(actor: User, user: User) -> None:
    if user.is_service_account:
        raise Conflict(_("The portal's service account is managed by the system."))


def set_password(actor: User, user: User, password: str) -> None:
    """A new password; every session of the user ends."""
    _changeable(actor, user)
    if not password or len(password) < MIN_PASSWORD:
        raise Invalid(_("Some fields need fixing."),
                      fields={"password": _("Use a password of at least %(n)d characters.", n=MIN_PASSWORD)})
    user.set_password(password)
    db.session.flush()


def set_notice_preferences(actor: User, user: User, mobile: str | None, wants_sms: bool) -> User:
    """Where a user's notices go by text message; users set their own, administrators anyone's."""
    if actor.id != user.id and actor.role is not Role.ADMIN:
        raise Forbidden(_("Only the user or an administrator may change where their notices go."))
    number = None
    if mobile and mobile.strip():
        number = normalize_phone(mobile)
        if not is_mobile(number):
            raise Invalid(_("Some fields need fixing."),
                          fields={"mobile": _("Enter a mainland mobile number of 11 digits, e.g. 13912345678.")})
    if wants_sms and number is None:
        raise Invalid(_("Some fields need fixing."),
                      fields={"mobile": _("Enter the mobile number the text messages should go to.")})
    user.mobile, user.wants_sms = number, wants_sms
    db.session.flush()
    return user


def set_language(actor: User, user: User, language: str) -> User:
    """The interface language a user chose ("zh" or "en"); it also chooses the language of their notices."""
    from hotline import LOCALES
    if actor.id != user.id and actor.role is not Role.ADMIN:
        raise Forbidden(_("Only the user or an administrator may change their language."))
    if language not in LOCALES:
        raise Invalid(_("Some fields need fixing."), fields={"language": _("Choose Chinese or English.")})
    user.locale = language
    db.session.flush()
    return user


def set_user_active(actor: User, user: User, active: bool) -> None:
    """Switch a user on or off; a switched-off user can no longer log in or use tokens."""
    _changeable(actor, user)
    if user.id == actor.id and not active:
        raise Conflict(_("You cannot switch off your own account."))
    user.is_active = active
    if not active:
        user.session_version += 1
    db.session.flush()


def service_user(username: str, display_name: str, role: Role = Role.CALL_TAKER) -> User:
    """A service account the system acts as (the portal, the telephony worker, the SMS gateway).

    A call taker (or `role`) who cannot log in (its password hash can match nothing), created in the
    current transaction if missing; two first uses at once both find the same row.
    """
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is not None:
        return user
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(User).values(
        username=username, display_name=display_name, role=role,
        password_hash=f"{SERVICE_PASSWORD_MARK}{username}-service-user", is_active=True, can_view_phones=False,
        session_version=1, created_at=utcnow()).on_conflict_do_nothing(index_elements=["username"]))
    return db.session.scalar(sa.select(User).where(User.username == username))
