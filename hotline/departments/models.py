"""Departments as a tree: city, district, street, community."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.enums import enum_column
from hotline.extensions import db
from workflows.vocabulary import DepartmentLevel


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: English gloss shown in the English interface.
    name_en: Mapped[str | None] = mapped_column(String(160))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[DepartmentLevel] = mapped_column(enum_column(DepartmentLevel, "department_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    #: Materialised path of ids, "/1/4/17/", for subtree queries by prefix.
    path: Mapped[str] = mapped_column(String(255), index=True, default="/")
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Utilities (water, power, gas, heat) get the utilities deadlines.
    is_utility: Mapped[bool] = mapped_column(default=False)
    #: The duty phone (值班电话) called at night for urgent orders, before the text messages follow.
    duty_phone: Mapped[str | None] = mapped_column(String(20))

    parent: Mapped["Department | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Department"]] = relationship(back_populates="parent", order_by="Department.id")

    def __repr__(self) -> str:
        return f"<Department {self.id} {self.name}>"

    def is_within(self, other: "Department") -> bool:
        """True when self is `other` or one of its sub-units."""
        return self.path.startswith(other.path)
