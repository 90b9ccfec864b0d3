"""Similar orders (并单候选) and the department suggestion: each order's words, the suggestion model."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.base import utcnow
from hotline.extensions import db


class TicketText(db.Model):
    """An order's words as the similar-order index stores them (one row per order).

    `tokens` is hotline.knowledge.text.index_text(subject + content); SQLite's FTS5 `ticket_texts_fts`
    and PostgreSQL's `search_vector` (migration 0019) index it, open orders only (migration 0024: FTS5 holds
    open rows, the GIN index is partial). `created_at` copies the order's, so "open orders of the last N days"
    is answered from this table's indexes alone.
    """

    __tablename__ = "ticket_texts"
    __table_args__ = (Index("ix_ticket_texts_address_created", "address_key", "created_at"),
                      Index("ix_ticket_texts_created_at", "created_at"),
                      Index("ix_ticket_texts_open_created", "created_at", postgresql_where=sa.text("is_open"),
                            sqlite_where=sa.text("is_open")))

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]
    tokens: Mapped[str] = mapped_column(Text)
    #: The address folded for comparison (workflows.similarity.address_key); None without an address.
    address_key: Mapped[str | None] = mapped_column(String(255))
    #: Whether the order is open (not closed, merged or cancelled): kept in step with its status.
    is_open: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class SuggestionModel(db.Model):
    """One trained department-suggestion model; the newest is used."""

    __tablename__ = "suggestion_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    samples: Mapped[int]
    #: workflows.suggest.NaiveBayes.to_json()
    parameters: Mapped[str] = mapped_column(Text)
    #: JSON: top-1 / top-3 accuracy of the model and of the category default on held-out orders.
    evaluation: Mapped[str] = mapped_column(Text)


class WordCounts(db.Model):
    """How many open orders hold each word, counted by the worker every few minutes (similar.count_words):
    the similar-order search asks for an order's rarest words and leaves out the commonest (queries.py).
    Counting reads every open order's words (seconds at a big city's hundreds of thousands), so a page
    only reads the newest count; the older ones are deleted when a new one is stored."""

    __tablename__ = "similar_word_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Open orders when counted.
    open_orders: Mapped[int]
    #: JSON {word: open orders holding it}, for the words in queries.COUNTED_FROM open orders or more.
    counts: Mapped[str] = mapped_column(Text)
