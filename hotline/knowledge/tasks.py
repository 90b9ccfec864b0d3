"""Articles whose validity ends soon, or has ended, are told to their owners (daily)."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from hotline.extensions import db
from hotline.knowledge import operations


@shared_task(name="knowledge.notify_expiring")
def notify_expiring_task() -> int:
    queued = operations.notify_expiring(operations.today(), current_app.config["KNOWLEDGE_EXPIRY_NOTICE_DAYS"])
    db.session.commit()
    return queued
