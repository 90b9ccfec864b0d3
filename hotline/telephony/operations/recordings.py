"""Call recordings: saved by the worker, played and audited in the pages, deleted by an
administrator or when the retention time runs out (the record stays, the file goes)."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, NotFound
from hotline.extensions import db
from hotline.sla.service import local_date
from hotline.telephony import permissions
from hotline.telephony.models import Recording

log = logging.getLogger("hotline.telephony")


def recording_dir() -> Path:
    return Path(current_app.config.get("RECORDING_DIR") or Path(current_app.instance_path) / "recordings")


def new_recording_path(sip_call_id: str) -> str:
    """Where the worker writes a call's recording: a folder a day, named after the call."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in sip_call_id)[:100]
    directory = recording_dir() / local_date(utcnow()).strftime("%Y%m%d")
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory / f"{safe}.wav")


def save_recording(call_pk: int, agent_user_id: int | None, *, path: str, seconds: float, size: int,
                   sha256: str) -> Recording:
    """The worker wrote a recording's file: its record, with the path relative to RECORDING_DIR."""
    relative = str(Path(path).resolve().relative_to(recording_dir().resolve()))
    recording = Recording(call_id=call_pk, agent_user_id=agent_user_id, path=relative, seconds=seconds,
                          size=size, sha256=sha256)
    db.session.add(recording)
    return recording


def recording_file(recording: Recording) -> Path:
    """Where the audio is; a path that would leave RECORDING_DIR finds nothing."""
    root = recording_dir().resolve()
    path = (root / recording.path).resolve()
    if not path.is_relative_to(root):
        raise NotFound(_("The recording file is missing."))
    return path


def verify_recording(recording: Recording) -> bool:
    """For audits: the file is there and its SHA-256 is the one recorded when it was written."""
    try:
        path = recording_file(recording)
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except (NotFound, OSError):
        return False
    return digest.hexdigest() == recording.sha256


_UNLINK = "telephony_unlink_after_commit"


def _unlink_after_commit(path: Path) -> None:
    """Remove the file once the deletion is committed: never a recorded file without its record."""
    session = db.session()
    pending = session.info.get(_UNLINK)
    if pending is None:
        pending = session.info[_UNLINK] = []
        sa.event.listen(session, "after_commit", _unlink_pending)
        sa.event.listen(session, "after_soft_rollback", _forget_pending)
    pending.append(path)


def _unlink_pending(session) -> None:
    pending = session.info.get(_UNLINK) or []
    while pending:
        path = pending.pop()
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            log.error("recording %s could not be removed: %s", path, err)


def _forget_pending(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        (session.info.get(_UNLINK) or []).clear()


def _delete(recording: Recording, actor: User | None, now: datetime) -> None:
    try:
        path = recording_file(recording)
    except NotFound:
        path = None
    recording.deleted_at, recording.deleted_by_id = now, actor.id if actor else None
    if path is not None:
        _unlink_after_commit(path)


def delete_recording(recording: Recording, actor: User) -> Recording:
    """An administrator deletes a recording: the file goes, the record stays and says who and when."""
    if not permissions.can_manage_telephony(actor):
        raise Forbidden(_("Only administrators delete recordings."))
    if recording.deleted_at is not None:
        raise Conflict(_("This recording was already deleted."), code="invalid_state")
    _delete(recording, actor, utcnow())
    db.session.flush()
    log.warning("recording %s (%s) deleted by %s", recording.id, recording.path, actor.username)
    return recording


def purge_recordings(now: datetime | None = None) -> int:
    """Delete the recordings older than RECORDING_RETENTION_DAYS; returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(days=int(current_app.config["RECORDING_RETENTION_DAYS"]))
    rows = list(db.session.scalars(sa.select(Recording).where(
        Recording.created_at < cutoff, Recording.deleted_at.is_(None)).order_by(Recording.id)))
    for recording in rows:
        _delete(recording, None, now)
    db.session.flush()
    if rows:
        log.info("purged %d recordings made before %s", len(rows), cutoff.isoformat())
    return len(rows)
