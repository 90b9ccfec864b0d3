"""One unit of work: commit once at the end, or roll back on any error."""
from __future__ import annotations

from functools import wraps

from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from hotline.core.errors import Conflict
from hotline.extensions import db

#: PostgreSQL's deadlock and serialization failures: two writers crossed; the caller may retry.
RETRYABLE = {"40P01", "40001"}


def writes(fn, *, expire_on_commit: bool = True):
    """Run a writing handler as one unit of work: commit on success, roll back on any error.

    `expire_on_commit=False` keeps what the handler wrote loaded after the commit, for a reply built from
    just that (a registration returns what it inserted instead of reading it back)."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            session = db.session()
            expires, session.expire_on_commit = session.expire_on_commit, expire_on_commit
            try:
                session.commit()
            finally:
                session.expire_on_commit = expires
            return result
        except DBAPIError as err:
            db.session.rollback()
            if getattr(err.orig, "sqlstate", None) in RETRYABLE:
                raise Conflict(_("Someone changed this order at the same moment; reload it and try again."),
                               code="concurrent_change") from err
            raise
        except BaseException:
            db.session.rollback()
            raise
    return wrapper
