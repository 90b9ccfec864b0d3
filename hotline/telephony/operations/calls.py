"""Call records (one per leg) and the one link between a call and the order taken on it."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.citizens.models import Citizen
from hotline.citizens.operations import normalize_phone
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.models import Call, CallbackReason, CallDisposition, CallLeg
from hotline.telephony.operations import callbacks
from workflows.acd import CallerPriority


def start_call(*, sip_call_id: str, leg: str, caller: str, callee: str, worker: str, parent_pk: int | None = None,
               agent_user_id: int | None = None, ticket_id: int | None = None) -> Call:
    """A leg begins: the citizen is looked up by number and sets the caller's queue priority."""
    phone = normalize_phone(caller) if leg == "inbound" else normalize_phone(callee)
    citizen = db.session.scalar(sa.select(Citizen).where(Citizen.phone == phone)) if phone else None
    priority = CallerPriority.NORMAL
    if citizen is not None and citizen.is_vip:
        priority = CallerPriority.VIP
    elif citizen is not None and citizen.is_important:
        priority = CallerPriority.IMPORTANT
    call = Call(sip_call_id=sip_call_id[:128], leg=CallLeg(leg), parent_id=parent_pk, caller=caller[:40],
                callee=callee[:40], worker=worker, citizen_id=citizen.id if citizen else None,
                agent_user_id=agent_user_id, ticket_id=ticket_id, priority=priority,
                answered_at=utcnow() if leg == "inbound" else None)
    db.session.add(call)
    db.session.flush()
    return call


def answer_call(call: Call) -> None:
    call.answered_at = call.answered_at or utcnow()


def end_call(call: Call, *, disposition: str, end_reason: str | None, sip_status: int | None,
             ivr_path: str | None = None) -> None:
    """A leg ends; a caller who hung up waiting is owed a callback."""
    call.ended_at = utcnow()
    call.disposition = CallDisposition(disposition)
    call.end_reason, call.sip_status = end_reason, sip_status
    if ivr_path:
        call.ivr_path = ivr_path
    if call.leg is CallLeg.INBOUND and disposition == "abandoned":
        callbacks.owe_callback(call, CallbackReason.ABANDONED)


def queued(call: Call, queue_id: int, priority: CallerPriority) -> None:
    call.queue_id, call.priority = queue_id, priority


def taken_by(call: Call, user_id: int, now: datetime) -> None:
    """An agent answered the caller."""
    call.agent_user_id, call.answered_at = user_id, call.answered_at or now


def end_calls_of(workers: list[str], now: datetime) -> None:
    """The calls a lost worker held are over."""
    db.session.execute(sa.update(Call).where(Call.worker.in_(workers), Call.ended_at.is_(None))
                       .values(ended_at=now, end_reason="worker_lost").execution_options(synchronize_session=False))


def link_order(ticket_id: int, sip_call_id: str | None) -> None:
    """The order `ticket_id` was taken on the call `sip_call_id`: the call names it (the first
    order only, if several are taken on one call). Nothing happens for a call not recorded."""
    if not sip_call_id:
        return
    db.session.execute(sa.update(Call).where(Call.sip_call_id == sip_call_id, Call.ticket_id.is_(None))
                       .values(ticket_id=ticket_id))
