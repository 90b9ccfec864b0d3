"""The lists' keyword search: which orders hold a fragment's letter pairs (workflows.search), asked of each
backend's index of `ticket_search` (migration 0038); and refilling that table after a bulk load."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from hotline.extensions import db
from hotline.tickets.models import Ticket, TicketSearch
from workflows import search

_FTS = sa.table("ticket_search_fts", sa.column("rowid", sa.Integer))
_TABLE = TicketSearch.__table__
#: The pairs as PostgreSQL's GIN index holds them (migration 0038: the index is on this very expression).
_VECTOR = sa.func.array_to_tsvector(sa.func.string_to_array(_TABLE.c.grams, " "))


def holding(fragment: str) -> sa.Select | None:
    """SELECT of the ids of the orders whose subject or content may hold `fragment`: all that do, and a few
    that hold its letter pairs elsewhere (the fragment itself tells them apart). None when the fragment has
    no pair to ask for (a single character)."""
    pairs = search.asked(fragment)
    if not pairs:
        return None
    # the pairs are letters and digits only: nothing in them needs quoting in either query language
    if db.session.get_bind().dialect.name == "sqlite":
        match = " AND ".join(f'"{pair}"' for pair in pairs)
        return sa.select(_FTS.c.rowid).where(sa.text("ticket_search_fts MATCH :pairs").bindparams(pairs=match))
    return sa.select(_TABLE.c.ticket_id).where(_VECTOR.op("@@")(sa.cast(" & ".join(f"'{p}'" for p in pairs), TSQUERY)))


def reindex(batch: int = 5000) -> int:
    """Every order's pairs written again (orders loaded without the ORM, or after workflows.search changed)."""
    table, done, last = _TABLE, 0, 0
    while True:
        rows = db.session.execute(sa.select(Ticket.id, Ticket.subject, Ticket.content).where(Ticket.id > last)
                                  .order_by(Ticket.id).limit(batch)).all()
        if not rows:
            return done
        ids = [row.id for row in rows]
        db.session.execute(sa.delete(table).where(table.c.ticket_id.in_(ids)))
        db.session.execute(sa.insert(table), [{"ticket_id": row.id,
                                               "grams": search.indexed_text(row.subject, row.content)}
                                              for row in rows])
        done, last = done + len(rows), ids[-1]
