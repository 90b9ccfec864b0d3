"""Bulk writes that stay one statement however many rows they touch.

`update_each` updates many rows of one table by id, each with its own values. On PostgreSQL
it is a single `UPDATE ... FROM (SELECT unnest(...))` (one round trip and one plan for any
number of rows: a sweep that escalates a hundred thousand orders sends a few statements, not a
hundred thousand); elsewhere it is the same UPDATE sent once per row in one executemany.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from hotline.extensions import db


def update_each(table: sa.Table, rows: Sequence[Mapping[str, Any]], types: Mapping[str, sa.types.TypeEngine],
                values: Callable[[Any], Mapping[str, Any]]) -> None:
    """For each row, `UPDATE table SET values(row) WHERE table.id = row["id"]`.

    `types` names the fields of every row ("id" among them) with their SQL types; `values` receives
    an object whose attributes are those fields as SQL expressions and returns the SET clause
    (so a field can be combined with the row's own columns: `{"n": table.c.n + v.extra}`).
    """
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        given = sa.select(*[
            sa.func.unnest(sa.bindparam(f"p_{name}", [row[name] for row in rows], type_=ARRAY(kind))).label(name)
            for name, kind in types.items()]).subquery("given")
        db.session.execute(sa.update(table).where(table.c.id == given.c.id).values(values(given.c)))
        return
    fields = SimpleNamespace(**{name: sa.bindparam(f"p_{name}", type_=kind) for name, kind in types.items()})
    db.session.execute(sa.update(table).where(table.c.id == fields.id).values(values(fields)),
                       [{f"p_{name}": row[name] for name in types} for row in rows])
