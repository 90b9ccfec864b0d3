"""The centre's outbox page: messages that failed or wait, and sending a failed one again."""
from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.auth import operations as users_ops
from hotline.core.errors import OperationError
from hotline.extensions import db
from hotline.messaging import operations, permissions, queries
from hotline.messaging.models import Message, MessageState
from hotline.web.pages import run_operation

bp = Blueprint("messaging", __name__)

#: The page's tabs: value -> states shown.
TABS = {
    "failed": [MessageState.FAILED],
    "waiting": [MessageState.QUEUED, MessageState.SENDING],
    "sent": [MessageState.SENT, MessageState.DELIVERED],
}


def _denied():
    return render_template("telephony/denied.html", message=_(
        "The outbox is for centre reviewers, supervisors and administrators.")), 403


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 100000) if raw.isdigit() and int(raw) > 0 else 1


def _outbox_page(error: OperationError | None = None, status: int = 200):
    tab = request.args.get("state", "failed")
    if tab not in TABS:
        tab = "failed"
    page = _page_number()
    rows, total = queries.outbox(TABS[tab], page)
    return render_template(
        "messaging/index.html", rows=rows, total=total, tab=tab, page=page, counts=queries.counts(),
        pages=max(1, math.ceil(total / queries.PER_PAGE)), error=error,
        page_url=lambda n: url_for("messaging.index", state=tab, page=n)), status


@bp.app_context_processor
def _unread():
    """`unread_notices()` for the header of every page (asked only where the header is drawn)."""
    def unread_notices() -> int:
        return queries.unread_notices_recent(current_user.id) if current_user.is_authenticated else 0
    return {"unread_notices": unread_notices}


def _notices_page(error: OperationError | None = None, form: dict | None = None, status: int = 200):
    page = _page_number()
    rows, total = queries.notices_of(current_user.id, page)
    form = form or {"mobile": current_user.mobile or "", "wants_sms": current_user.wants_sms}
    return render_template("messaging/notices.html", rows=rows, total=total, page=page, error=error, form=form,
                           errors=error.fields if error is not None else {},
                           pages=max(1, math.ceil(total / queries.PER_PAGE)),
                           page_url=lambda n: url_for("messaging.notices", page=n)), status


@bp.get("/notices")
@login_required
def notices():
    """The user's own in-app notices (unread ones marked) and where else their notices go."""
    return _notices_page()


@bp.post("/notices/settings")
@login_required
def notice_settings():
    form = {"mobile": request.form.get("mobile", "").strip()[:40], "wants_sms": request.form.get("wants_sms") == "1"}
    user = current_user._get_current_object()
    _u, error = run_operation(users_ops.set_notice_preferences, user, user, form["mobile"], form["wants_sms"])
    if error is not None:
        return _notices_page(error, form, error.status)
    flash(_("Saved: text messages go to %(mobile)s.", mobile=user.mobile) if user.wants_sms and user.mobile
          else _("Saved: urgent notices go to %(mobile)s by text message, the others only here.", mobile=user.mobile)
          if user.mobile else _("Saved: your notices arrive only here."))
    return redirect(url_for("messaging.notices"))


@bp.post("/notices/read")
@login_required
def notices_read():
    _n, error = run_operation(operations.mark_read, current_user._get_current_object())
    if error is not None:
        flash(error.message)
    return redirect(url_for("messaging.notices"))


@bp.get("/messages")
@login_required
def index():
    if not permissions.can_manage_messages(current_user):
        return _denied()
    return _outbox_page()


@bp.post("/messages/<int(max=2147483647):message_id>/send-again")
@login_required
def send_again(message_id: int):
    if not permissions.can_manage_messages(current_user):
        return _denied()
    message = db.session.get(Message, message_id)
    if message is None:
        return _outbox_page(OperationError(_("No such message.")), 404)
    _m, error = run_operation(operations.send_again, message, current_user._get_current_object())
    if error is not None:
        return _outbox_page(error, error.status)
    flash(_("The message is queued and goes out again now."))
    return redirect(url_for("messaging.index", state="waiting"))
