"""Surveys by SMS that got no answer in time go back to the phone-visit list (every minute)."""
from __future__ import annotations

from celery import shared_task

from hotline.extensions import db
from hotline.sms import operations


@shared_task(name="sms.expire_surveys")
def expire_surveys_task() -> int:
    expired = operations.expire_surveys()
    db.session.commit()
    return expired
