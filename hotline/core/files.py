"""Uploaded files, for every feature that keeps them (orders, knowledge articles).

A file is checked by its content (the first bytes, never the name alone), kept outside the
database under ATTACHMENT_DIR by its SHA-256, and handed back only as a download: never shown
inline, so a file cannot run as a page of this site.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, send_file
from flask_babel import gettext as _

from hotline.core.errors import Invalid, NotFound

#: (magic prefix, offset of a second marker, marker, content type)
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
#: What a browser may do with a downloaded file of ours: nothing but save it.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox",
                    "Cache-Control": "private, no-store"}


def sniff(head: bytes, filename: str) -> str | None:
    """The content type a file really is, from its first bytes; None if not allowed."""
    for magic, offset, marker, kind in SIGNATURES:
        if head.startswith(magic) and (offset is None or head[offset:offset + len(marker)] == marker):
            if kind == "application/zip":
                return OFFICE.get(Path(filename).suffix.lower())
            return kind
    return None


def safe_name(filename: str | None) -> str:
    """The file's own name without any directory part or control characters, at most 255 characters."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-255:] or "file"


def max_bytes() -> int:
    return current_app.config["ATTACHMENT_MAX_BYTES"]


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"]) / sha256[:2] / sha256[2:4] / sha256


@dataclass
class Received:
    """An upload checked and waiting in a temporary file: `keep()` stores it, `discard()` forgets it."""

    name: str
    content_type: str
    size: int
    sha256: str
    temp: str | None

    def keep(self) -> None:
        if self.temp is None:
            return
        target = storage_path(self.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp, target)
        self.temp = None

    def discard(self) -> None:
        if self.temp is not None:
            os.unlink(self.temp)
            self.temp = None


def receive(filename: str | None, stream, *, field: str = "file") -> Received:
    """Read an upload into a temporary file, checking its size and type; Invalid (on `field`) if refused."""
    limit = max_bytes()
    name = safe_name(filename)
    directory = Path(current_app.config["ATTACHMENT_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", delete=False) as tmp:
        try:
            while chunk := stream.read(1 << 16):
                if len(head) < 16:
                    head += chunk[:16 - len(head)]
                size += len(chunk)
                if size > limit:
                    raise Invalid(_("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)),
                                  fields={field: _("Too large.")})
                digest.update(chunk)
                tmp.write(chunk)
            if size == 0:
                raise Invalid(_("The file is empty."), fields={field: _("Empty file.")})
            kind = sniff(head, name)
            if kind is None:
                raise Invalid(_("This kind of file is not accepted; use one of: %(kinds)s.", kinds=ALLOWED_NAMES),
                              fields={field: _("Type not accepted.")})
        except BaseException:
            os.unlink(tmp.name)
            raise
    return Received(name=name, content_type=kind, size=size, sha256=digest.hexdigest(), temp=tmp.name)


def store(filename: str | None, stream, *, field: str = "file") -> Received:
    """Check an upload and keep it under its SHA-256 (a file already kept is kept once)."""
    received = receive(filename, stream, field=field)
    received.keep()
    return received


def download(sha256: str, filename: str, content_type: str) -> Response:
    """A kept file as a download under its own (Chinese) name: never inline, never sniffed as HTML."""
    path = storage_path(sha256)
    if not path.is_file():
        raise NotFound(_("The file is missing from the store; tell an administrator."), code="file_missing")
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=filename,
                         conditional=True, max_age=0)
    for name, value in DOWNLOAD_HEADERS.items():
        response.headers[name] = value
    return response


def human_size(size: int) -> str:
    """1.2 MB, 340 KB, 12 B: a file's size as people read it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size} B"


#: A stored file's name: its SHA-256 in hex.
_KEPT_NAME = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Pruned:
    """What a prune found: files no row names any more, and uploads abandoned half-way."""

    removed: int = 0
    removed_bytes: int = 0
    abandoned: int = 0
    kept: int = 0


def prune(in_use: set[str], *, grace_seconds: float = 3600, dry_run: bool = False) -> Pruned:
    """Remove the stored files no row names any more (an article's file removed, an order deleted),
    and uploads a crash left in temporary files. A file younger than `grace_seconds` is left: its row
    may be about to commit (a file is kept just before the row naming it is written)."""
    directory = Path(current_app.config["ATTACHMENT_DIR"])
    result = Pruned()
    if not directory.is_dir():
        return result
    cutoff = time.time() - grace_seconds
    for path in directory.rglob("*"):
        if not path.is_file():
            continue
        stat = path.stat()
        if path.name.startswith(".upload-"):
            if stat.st_mtime < cutoff:
                result.abandoned += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
            continue
        if not _KEPT_NAME.match(path.name) or path.name in in_use or stat.st_mtime >= cutoff:
            result.kept += 1
            continue
        result.removed += 1
        result.removed_bytes += stat.st_size
        if not dry_run:
            path.unlink(missing_ok=True)
    return result
