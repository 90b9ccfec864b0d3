"""Celery: the department suggestion is retrained every night."""
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
