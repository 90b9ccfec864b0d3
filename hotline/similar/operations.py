"""Keeping each order's words in the similar-order index, and refilling it.

The index row is written in the same flush as the order (a mapper event), so every way an order is
registered or edited — the desk, the API, the portal, SMS intake — keeps it in step.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy import event, inspect

from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.knowledge.text import index_text
from hotline.similar import suggestions
from hotline.similar.models import SuggestionModel, TicketText, WordCounts
from hotline.tickets.models import Ticket
from workflows import suggest as nb
from workflows.similarity import address_key
from workflows.states import FINAL

_installed = False


def row_for(ticket: Ticket) -> dict:
    return {"ticket_id": ticket.id, "created_at": ticket.created_at,
            "tokens": index_text(f"{ticket.subject or ''} {ticket.content or ''}"),
            "address_key": address_key(ticket.address), "is_open": ticket.status not in FINAL}


def _after_insert(mapper, connection, ticket: Ticket) -> None:
    connection.execute(sa.insert(TicketText.__table__).values(**row_for(ticket)))


def _after_update(mapper, connection, ticket: Ticket) -> None:
    state = inspect(ticket)
    table = TicketText.__table__
    if not any(state.attrs[name].history.has_changes() for name in ("subject", "content", "address")):
        if state.attrs["status"].history.has_changes():
            connection.execute(sa.update(table).where(table.c.ticket_id == ticket.id)
                               .values(is_open=ticket.status not in FINAL))
        return
    row = row_for(ticket)
    done = connection.execute(sa.update(table).where(table.c.ticket_id == ticket.id)
                              .values(tokens=row["tokens"], address_key=row["address_key"], is_open=row["is_open"]))
    if not done.rowcount:
        connection.execute(sa.insert(table).values(**row))


def install() -> None:
    """Keep the index in step with every order written through the ORM (once per process)."""
    global _installed
    if not _installed:
        event.listen(Ticket, "after_insert", _after_insert)
        event.listen(Ticket, "after_update", _after_update)
        _installed = True


def reindex(batch: int = 2000) -> int:
    """Refill the index for orders written without the ORM (bulk loads) or after jieba's words changed."""
    table, done, last = TicketText.__table__, 0, 0
    while True:
        tickets = list(db.session.scalars(sa.select(Ticket).where(Ticket.id > last).order_by(Ticket.id).limit(batch)))
        if not tickets:
            return done
        ids = [t.id for t in tickets]
        db.session.execute(sa.delete(table).where(table.c.ticket_id.in_(ids)))
        db.session.execute(sa.insert(table), [row_for(t) for t in tickets])
        done, last = done + len(tickets), ids[-1]
        db.session.expunge_all()


def train() -> SuggestionModel:
    """Learn from 80% of the history, measure on the other 20% against the category default, then keep a model
    learned from all of it."""
    samples = suggestions.history()
    learn, held_out = nb.split(samples)
    evaluation = nb.evaluate(nb.NaiveBayes.train(learn), held_out, suggestions.category_defaults())
    model = SuggestionModel(trained_at=utcnow(), samples=len(samples),
                            parameters=nb.NaiveBayes.train(samples).to_json(), evaluation=json.dumps(evaluation))
    db.session.add(model)
    db.session.flush()
    suggestions.forget_model()
    return model


def store_word_counts() -> WordCounts:
    """Count how many open orders hold each word (queries.count_words) and keep this count only."""
    from hotline.similar import queries
    open_orders, counts = queries.count_words()
    row = WordCounts(counted_at=utcnow(), open_orders=open_orders, counts=json.dumps(counts, ensure_ascii=False))
    db.session.add(row)
    db.session.flush()
    db.session.execute(sa.delete(WordCounts).where(WordCounts.id != row.id))
    return row
