"""Case categories: a coded tree (01 城乡建设 → 0101 道路破损)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.enums import enum_column
from hotline.extensions import db
from workflows.vocabulary import Urgency


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(160))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    #: The department cases of this category usually go to (a suggestion, not a rule).
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    default_urgency: Mapped[Urgency | None] = mapped_column(enum_column(Urgency, "category_urgency"))
    is_active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped["Category | None"] = relationship(remote_side=[id])
