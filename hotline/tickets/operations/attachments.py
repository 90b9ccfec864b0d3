"""Attachments: checked by content, stored outside the database under their SHA-256."""
from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Forbidden, Invalid
from hotline.extensions import db
from hotline.tickets import permissions
from hotline.tickets.models import Attachment, Ticket
from hotline.tickets.operations import record_event
from workflows.states import CENTRE, FINAL, STAFF

#: (magic prefix, offset of a second marker, marker) -> content type
SIGNATURES = [
    (b"\xff\xd8\xff", None, None, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", None, None, "image/png"),
    (b"GIF8", None, None, "image/gif"),
    (b"RIFF", 8, b"WEBP", "image/webp"),
    (b"RIFF", 8, b"WAVE", "audio/wav"),
    (b"ID3", None, None, "audio/mpeg"),
    (b"\xff\xfb", None, None, "audio/mpeg"),
    (b"%PDF-", None, None, "application/pdf"),
    (b"II*\x00", None, None, "image/tiff"),
    (b"MM\x00*", None, None, "image/tiff"),
    (b"PK\x03\x04", None, None, "application/zip"),
]
OFFICE = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ALLOWED_NAMES = "JPEG, PNG, GIF, WebP, TIFF, PDF, WAV, MP3, DOCX, XLSX"


def sniff(head: bytes, filename: str) -> str | None:
    """The content type a file really is, from its first bytes; None if not allowed."""
    for magic, offset, marker, kind in SIGNATURES:
        if head.startswith(magic) and (offset is None or head[offset:offset + len(marker)] == marker):
            if kind == "application/zip":
                return OFFICE.get(Path(filename).suffix.lower())
            return kind
    return None


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"]) / sha256[:2] / sha256[2:4] / sha256


def add_attachment(ticket: Ticket, actor: User, filename: str, stream, *, at: datetime | None = None,
                   confidential: bool = False) -> Attachment:
    """Store an uploaded file and link it to the order."""
    if actor.role not in STAFF or not permissions.can_view(actor, ticket):
        raise Forbidden(_("You may not add files to this order."))
    if confidential and actor.role not in CENTRE:
        raise Forbidden(_("Only the centre marks files confidential."))
    if ticket.status in FINAL:
        raise Invalid(_("The order is closed; files can no longer be added."), fields={"file": _("Closed order.")})
    at = at or utcnow()
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    name = os.path.basename((filename or "").replace("\\", "/")).strip() or "file"
    directory = Path(current_app.config["ATTACHMENT_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=directory, delete=False) as tmp:
        try:
            head = b""
            while chunk := stream.read(1 << 16):
                if len(head) < 16:
                    head += chunk[:16]
                size += len(chunk)
                if size > limit:
                    raise Invalid(_("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)),
                                  fields={"file": _("Too large.")})
                digest.update(chunk)
                tmp.write(chunk)
            kind = sniff(head, name)
            if size == 0:
                raise Invalid(_("The file is empty."), fields={"file": _("Empty file.")})
            if kind is None:
                raise Invalid(_("This kind of file is not accepted; use one of: %(kinds)s.", kinds=ALLOWED_NAMES),
                              fields={"file": _("Type not accepted.")})
        except BaseException:
            os.unlink(tmp.name)
            raise
    sha = digest.hexdigest()
    target = storage_path(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp.name, target)
    row = Attachment(ticket_id=ticket.id, filename=name[:255], content_type=kind, size=size, sha256=sha,
                     uploaded_by_id=actor.id, created_at=at, is_confidential=confidential)
    db.session.add(row)
    db.session.flush()
    record_event(ticket, actor, "attach", at=at, note=name, data={"attachment": row.id, "size": size})
    return row
