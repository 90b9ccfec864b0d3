"""The department suggestion learned from history: training, storing, answering.

Trained on orders whose top-level lead assignment was answered (replied or done) — dispatched and not
returned; the label is the department that actually handled the case.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from hotline.categories.models import Category
from hotline.core.fields import Fields
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.knowledge.text import tokens
from hotline.similar.models import SuggestionModel
from hotline.tickets.models import Assignment, Ticket
from workflows import suggest as nb
from workflows.states import AssignmentRole, AssignmentStatus

#: At most this many of the newest handled orders are learned from.
TRAIN_LIMIT = 200_000
_cache: dict = {}


def history(limit: int = TRAIN_LIMIT) -> list[nb.Sample]:
    rows = db.session.execute(
        sa.select(Ticket.subject, Ticket.content, Category.code, Ticket.address, Assignment.department_id)
        .join(Assignment, Assignment.ticket_id == Ticket.id).outerjoin(Category, Category.id == Ticket.category_id)
        .where(Assignment.role == AssignmentRole.LEAD, Assignment.parent_id.is_(None),
               Assignment.status.in_((AssignmentStatus.REPLIED, AssignmentStatus.DONE)))
        .order_by(Assignment.id.desc()).limit(limit))
    return [nb.Sample(tokens(f"{subject} {content}"), code, address, dept)
            for subject, content, code, address, dept in rows]


def category_defaults() -> dict[str, int]:
    return {code: dept for code, dept in db.session.execute(
        sa.select(Category.code, Category.default_department_id).where(Category.default_department_id.is_not(None)))}


def forget_model() -> None:
    """Read the newest model again on the next question (after training)."""
    _cache.clear()


def latest() -> SuggestionModel | None:
    return db.session.scalar(sa.select(SuggestionModel).order_by(SuggestionModel.id.desc()).limit(1))


def _model() -> nb.NaiveBayes | None:
    """The newest model, parsed once per process and re-read at most every minute."""
    if _cache.get("checked", 0) > time.monotonic() - 60:
        return _cache.get("model")
    row_id = db.session.scalar(sa.select(sa.func.max(SuggestionModel.id)))
    if row_id != _cache.get("id"):
        row = db.session.get(SuggestionModel, row_id) if row_id else None
        _cache.update(id=row_id, model=nb.NaiveBayes.from_json(row.parameters) if row else None)
    _cache["checked"] = time.monotonic()
    return _cache.get("model")


def suggest_from_request(data: dict) -> dict:
    f = Fields(data)
    text = f.text("text", max_len=20000)
    code = f.text("category", max_len=20)
    address = f.text("address", max_len=255)
    category = None
    if code is not None:
        category = db.session.scalar(sa.select(Category).where(Category.code == code))
        if category is None:
            f.error("category", _("No active category has the code %(code)s.", code=code))
    if not text and category is None:
        f.error("text", _("Give the case's text or its category."))
    f.done()
    threshold = current_app.config.get("SUGGEST_THRESHOLD", 0.5)
    ranked, fallback = nb.suggest(_model(), tokens(text or ""), code, address,
                                  category.default_department_id if category else None, threshold)
    names = dict(db.session.execute(sa.select(Department.id, Department.name)
                                    .where(Department.id.in_([d for d, _p in ranked]))).all()) if ranked else {}
    return {"items": [{"department": {"id": d, "name": names.get(d)}, "confidence": round(p, 3)} for d, p in ranked],
            "fallback_to_category_default": fallback}
