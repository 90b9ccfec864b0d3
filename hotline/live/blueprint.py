"""The live channel of a logged-in person's open pages: a server-sent event stream and the bell."""
from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, render_template
from flask_login import current_user, login_required

from hotline.board.permissions import can_view_board
from hotline.extensions import db
from hotline.inbox.permissions import can_use_inbox
from hotline.live import events, queries
from hotline.live.transport import user_key

bp = Blueprint("live", __name__, url_prefix="/live")


def _keys(user) -> list[str]:
    """What one person's stream hears: their own notices, their department's inbox, the board."""
    keys = [user_key(user.id)]
    if can_use_inbox(user):
        keys.append(f"d:{user.department_id}")
    if can_view_board(user):
        keys.append("board")
    return keys


def _frame(event: dict) -> str:
    return f"event: {event.get('type', 'message')}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


@bp.get("/stream")
def stream():
    """text/event-stream of the person's own events, a heartbeat comment every LIVE_HEARTBEAT_SECONDS.

    It ends after LIVE_STREAM_SECONDS (the browser reconnects by itself). Holds no database
    connection while open: the person is read once, at the start.
    """
    if not current_user.is_authenticated:
        # not a redirect to the login page: EventSource gives up on a 401 instead of retrying
        return Response("log in first\n", status=401, mimetype="text/plain")
    keys = _keys(current_user)
    app = current_app._get_current_object()
    heartbeat = app.config["LIVE_HEARTBEAT_SECONDS"]
    lifetime = app.config["LIVE_STREAM_SECONDS"]
    live = events.transport(app)
    events.start_tail(app)
    db.session.remove()

    def body():
        subscription = live.subscribe(keys, heartbeat=heartbeat)
        try:
            # the first bytes open the page's EventSource, which then fetches the bell: nothing is
            # missed between the page's load (or a reconnection) and this subscription
            yield f"retry: 3000\n: hello {' '.join(keys)}\n\n"
            ends = time.monotonic() + lifetime
            for event in subscription:
                yield ": heartbeat\n\n" if event is None else _frame(event)
                if time.monotonic() >= ends:
                    break
        finally:
            subscription.close()

    return Response(body(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/bell")
@login_required
def bell():
    """The bell's count and newest unread notices (the page asks again after each event)."""
    return render_template("live/_bell.html", bell=queries.bell(current_user))
