"""Rows many requests read and few change, kept by each process for a few seconds: who is logged
in and a token's user, the department tree, the SLA policies and the calendar's versions (and,
under their own setting, the lists' counts: hotline/core/counts.py).

Reading such rows on every request costs a statement each on every page. A `Recent` keeps them
for `RECENT_ROWS_SECONDS` (5 s by default; 0 keeps them for one request only) and forgets them at
once when this process writes a row of a watched model, so a user switched off, a token revoked or
a policy edited take effect here at once, and in other processes within those seconds.

ORM rows are kept detached and merged into each request's session without a statement
(`Session.merge(load=False)`), so they behave as rows the request loaded itself.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy.orm import ORMExecuteState, Session

from hotline.core.base import Base


_all: list[Recent] = []


class Recent:
    """Values by key, each kept for a few seconds; all forgotten when a watched model is written.

    `setting` names the configuration that says how many seconds (`default` without it); at 0 a value
    is kept for its request only, or not at all when `per_request` is false."""

    def __init__(self, *watched: type, setting: str = "RECENT_ROWS_SECONDS", default: float = 5.0,
                 per_request: bool = True) -> None:
        self.watched = watched
        self.setting, self.default, self.per_request = setting, default, per_request
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        _all.append(self)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The value kept for `key`, else `load()` (kept unless it is None)."""
        seconds = current_app.config.get(self.setting, self.default) if has_app_context() else 0
        if seconds <= 0:  # kept for this request only
            if not (self.per_request and has_request_context()):
                return load()
            kept_here = g.setdefault("recent_rows", {})
            if (id(self), key) not in kept_here:
                kept_here[id(self), key] = load()
            return kept_here[id(self), key]
        key = (id(current_app._get_current_object()), key)
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = load()
        if value is not None:
            with self._lock:
                if len(self._values) > 10_000:
                    self._values.clear()
                self._values[key] = (now + seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def forget_all() -> None:
    """Forget every kept value (after rows were changed behind the ORM's back, as tests do)."""
    for recent in _all:
        recent.clear()


def detached(session_factory: Callable[[], Session], load: Callable[[Session], Any]) -> Any:
    """What `load` reads in a short session of its own, detached so that it can be kept."""
    with session_factory() as session:
        value = load(session)
        session.expunge_all()
    return value


def _forget_written(classes: set[type]) -> None:
    for recent in _all:
        if any(issubclass(cls, w) for cls in classes for w in recent.watched):
            recent.clear()
            if has_request_context():
                g.pop("recent_rows", None)


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    written = {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    if written:
        _forget_written(written)


@sa.event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.bind_mapper is not None:
        _forget_written({state.bind_mapper.class_})
        return
    # a Core statement on a mapped table (insert(Message.__table__)...) names no mapper: find its classes
    table = getattr(state.statement, "table", None)
    if table is not None:
        _forget_written({mapper.class_ for mapper in Base.registry.mappers if table in mapper.tables})
