"""Supervisors listening to, whispering into or barging into agents' live calls."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden
from hotline.extensions import db
from hotline.telephony import permissions
from hotline.telephony.models import Call, CallLeg, MonitorRequest
from hotline.telephony.operations import invalid, no_extension

log = logging.getLogger("hotline.telephony")

#: How a supervisor joins a live call.
MONITOR_MODES = {"listen": _l("Listen"), "whisper": _l("Whisper to the agent"), "barge": _l("Barge in")}


def request_monitor(call: Call, supervisor: User, mode: str) -> MonitorRequest:
    """Listen to, whisper into or barge into an agent's live call; one call at a time per supervisor.

    Asking again on the same call changes the mode; asking on another call ends the first.
    """
    if not permissions.can_monitor(supervisor):
        raise Forbidden(_("Only supervisors monitor calls."))
    if not permissions.has_extension(supervisor):
        raise no_extension()
    if mode not in MONITOR_MODES:
        raise invalid(mode=_("Must be one of: %(values)s.", values=", ".join(MONITOR_MODES)))
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


def open_request_for(call_pk: int) -> MonitorRequest | None:
    """The worker joins a supervisor to the caller's call: the newest open request on it (or its
    agent's leg), marked started; one whose supervisor has no extension any more is ended instead."""
    agent_leg = sa.select(Call.id).where(Call.parent_id == call_pk, Call.leg == CallLeg.AGENT)
    req = db.session.scalar(
        sa.select(MonitorRequest).where(MonitorRequest.ended_at.is_(None),
                                        sa.or_(MonitorRequest.call_id == call_pk,
                                               MonitorRequest.call_id.in_(agent_leg)))
        .order_by(MonitorRequest.id.desc()).limit(1))
    if req is None:
        return None
    supervisor = db.session.get(User, req.supervisor_id)
    if not supervisor or not supervisor.extension:
        req.ended_at = utcnow()
        return None
    req.started_at = req.started_at or utcnow()
    return req


def monitor_finished(request_id: int) -> None:
    """The supervisor's leg ended."""
    req = db.session.get(MonitorRequest, request_id)
    req.ended_at = req.ended_at or utcnow()
