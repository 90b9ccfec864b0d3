"""Stylesheets, scripts and images that browsers keep: every `url_for('static', ...)` carries the
file's content digest (`?v=…`), and a request for the current digest is answered as cacheable
for a year, so a page costs no round trip per asset (the charts' library alone is 1 MB) until the
file changes, when its address changes with it. Any other static request is revalidated."""
from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600


class Digests:
    """Content digests of the files under one folder, read again when a file's size or time changes."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def of(self, filename: str) -> str | None:
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._known.get(filename)
        if known is not None and known[0] == stamp:
            return known[1]
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()[:12]
        with self._lock:
            self._known[filename] = (stamp, digest)
        return digest


def install(app: Flask) -> None:
    digests = Digests(app.static_folder or "")

    @app.url_defaults
    def _versioned(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and values.get("filename"):
            digest = digests.of(values["filename"])
            if digest is not None:
                values["v"] = digest

    @app.after_request
    def _cache_static(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename")
        if filename and request.args.get("v") == digests.of(filename):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        else:
            response.cache_control.max_age = None
            response.cache_control.no_cache = True
        return response
