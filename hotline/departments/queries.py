"""Reads of the department tree that many pages share."""
from __future__ import annotations

import sqlalchemy as sa

from hotline.core.recent import Recent
from hotline.departments.models import Department
from hotline.extensions import db

_active = Recent(Department)


def active_departments() -> list[sa.Row]:
    """Active departments in tree order: rows of (id, name, name_en, path, is_active), as
    `web.pages.department_options` draws them. Read at most every few seconds per process
    (at once again after this process changes a department)."""
    return _active.get("active", lambda: list(db.session.execute(
        sa.select(Department.id, Department.name, Department.name_en, Department.path, Department.is_active)
        .where(Department.is_active).order_by(Department.path))))
