"""Departments: added and switched on or off by administrators."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.citizens.operations import normalize_phone
from hotline.core.fields import Fields
from hotline.departments.models import Department
from hotline.extensions import db
from workflows.vocabulary import DepartmentLevel


def create_department(data: dict) -> Department:
    f = Fields(data)
    name = f.text("name", required=True, max_len=120)
    name_en = f.text("name_en", max_len=160)
    code = f.text("code", required=True, max_len=40)
    level = f.choice("level", DepartmentLevel, required=True)
    parent_id = f.integer("parent", low=1)
    is_utility = f.boolean("is_utility", default=False)
    duty_phone = _duty_phone(f)
    parent = db.session.get(Department, parent_id) if parent_id else None
    if parent_id and parent is None:
        f.error("parent", _("No department has the id %(id)s.", id=parent_id))
    if code and db.session.scalar(sa.select(Department.id).where(Department.code == code)):
        f.error("code", _("The code %(code)s is taken.", code=code))
    f.done()
    dept = Department(name=name, name_en=name_en, code=code, level=level, parent=parent, is_utility=bool(is_utility),
                      duty_phone=duty_phone)
    db.session.add(dept)
    db.session.flush()
    dept.path = (parent.path if parent else "/") + f"{dept.id}/"
    db.session.flush()
    return dept


def _duty_phone(f: Fields) -> str | None:
    raw = f.text("duty_phone", max_len=40)
    if not raw:
        return None
    number = normalize_phone(raw)
    if number is None:
        f.error("duty_phone", _("Not a phone number: use 5 to 20 digits, e.g. 025-52345678 or 13812345678."))
    return number


def set_duty_phone(dept: Department, data: dict) -> Department:
    """The number the telephony worker calls at night for the department's urgent orders; empty: none."""
    f = Fields(data)
    number = _duty_phone(f)
    f.done()
    dept.duty_phone = number
    db.session.flush()
    return dept


def set_department_active(dept: Department, active: bool) -> None:
    """Switch a department (and its sub-units) on or off; existing orders keep it."""
    if not active:
        for sub in db.session.scalars(sa.select(Department).where(Department.path.startswith(dept.path))):
            sub.is_active = False
    dept.is_active = active
    db.session.flush()
