"""Enum columns: strings in the database with a CHECK listing the allowed values."""
from __future__ import annotations

import sqlalchemy as sa

from workflows.enums import TitledEnum

__all__ = ["TitledEnum", "enum_column"]


def enum_column(enum_cls: type[TitledEnum], name: str) -> sa.Enum:
    """A VARCHAR column with a named CHECK constraint of the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
