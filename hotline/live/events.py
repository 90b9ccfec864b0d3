"""Telling open pages what changed, once it has committed (never what a rollback took back).

Two kinds of event leave a process:
- {type: "notice", count, latest: {...}} to "u:<id>" for each person who got an in-app notice
  in the transaction (messaging.operations records them in the session: NOTICED);
- {type: "changed", scope} to "d:<department id>" and "board" when an order of theirs changed
  (recorded here from the order's trail), so the department inbox and the board refetch.

The embedded default publishes inside the web process; notices written by another process (the
Celery worker's sweep) are found by `Tail`, a thread of the web process that looks for new in-app
notices every LIVE_POLL_SECONDS while somebody has a live page open.
"""
from __future__ import annotations

import logging
import os
import threading
import time

import sqlalchemy as sa
from flask import Flask, current_app

from hotline.extensions import db
from hotline.live import queries
from hotline.live.transport import LocalTransport, transport_for, user_key
from hotline.messaging.operations import NOTICED
from hotline.tickets import operations as tickets
from hotline.tickets.models import Assignment, Ticket, TicketEvent

log = logging.getLogger(__name__)

#: The session's set of keys whose lists changed in this transaction.
CHANGED = "live.changed"
EXTENSION = "live"


def install(app: Flask) -> None:
    """Give `app` its transport and publish after each commit (the session hook once per process)."""
    app.extensions[EXTENSION] = transport_for(app.config)
    tickets.on_event(app, order_changed)
    if not sa.event.contains(db.session, "after_commit", _published):
        sa.event.listen(db.session, "after_commit", _published)
        sa.event.listen(db.session, "after_rollback", _forget)


def transport(app: Flask | None = None) -> LocalTransport:
    return (app or current_app).extensions[EXTENSION]


def order_changed(event: TicketEvent, ticket: Ticket, assignment: Assignment | None) -> None:
    """Note the lists an order's change alters: its departments' inboxes (and parents'), the board."""
    keys = db.session.info.setdefault(CHANGED, set())
    keys.add("board")
    for a in ticket.assignments:
        for dept_id in (a.department_id or (a.department.id if a.department else None),
                        a.parent.department_id if a.parent is not None else None):
            if dept_id:
                keys.add(f"d:{dept_id}")


def _forget(session) -> None:
    session.info.pop(NOTICED, None)
    session.info.pop(CHANGED, None)


def _published(session) -> None:
    noticed = session.info.pop(NOTICED, None)
    changed = session.info.pop(CHANGED, None)
    if not noticed and not changed:
        return
    try:
        live = transport()
    except (RuntimeError, KeyError):     # no application (a script's own session) or live not installed
        return
    if noticed:
        changed = (changed or set()) | {"board"}          # escalations and returns are on the board too
    try:
        publish_notices(live, noticed or {})
        if changed:
            live.publish(sorted(changed), {"type": "changed"})
    except Exception:  # noqa: BLE001  (a live nudge must never break the change that committed)
        log.exception("could not publish live events")


def publish_notices(live: LocalTransport, newest: dict[int, int]) -> int:
    """Tell each person (who has a page open somewhere) of their newest notice; how many were told."""
    wanted = {user: message_id for user, message_id in newest.items() if live.wants(user_key(user))}
    if not wanted:
        return 0
    events = queries.notice_events(wanted)
    for user_id, event in events.items():
        live.publish([user_key(user_id)], event)
    tail = getattr(live, "tail", None)
    if tail is not None:
        tail.told(wanted)
    return len(events)


class Tail:
    """The embedded default's look for notices other processes wrote (one thread per web process).

    Remembers the newest notice each person was told of, so a notice published here at its commit
    is not told twice. Started by the first live page; idles while none is open.
    """

    def __init__(self, app: Flask, live: LocalTransport, every: float) -> None:
        self.app, self.live, self.every = app, live, every
        self._lock = threading.Lock()
        self._told: dict[int, int] = {}
        self._after: int | None = None
        self._pid: int | None = None

    def start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
        threading.Thread(target=self._run, name="live-tail", daemon=True).start()

    def told(self, newest: dict[int, int]) -> None:
        with self._lock:
            for user, message_id in newest.items():
                self._told[user] = max(message_id, self._told.get(user, 0))

    def _run(self) -> None:
        failing = ""
        while True:
            try:
                with self.app.app_context():
                    self.look()
                failing = ""
            except Exception as err:  # noqa: BLE001  (the database was busy or away: look again later)
                if str(err) != failing:          # once per kind of failure, not every few seconds
                    log.warning("live: looking for new notices failed (%s); trying again", err)
                failing = str(err)
            time.sleep(self.every)

    def look(self) -> int:
        """One look: tell people with open pages of notices nobody told them of; how many were told."""
        if not self.live.hub.count():
            self._after = None      # nobody is watching: the database is not asked, and old notices
            return 0                # are not news to the next page (it reads its bell when it opens)
        if self._after is None:
            self._after = queries.newest_message_id()
            return 0
        newest, self._after = queries.newest_notices_since(self._after)
        with self._lock:
            untold = {u: m for u, m in newest.items() if m > self._told.get(u, 0)}
        return publish_notices(self.live, untold) if untold else 0


def start_tail(app: Flask) -> None:
    """On the local transport, start looking for notices from other processes (once per process)."""
    live = transport(app)
    if live.name != "local" or not app.config.get("LIVE_POLL_SECONDS"):
        return
    if getattr(live, "tail", None) is None:
        live.tail = Tail(app, live, app.config["LIVE_POLL_SECONDS"])
    live.tail.start()
