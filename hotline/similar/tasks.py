"""Celery: the department suggestion is retrained every night; the open orders' words are counted every
ten minutes (for the similar-order search)."""
from __future__ import annotations

from celery import shared_task

from hotline.extensions import db


@shared_task(name="similar.train_suggestion")
def train_suggestion_task() -> int:
    """Learn the department suggestion again from the handled orders (daily)."""
    from hotline.similar import operations
    model = operations.train()
    db.session.commit()
    return model.samples


@shared_task(name="similar.count_words")
def count_words_task() -> int:
    """How many open orders hold each word, stored for the similar-order search (every COUNTS_SECONDS)."""
    from hotline.similar import operations
    row = operations.store_word_counts()
    db.session.commit()
    return row.open_orders
