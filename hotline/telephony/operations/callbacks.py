"""Callbacks the centre owes citizens: added when a caller hangs up waiting or leaves a message,
claimed when an agent calls back, done when the citizen is reached."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.citizens.operations import normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, NotFound
from hotline.extensions import db
from hotline.telephony import permissions
from hotline.telephony.models import Call, Callback, CallbackReason, CallbackStatus


def owe_callback(call: Call, reason: CallbackReason, ticket_id: int | None = None) -> None:
    """The caller of `call` is owed a call back (not an anonymous one: there is no number)."""
    phone = normalize_phone(call.caller)
    if not phone:
        return
    db.session.add(Callback(phone=phone, citizen_id=call.citizen_id, reason=reason, call_id=call.id,
                            queue_id=call.queue_id, ticket_id=ticket_id))


def claim_callback(callback: Callback | None) -> None:
    """Being dialled from now on, if nobody is dialling it and it is not done."""
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


def call_back_finished(callback_id: int, *, ok: bool, agent_user_id: int | None) -> None:
    """The call back was placed for the last time: done when it got through, owed again otherwise."""
    callback = db.session.get(Callback, callback_id)
    callback.attempts += 1
    if ok:
        callback.status, callback.done_at, callback.done_by_id = CallbackStatus.DONE, utcnow(), agent_user_id
    else:
        callback.status = CallbackStatus.PENDING
