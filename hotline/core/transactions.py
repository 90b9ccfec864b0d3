"""One unit of work: commit once at the end, or roll back on any error."""
from __future__ import annotations

from functools import wraps

from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from hotline.core.errors import Conflict
from hotline.extensions import db

#: PostgreSQL's deadlock and serialization failures: two writers crossed; the caller may retry.
RETRYABLE = {"40P01", "40001"}


def writes(fn):
    """Run a writing handler as one unit of work: commit on success, roll back on any error."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
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
