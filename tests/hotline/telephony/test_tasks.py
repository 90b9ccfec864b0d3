"""The daily retention sweep, run as Celery runs it."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from hotline.extensions import db
from hotline.telephony.models import Call, CallLeg, Recording
from hotline.telephony.tasks import purge_recordings_task


def test_the_daily_sweep_deletes_only_recordings_past_the_retention(app, world, clock, tmp_path):
    app.config["RECORDING_DIR"] = str(tmp_path)
    app.config["RECORDING_RETENTION_DAYS"] = 30
    call = Call(sip_call_id="sweep-1", leg=CallLeg.INBOUND, caller="13800000000", callee="12345", worker="w")
    db.session.add(call)
    db.session.flush()
    files = {}
    for name, age in (("old", 31), ("recent", 29)):
        path = tmp_path / f"{name}.wav"
        path.write_bytes(b"RIFF")
        files[name] = path
        db.session.add(Recording(call_id=call.id, path=path.name, seconds=1.0, size=4, sha256="0" * 64,
                                 created_at=clock.now - timedelta(days=age)))
    db.session.commit()
    assert purge_recordings_task.apply().get() == 1
    assert not files["old"].exists() and files["recent"].exists()
    deleted = {Path(r.path).stem: r.deleted_at for r in db.session.scalars(sa.select(Recording))}
    assert deleted["old"] is not None and deleted["recent"] is None
    assert purge_recordings_task.apply().get() == 0  # a second run deletes nothing twice
