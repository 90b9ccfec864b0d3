"""Telephony pages: the agent's phone page, the wallboard, callbacks, call records and recordings.

Thin: load, check the permission predicate, call an operation, render. The panels that
refresh themselves answer 204 (nothing to redraw) while what they show has not changed.
"""
from __future__ import annotations

import math
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.core.base import utcnow
from hotline.core.errors import NotFound, OperationError
from hotline.core.fields import MAX_INT
from hotline.extensions import db
from hotline.telephony import permissions, queries
from hotline.telephony.models import Call, Callback, CallbackStatus, CallDisposition, OutboundKind, Recording
from hotline.telephony.operations import agents, monitoring, outbound, recordings
from hotline.telephony.operations import callbacks as callback_ops
from hotline.tickets.models import Ticket
from hotline.tickets.operations import get_visible_ticket
from hotline.tickets.panels import register_panel
from hotline.web.pages import run_operation
from workflows.acd import NOT_READY_REASONS, AgentState

bp = Blueprint("telephony", __name__)

#: Seconds between refreshes of the agent's panel and of the wallboard.
AGENT_REFRESH = 1
WALLBOARD_REFRESH = 2


def _denied(message: str):
    return render_template("telephony/denied.html", message=message), 403


def allowed(predicate, message):
    """Logged in, and `predicate(user)` holds; otherwise 403 with `message()` said plainly."""
    def decorate(view):
        guarded = login_required(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated and request.headers.get("HX-Request"):
                # a refreshing panel whose session ended: the whole page goes to the login form
                page = urlsplit(request.referrer or "").path or None
                return "", 204, {"HX-Redirect": url_for("auth.login", next=page)}
            if current_user.is_authenticated and not predicate(current_user):
                return _denied(message())
            return guarded(*args, **kwargs)
        return wrapper
    return decorate


agent_only = allowed(permissions.is_agent, lambda: _(
    "This page is for call takers, experts and supervisors: the people who answer the hotline's calls."))
wallboard_only = allowed(permissions.can_view_wallboard, lambda: _(
    "The wallboard is for supervisors, managers and administrators."))
centre_only = allowed(permissions.can_view_calls, lambda: _(
    "Call records and callbacks are kept within the centre."))


def _page() -> int:
    page = request.args.get("page", "1")
    return min(int(page), 100000) if page.isdigit() and int(page) > 0 else 1


def _back(default: str) -> str:
    """Where a form came from, if it is a page of this site (a path, never another host)."""
    target = request.form.get("next", "")
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local and not urlsplit(target).netloc else default


def _recording_present(recording: Recording) -> bool:
    try:
        return recordings.recording_file(recording).is_file()
    except NotFound:
        return False


@bp.app_template_filter("duration")
def duration(seconds) -> str:
    """Seconds as 4:05 or 1:02:03."""
    if seconds is None:
        return "—"
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@bp.app_template_filter("clocktime")
def clocktime(value) -> str:
    """A UTC datetime as local 09:30:05."""
    from hotline.sla.service import local_tz
    return value.astimezone(local_tz()).strftime("%H:%M:%S") if value else ""


def _locale() -> str:
    return str(get_locale() or "zh")


@bp.context_processor
def _helpers():
    def reason_title(reason):
        title = agents.NOT_READY_TITLES.get(reason or "")
        return str(title) if title else (reason or "")
    return {"AgentState": AgentState, "reason_title": reason_title,
            "monitor_modes": monitoring.MONITOR_MODES, "now": utcnow()}


# -- the agent's page -------------------------------------------------------------------------

def _agent_page(error: OperationError | None = None, form=None, status: int = 200):
    user = current_user._get_current_object()
    reasons = [(code, str(agents.NOT_READY_TITLES[code])) for code in NOT_READY_REASONS]
    return render_template(
        "telephony/agent.html", panel=queries.agent_panel(user, utcnow()), refresh=AGENT_REFRESH,
        calls=queries.agent_calls_today(user, utcnow()), reasons=reasons, error=error,
        errors=error.fields if error else {}, form=form or {},
        has_extension=permissions.has_extension(user)), status


@bp.get("/agent")
@agent_only
def agent():
    return _agent_page()


@bp.get("/agent/panel")
@agent_only
def agent_panel():
    """The state panel alone; 204 while it would look the same (the time ticks in the browser)."""
    panel = queries.agent_panel(current_user._get_current_object(), utcnow())
    if request.args.get("v") == panel["fingerprint"]:
        return "", 204
    return render_template("telephony/_agent_panel.html", panel=panel, refresh=AGENT_REFRESH)


@bp.post("/agent/state")
@agent_only
def agent_state():
    form = request.form
    reason = form.get("reason", "")
    if reason in ("", "other"):
        reason = form.get("reason_text", "")
    agent, error = run_operation(agents.set_agent_state, current_user._get_current_object(), form.get("state", ""),
                                 reason)
    if error is not None:
        return _agent_page(error, form, error.status)
    flash(_("Your state: %(state)s.", state=agent.state.title_for(_locale())))
    return redirect(url_for("telephony.agent"))


# -- the wallboard ----------------------------------------------------------------------------

@bp.get("/telephony/wallboard")
@wallboard_only
def wallboard():
    user = current_user._get_current_object()
    return render_template("telephony/wallboard.html", board=queries.wallboard(user, utcnow()),
                           refresh=WALLBOARD_REFRESH, can_monitor=permissions.can_monitor(user),
                           has_extension=permissions.has_extension(user))


@bp.get("/telephony/wallboard/panel")
@wallboard_only
def wallboard_panel():
    user = current_user._get_current_object()
    board = queries.wallboard(user, utcnow())
    if request.args.get("v") == board["fingerprint"]:
        return "", 204
    return render_template("telephony/_wallboard_panel.html", board=board, refresh=WALLBOARD_REFRESH,
                           can_monitor=permissions.can_monitor(user), has_extension=permissions.has_extension(user))


@bp.post("/telephony/monitor")
@wallboard_only
def monitor():
    user = current_user._get_current_object()
    if request.form.get("mode") == "stop":
        _n, error = run_operation(monitoring.stop_monitor, user)
        flash(error.message if error else _("Monitoring stopped."))
        return redirect(url_for("telephony.wallboard"))
    call_id = request.form.get("call", "")
    call = db.session.get(Call, int(call_id)) if call_id.isdigit() and int(call_id) <= MAX_INT else None
    if call is None:
        flash(_("This call has ended or is not an agent's call."))
        return redirect(url_for("telephony.wallboard"))
    row, error = run_operation(monitoring.request_monitor, call, user, request.form.get("mode", ""))
    if error is not None:
        flash(error.fields.get("mode", error.message) if error.fields else error.message)
    else:
        flash(_("Your phone (%(ext)s) rings to join the call: %(mode)s.", ext=user.extension,
                mode=str(monitoring.MONITOR_MODES[row.mode])))
    return redirect(url_for("telephony.wallboard"))


# -- callbacks --------------------------------------------------------------------------------

def _callbacks_page(error: OperationError | None = None, failed: int | None = None, status: int = 200):
    raw = request.values.get("status", "pending")
    chosen = CallbackStatus.parse(raw) if raw != "all" else None
    if raw != "all" and chosen is None:
        raw, chosen = "pending", CallbackStatus.PENDING
    page = _page()
    rows, total = queries.callback_list(chosen, page)
    user = current_user._get_current_object()
    return render_template(
        "telephony/callbacks.html", rows=rows, total=total, page=page,
        pages=max(1, math.ceil(total / queries.PER_PAGE)), status=raw, statuses=list(CallbackStatus),
        may_act=permissions.can_handle_callbacks(user), has_extension=permissions.has_extension(user),
        error=error, failed=failed,
        page_url=lambda n: url_for("telephony.callbacks", status=raw, page=n)), status


@bp.get("/telephony/callbacks")
@centre_only
def callbacks():
    return _callbacks_page()


def _callback(callback_id: int) -> Callback:
    return db.session.get(Callback, callback_id) or abort(404)


@bp.post("/telephony/callbacks/<int(max=2147483647):callback_id>/call")
@centre_only
def callback_call(callback_id: int):
    callback = _callback(callback_id)
    user = current_user._get_current_object()
    ticket = db.session.get(Ticket, callback.ticket_id) if callback.ticket_id else None
    _r, error = run_operation(outbound.request_outbound, OutboundKind.CALLBACK, callback.phone, requested_by=user,
                              agent=user, callback=callback, ticket=ticket)
    if error is not None:
        return _callbacks_page(error, callback_id, error.status)
    flash(_("Your phone (%(ext)s) rings first; pick it up and the citizen is called.", ext=user.extension))
    return redirect(_back(url_for("telephony.callbacks")))


@bp.post("/telephony/callbacks/<int(max=2147483647):callback_id>/done")
@centre_only
def callback_done(callback_id: int):
    callback = _callback(callback_id)
    _r, error = run_operation(callback_ops.mark_callback_done, callback, current_user._get_current_object())
    if error is not None:
        return _callbacks_page(error, callback_id, error.status)
    flash(_("Callback to %(phone)s marked done.", phone=callback.phone))
    return redirect(_back(url_for("telephony.callbacks")))


# -- call records and recordings --------------------------------------------------------------

@bp.get("/telephony/calls")
@centre_only
def calls():
    filters, fields = queries.call_filters(request.args)
    page = _page()
    rows, total = ([], 0) if fields.errors else queries.call_list(filters, page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "telephony/calls.html", rows=rows, total=total, page=page, args=args, errors=fields.errors,
        pages=max(1, math.ceil(total / queries.PER_PAGE)), agents=queries.agent_options(),
        queues=queries.queue_options(), dispositions=list(CallDisposition),
        page_url=lambda n: url_for("telephony.calls", **args, page=n)), (422 if fields.errors else 200)


@bp.get("/telephony/calls/<int(max=2147483647):call_id>")
@centre_only
def call_detail(call_id: int):
    call = db.session.get(Call, call_id) or abort(404)
    user = current_user._get_current_object()
    return render_template("telephony/call.html", d=queries.call_detail(call, user, _recording_present),
                           may_delete=permissions.can_manage_telephony(user))


@bp.get("/telephony/recordings/<int(max=2147483647):recording_id>.wav")
@login_required
def recording(recording_id: int):
    """The audio, for the people allowed to hear it (see permissions.can_play_recording)."""
    rec = db.session.get(Recording, recording_id)
    if rec is None:
        abort(404)
    legs = queries.legs_of(queries.root_of(rec.call))
    user = current_user._get_current_object()
    agent_ids = {leg.agent_user_id for leg in legs if leg.agent_user_id} | {rec.agent_user_id}
    if not permissions.can_play_recording(user, agent_ids=agent_ids):
        return _denied(_("You may not listen to this recording."))
    if rec.deleted_at is not None:
        return render_template("telephony/denied.html", message=_("This recording was deleted.")), 410
    try:
        path = recordings.recording_file(rec)
    except NotFound:
        path = None
    if path is None or not path.is_file():
        return render_template("telephony/denied.html", message=_("The recording file is missing.")), 404
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0,
                     download_name=f"recording-{rec.id}.wav")


@bp.post("/telephony/recordings/<int(max=2147483647):recording_id>/delete")
@login_required
def recording_delete(recording_id: int):
    rec = db.session.get(Recording, recording_id) or abort(404)
    if not permissions.can_manage_telephony(current_user):
        return _denied(_("Only administrators delete recordings."))
    _r, error = run_operation(recordings.delete_recording, rec, current_user._get_current_object())
    flash(error.message if error else _("Recording deleted; the call record keeps who deleted it and when."))
    return redirect(_back(url_for("telephony.call_detail", call_id=rec.call_id)))


# -- calls placed from an order ---------------------------------------------------------------

def _order_call(number: str, kind: OutboundKind):
    user = current_user._get_current_object()
    ticket = get_visible_ticket(user, number)
    phone = ticket.citizen.phone if ticket.citizen else None
    if not phone:
        raise NotFound(_("This order has no phone number to call."))
    return outbound.request_outbound(kind, phone, requested_by=user, ticket=ticket)


@bp.post("/telephony/orders/<number>/dial")
@centre_only
def order_dial(number: str):
    _r, error = run_operation(_order_call, number, OutboundKind.CLICK_TO_DIAL)
    flash(error.message if error else _("Your phone (%(ext)s) rings first; pick it up and the citizen is called.",
                                        ext=current_user.extension))
    return redirect(url_for("tickets.detail", number=number) + "#h-calls")


@bp.post("/telephony/orders/<number>/survey")
@centre_only
def order_survey(number: str):
    _r, error = run_operation(_order_call, number, OutboundKind.SURVEY)
    flash(error.message if error else _("The survey call is queued; the citizen's answer is recorded as the "
                                        "return visit."))
    return redirect(url_for("tickets.detail", number=number) + "#h-calls")


def order_calls_context(ticket, user) -> dict:
    """What the order page shows in its Calls section (centre staff only)."""
    if not permissions.can_view_calls(user):
        return {}
    data = queries.order_calls(ticket, user, _recording_present)
    phone = bool(ticket.citizen and ticket.citizen.phone)
    return {**data, "may_dial": phone and permissions.can_dial(user),
            "may_survey": phone and permissions.can_request_survey(user, ticket),
            "has_extension": permissions.has_extension(user)}


@bp.record_once
def _add_order_panel(state) -> None:
    """The order page shows the order's calls: contributed here, so tickets never imports telephony."""
    register_panel(state.app, "calls", "telephony/_order_calls.html", order_calls_context,
                   head="telephony/_order_calls_head.html")
