"""Every telephony write the pages make: agents' states, monitoring, outbound calls, callbacks,
recordings and extensions. The administrators' set-up (flows, prompts, queues) is in `setup`.

Like every operation these mutate and flush but never commit; the telephony worker reads what
they write (Agent, MonitorRequest, OutboundRequest rows) and claims it with conditional updates,
so these change shared rows the same way: an UPDATE that only applies to the state they saw.
"""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from hotline.auth.models import User
from hotline.citizens.operations import normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, Invalid, NotFound
from hotline.extensions import db
from hotline.telephony import permissions
from hotline.telephony.models import (Agent, Call, Callback, CallbackStatus, CallLeg, MonitorRequest, OutboundKind,
                                      OutboundRequest, OutboundStatus, QueueEvent, QueueLogEntry, Recording)
from hotline.tickets.models import Ticket
from workflows.acd import BUSY_STATES, CHOSEN_STATES, AgentState, may_choose
from workflows.states import DEPARTMENT, REVIEW, Role

log = logging.getLogger("hotline.telephony")

#: Why an agent is not ready, offered as choices (free text is allowed as well).
NOT_READY_TITLES = {"break": _l("Break"), "meal": _l("Meal"), "meeting": _l("Meeting"),
                    "training": _l("Training"), "outbound": _l("Outbound calls"),
                    "missed_call": _l("Missed a call")}
REASON_MAX = 80
#: How a supervisor joins a live call.
MONITOR_MODES = {"listen": _l("Listen"), "whisper": _l("Whisper to the agent"), "barge": _l("Barge in")}
#: Outbound calls that ring the agent's phone first.
AGENT_FIRST = (OutboundKind.CLICK_TO_DIAL, OutboundKind.CALLBACK)
ACTIVE_OUTBOUND = (OutboundStatus.QUEUED, OutboundStatus.DIALLING)
EXTENSION = re.compile(r"[0-9]{2,20}")


def _no_extension() -> Conflict:
    return Conflict(_("You have no phone extension yet: ask an administrator to give you one."),
                    code="no_extension")


def _fields(**errors: str) -> Invalid:
    return Invalid(_("Some fields need fixing."), fields=errors)


# -- agents -----------------------------------------------------------------------------------

def agent_for(user: User) -> Agent:
    """The user's agent row, created (offline) the first time; safe when two requests race."""
    agent = db.session.get(Agent, user.id)
    if agent is None:
        now = utcnow()
        insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        db.session.execute(insert(Agent).values(
            user_id=user.id, state=AgentState.OFFLINE, state_since=now, idle_since=now, calls_today=0,
            calls_day="").on_conflict_do_nothing(index_elements=["user_id"]))
        agent = db.session.get(Agent, user.id)
    return agent


def busy_message(state: AgentState) -> str:
    if state == AgentState.RINGING:
        return _("Your phone is ringing: answer it or let it ring out; your state changes when it stops.")
    return _("You are on a call: your state changes when the call ends.")


def set_agent_state(user: User, state: AgentState | str, reason: str | None = None) -> Agent:
    """Ready, Not ready (with a reason) or Offline, chosen in the agent page.

    Refused while the phone rings or a call is on: the call decides the state until it ends.
    """
    if not permissions.is_agent(user):
        raise Forbidden(_("Only call takers, experts and supervisors take calls."))
    if not permissions.has_extension(user):
        raise _no_extension()
    wanted = AgentState.parse(state) if isinstance(state, str) else state
    if wanted not in CHOSEN_STATES:
        raise _fields(state=_("Choose Ready, Not ready or Offline."))
    reason = (reason or "").strip() or None
    if wanted == AgentState.NOT_READY:
        if reason is None:
            raise _fields(reason=_("Choose or type why you are not ready."))
        if len(reason) > REASON_MAX:
            raise _fields(reason=_("At most %(n)d characters (got %(got)d).", n=REASON_MAX, got=len(reason)))
    else:
        reason = None
    agent = agent_for(user)
    current, since = agent.state, agent.state_since
    if not may_choose(current, wanted):
        raise Conflict(busy_message(current), code="agent_busy")
    now = utcnow()
    values: dict = {"state": wanted, "reason": reason, "acw_until": None, "current_call_id": None}
    if wanted != current:
        values["state_since"] = now
    if wanted == AgentState.READY and current != AgentState.READY:
        values["idle_since"] = now
    # only if the worker has not offered a call meanwhile (it claims agents the same way)
    done = db.session.execute(sa.update(Agent).where(Agent.user_id == user.id, Agent.state == current)
                              .values(**values).execution_options(synchronize_session=False))
    db.session.refresh(agent)
    if done.rowcount != 1:
        raise Conflict(busy_message(agent.state) if agent.state in BUSY_STATES
                       else _("Your state changed at this moment; look at it and choose again."), code="agent_busy")
    if current == AgentState.AFTER_CALL_WORK:
        _log_acw_ended(user.id, now, (now - since).total_seconds())
    return agent


def _log_acw_ended(user_id: int, now: datetime, seconds: float) -> None:
    """After-call work ended by hand: logged as the worker logs it when the time runs out."""
    last = db.session.scalar(sa.select(QueueLogEntry).where(
        QueueLogEntry.agent_user_id == user_id, QueueLogEntry.event == QueueEvent.COMPLETED)
        .order_by(QueueLogEntry.at.desc(), QueueLogEntry.id.desc()).limit(1))
    if last is not None:
        db.session.add(QueueLogEntry(call_id=last.call_id, queue_id=last.queue_id, event=QueueEvent.ACW_ENDED,
                                     at=now, agent_user_id=user_id, acw_seconds=max(seconds, 0.0)))
        db.session.flush()


# -- monitoring -------------------------------------------------------------------------------

def request_monitor(call: Call, supervisor: User, mode: str) -> MonitorRequest:
    """Listen to, whisper into or barge into an agent's live call; one call at a time per supervisor.

    Asking again on the same call changes the mode; asking on another call ends the first.
    """
    if not permissions.can_monitor(supervisor):
        raise Forbidden(_("Only supervisors monitor calls."))
    if not permissions.has_extension(supervisor):
        raise _no_extension()
    if mode not in MONITOR_MODES:
        raise _fields(mode=_("Must be one of: %(values)s.", values=", ".join(MONITOR_MODES)))
    if call.leg != CallLeg.AGENT or call.answered_at is None or call.ended_at is not None:
        raise Conflict(_("This call has ended or is not an agent's call."), code="call_not_live")
    if call.agent_user_id == supervisor.id:
        raise Conflict(_("This is your own call."), code="own_call")
    now = utcnow()
    others = db.session.scalar(sa.select(sa.func.count(MonitorRequest.id)).where(
        MonitorRequest.call_id == call.id, MonitorRequest.ended_at.is_(None),
        MonitorRequest.supervisor_id != supervisor.id))
    if others:
        raise Conflict(_("Another supervisor is already on this call."), code="monitored")
    kept = None
    for row in db.session.scalars(sa.select(MonitorRequest).where(
            MonitorRequest.supervisor_id == supervisor.id, MonitorRequest.ended_at.is_(None))
            .with_for_update()):
        if row.call_id == call.id and kept is None:
            row.mode, kept = mode, row
        else:
            row.ended_at = now
    if kept is None:
        kept = MonitorRequest(call_id=call.id, supervisor_id=supervisor.id, mode=mode, created_at=now)
        db.session.add(kept)
    db.session.flush()
    log.info("monitor request %s: %s %s call %s", kept.id, supervisor.username, mode, call.sip_call_id)
    return kept


def stop_monitor(supervisor: User) -> int:
    """End the supervisor's monitoring; the worker hangs up their leg. Returns how many ended."""
    if not permissions.can_monitor(supervisor):
        raise Forbidden(_("Only supervisors monitor calls."))
    done = db.session.execute(sa.update(MonitorRequest).where(
        MonitorRequest.supervisor_id == supervisor.id, MonitorRequest.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    return done.rowcount


# -- outbound calls and callbacks -------------------------------------------------------------

def request_outbound(kind: OutboundKind | str, phone: str | None, *, requested_by: User, agent: User | None = None,
                     ticket: Ticket | None = None, callback: Callback | None = None,
                     message: str | None = None) -> OutboundRequest:
    """Ask the telephony worker to place a call.

    click_to_dial and callback ring the agent's phone first (the agent is the requester unless
    given); survey calls the citizen and asks for a rating of the order; notification speaks
    `message`.
    """
    kind = OutboundKind.parse(kind) if isinstance(kind, str) else kind
    if kind is None:
        raise _fields(kind=_("Must be one of: %(values)s.", values=", ".join(OutboundKind.values())))
    number = normalize_phone(phone)
    if number is None:
        raise _fields(phone=_("Not a phone number: use 5 to 20 digits, e.g. 13812345678."))
    agent = agent or (requested_by if kind in AGENT_FIRST else None)
    if kind == OutboundKind.CLICK_TO_DIAL and not permissions.can_dial(requested_by):
        raise (_no_extension() if requested_by.role not in DEPARTMENT else
               Forbidden(_("Only centre staff call citizens from here.")))
    if kind == OutboundKind.CALLBACK and not permissions.can_handle_callbacks(requested_by):
        raise Forbidden(_("Only the centre's desk calls citizens back."))
    if kind == OutboundKind.SURVEY and (ticket is None or not permissions.can_request_survey(requested_by, ticket)):
        raise Conflict(_("A survey call is placed by a reviewer while the order awaits its return visit."),
                       code="invalid_state")
    if kind == OutboundKind.NOTIFICATION:
        if requested_by.role not in REVIEW | {Role.ADMIN}:
            raise Forbidden(_("Only reviewers and supervisors send voice notifications."))
        message = (message or "").strip()
        if not message or len(message) > 500:
            raise _fields(message=_("Give the text to speak, at most 500 characters."))
    if kind == OutboundKind.CALLBACK:
        _claim_callback(callback)  # undone with the rest if the agent turns out to be busy
    if kind in AGENT_FIRST:
        _check_agent_free(agent)
    if kind == OutboundKind.SURVEY and _active(OutboundRequest.ticket_id == ticket.id,
                                               OutboundRequest.kind == OutboundKind.SURVEY):
        raise Conflict(_("A survey call for this order is already waiting to be placed."), code="duplicate")
    now = utcnow()
    request = OutboundRequest(kind=kind, status=OutboundStatus.QUEUED, phone=number,
                              agent_user_id=agent.id if agent else None, ticket_id=ticket.id if ticket else None,
                              callback_id=callback.id if callback else None, message=message or None,
                              requested_by_id=requested_by.id, created_at=now, not_before=now)
    db.session.add(request)
    db.session.flush()
    log.info("outbound %s %s requested by %s (request %s)", kind.value, number, requested_by.username, request.id)
    return request


def _active(*where) -> bool:
    return db.session.scalar(sa.select(sa.func.count(OutboundRequest.id)).where(
        OutboundRequest.status.in_(ACTIVE_OUTBOUND), *where)) > 0


def _check_agent_free(agent: User | None) -> None:
    if agent is None or not permissions.has_extension(agent):
        raise _no_extension()
    row = db.session.get(Agent, agent.id)
    if row is not None and row.state in BUSY_STATES:
        raise Conflict(busy_message(row.state), code="agent_busy")
    if _active(OutboundRequest.agent_user_id == agent.id, OutboundRequest.kind.in_(AGENT_FIRST)):
        raise Conflict(_("A call you asked for is still being placed; wait until it is through."), code="duplicate")


def _claim_callback(callback: Callback | None) -> None:
    if callback is None:
        raise NotFound(_("No such callback."))
    done = db.session.execute(sa.update(Callback).where(
        Callback.id == callback.id, Callback.status.in_([CallbackStatus.PENDING, CallbackStatus.FAILED]))
        .values(status=CallbackStatus.DIALLING).execution_options(synchronize_session=False))
    db.session.refresh(callback)
    if done.rowcount != 1:
        raise Conflict(_("This callback is already being dialled or is done."), code="invalid_state")


def mark_callback_done(callback: Callback, user: User) -> Callback:
    """The citizen was reached some other way (or called again): nothing more is owed."""
    if not permissions.can_handle_callbacks(user):
        raise Forbidden(_("Only the centre's desk calls citizens back."))
    if callback.status == CallbackStatus.DONE:
        raise Conflict(_("This callback is already done."), code="invalid_state")
    callback.status, callback.done_at, callback.done_by_id = CallbackStatus.DONE, utcnow(), user.id
    db.session.flush()
    return callback


# -- recordings -------------------------------------------------------------------------------

def recording_dir() -> Path:
    return Path(current_app.config.get("RECORDING_DIR") or Path(current_app.instance_path) / "recordings")


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


# -- extensions -------------------------------------------------------------------------------

def _extension_owner(extension: str, user: User) -> User | None:
    return db.session.scalar(sa.select(User).where(User.extension == extension, User.is_active.is_(True),
                                                   User.id != user.id))


def set_extension(actor: User, user: User, extension: str | None) -> User:
    """Give a centre user a phone extension (unique among active users), or take it away."""
    if not permissions.can_manage_telephony(actor):
        raise Forbidden(_("Only administrators give out extensions."))
    value = (extension or "").strip() or None
    if value is not None:
        if not EXTENSION.fullmatch(value):
            raise _fields(extension=_("An extension is 2 to 20 digits, e.g. 8001."))
        if user.role in DEPARTMENT:
            raise _fields(extension=_("Department staff do not take calls here."))
        if user.is_service_account:
            raise _fields(extension=_("The portal's service account is managed by the system."))
        owner = _extension_owner(value, user)
        if owner is not None:
            raise _fields(extension=_("Extension %(ext)s belongs to %(name)s.", ext=value, name=owner.display_name))
    if value == user.extension:
        return user
    agent = db.session.get(Agent, user.id)
    if agent is not None:
        if agent.state in BUSY_STATES:
            raise Conflict(_("%(name)s is on a call; change the extension when it ends.", name=user.display_name),
                           code="agent_busy")
        agent.state, agent.state_since, agent.reason = AgentState.OFFLINE, utcnow(), None
    log.info("extension of %s changed by %s from %s to %s", user.username, actor.username, user.extension, value)
    user.extension = value
    db.session.flush()
    return user


def ensure_extension_free(user: User) -> None:
    """Before a switched-off user is switched on again: their extension may have gone to someone else."""
    if user.extension and _extension_owner(user.extension, user) is not None:
        raise Conflict(_("Extension %(ext)s now belongs to someone else; give %(name)s another one first.",
                         ext=user.extension, name=user.display_name), code="extension_taken")
