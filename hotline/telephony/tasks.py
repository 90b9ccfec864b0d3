"""Periodic telephony work run by Celery beat."""
from __future__ import annotations

from celery import shared_task

from hotline.extensions import db


@shared_task(name="telephony.purge_recordings")
def purge_recordings_task() -> int:
    """Apply the recordings' retention policy (daily); running it twice deletes nothing twice."""
    from hotline.telephony.operations.recordings import purge_recordings
    count = purge_recordings()
    db.session.commit()
    return count
