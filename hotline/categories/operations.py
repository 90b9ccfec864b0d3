"""Case categories: a coded tree administrators keep."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm

from hotline.categories.models import Category
from hotline.core.fields import Fields
from hotline.core.recent import Recent, detached
from hotline.departments.models import Department
from hotline.extensions import db
from workflows.vocabulary import Urgency

#: Active categories by code, kept a few seconds between requests: every order registered names one.
_active = Recent(Category)
#: The ids under a code (`subtree_id_list`), kept the same way: lists filter by them.
_subtrees = Recent(Category)


def active_category(code: str) -> Category | None:
    """The active category with this code, in this request's session: read at most every few seconds per
    process, and at once again after this process changed a category (hotline/core/recent.py)."""
    category = _active.get(code, lambda: detached(lambda: orm.Session(db.engine), lambda s: s.scalar(
        sa.select(Category).where(Category.code == code, Category.is_active))))
    return None if category is None else db.session.merge(category, load=False)


def subtree_id_list(code: str) -> list[int]:
    """The ids of the categories whose code starts with `code` (the category and all below it, active or not),
    read at most every few seconds per process: a list filters by the literal ids, so the database reads one
    category's orders from its index (and knows how many it has) instead of guessing at a subquery."""
    return _subtrees.get(code, lambda: list(db.session.scalars(
        sa.select(Category.id).where(Category.code.startswith(code, autoescape=True)).order_by(Category.id))))


def create_category(data: dict) -> Category:
    f = Fields(data)
    code = f.text("code", required=True, max_len=20)
    name = f.text("name", required=True, max_len=120)
    name_en = f.text("name_en", max_len=160)
    parent_id = f.integer("parent", low=1)
    dept_id = f.integer("default_department", low=1)
    urgency = f.choice("default_urgency", Urgency)
    parent = db.session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        f.error("parent", _("Not found."))
    if dept_id and db.session.get(Department, dept_id) is None:
        f.error("default_department", _("No department has the id %(id)s.", id=dept_id))
    if code and not code.isdigit():
        f.error("code", _("Use digits only, e.g. 0105."))
    elif code and parent and not code.startswith(parent.code):
        f.error("code", _("A sub-category's code starts with its parent's code (%(code)s).", code=parent.code))
    if code and db.session.scalar(sa.select(Category.id).where(Category.code == code)):
        f.error("code", _("The code %(code)s is taken.", code=code))
    f.done()
    category = Category(code=code, name=name, name_en=name_en, parent_id=parent.id if parent else None,
                        default_department_id=dept_id, default_urgency=urgency)
    db.session.add(category)
    db.session.flush()
    return category


def set_category_active(category: Category, active: bool) -> None:
    category.is_active = active
    db.session.flush()
