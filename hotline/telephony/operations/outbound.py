"""Requests to place a call (click to dial, callback, survey, notification): asked for by the
pages, claimed by one telephony worker, finished or queued again by the rule in workflows.outbound."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.citizens.operations import normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden
from hotline.extensions import db
from hotline.messaging import operations as messages
from hotline.telephony import permissions
from hotline.telephony.models import Agent, Callback, OutboundKind, OutboundRequest, OutboundStatus
from hotline.telephony.operations import callbacks, invalid, no_extension
from hotline.telephony.operations.agents import busy_message
from hotline.tickets.models import Ticket
from workflows.acd import BUSY_STATES
from workflows.outbound import retry_at
from workflows.states import DEPARTMENT, REVIEW, Role

log = logging.getLogger("hotline.telephony")

#: Outbound calls that ring the agent's phone first.
AGENT_FIRST = (OutboundKind.CLICK_TO_DIAL, OutboundKind.CALLBACK)
ACTIVE_OUTBOUND = (OutboundStatus.QUEUED, OutboundStatus.DIALLING)


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
        raise invalid(kind=_("Must be one of: %(values)s.", values=", ".join(OutboundKind.values())))
    number = normalize_phone(phone)
    if number is None:
        raise invalid(phone=_("Not a phone number: use 5 to 20 digits, e.g. 13812345678."))
    agent = agent or (requested_by if kind in AGENT_FIRST else None)
    if kind == OutboundKind.CLICK_TO_DIAL and not permissions.can_dial(requested_by):
        raise (no_extension() if requested_by.role not in DEPARTMENT else
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
            raise invalid(message=_("Give the text to speak, at most 500 characters."))
    if kind == OutboundKind.CALLBACK:
        callbacks.claim_callback(callback)  # undone with the rest if the agent turns out to be busy
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


def request_notice_call(phone: str, text: str, *, ticket_id: int | None) -> OutboundRequest:
    """The outbox asks for a voice notice (an urgent order at night rings a duty phone): a system
    request, tried like any notification; its end is reported back to the message (`finish`)."""
    number = normalize_phone(phone)
    if number is None:
        raise ValueError(f"not a phone number: {phone!r}")
    now = utcnow()
    request = OutboundRequest(kind=OutboundKind.NOTIFICATION, status=OutboundStatus.QUEUED, phone=number,
                              ticket_id=ticket_id, message=text[:500], requested_by_id=None, created_at=now,
                              not_before=now)
    db.session.add(request)
    db.session.flush()
    log.info("voice notice to %s queued for the telephony worker (request %s)", number, request.id)
    return request


def notice_call_id(request_id: int) -> str:
    """The outbox's provider id of a voice notice placed as outbound request `request_id`."""
    return f"call-{request_id}"


def _active(*where) -> bool:
    return db.session.scalar(sa.select(sa.func.count(OutboundRequest.id)).where(
        OutboundRequest.status.in_(ACTIVE_OUTBOUND), *where)) > 0


def _check_agent_free(agent: User | None) -> None:
    if agent is None or not permissions.has_extension(agent):
        raise no_extension()
    row = db.session.get(Agent, agent.id)
    if row is not None and row.state in BUSY_STATES:
        raise Conflict(busy_message(row.state), code="agent_busy")
    if _active(OutboundRequest.agent_user_id == agent.id, OutboundRequest.kind.in_(AGENT_FIRST)):
        raise Conflict(_("A call you asked for is still being placed; wait until it is through."), code="duplicate")


def claim_next(worker: str) -> OutboundRequest | None:
    """The next queued request that is due, now dialling by `worker`; None if none (or another worker won)."""
    now = utcnow()
    candidate = db.session.scalar(
        sa.select(OutboundRequest.id).where(OutboundRequest.status == OutboundStatus.QUEUED,
                                            OutboundRequest.not_before <= now)
        .order_by(OutboundRequest.not_before, OutboundRequest.id).limit(1))
    if candidate is None:
        return None
    claimed = db.session.execute(
        sa.update(OutboundRequest).where(OutboundRequest.id == candidate,
                                         OutboundRequest.status == OutboundStatus.QUEUED)
        .values(status=OutboundStatus.DIALLING, claimed_by=worker, attempts=OutboundRequest.attempts + 1)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None  # another worker took it first
    return db.session.get(OutboundRequest, candidate)


def finish(request_id: int, *, ok: bool, result: str | None, call_pk: int | None) -> None:
    """The worker is through with a request: queued again for later, or done / failed for good."""
    req = db.session.get(OutboundRequest, request_id)
    req.result, req.call_id = result, call_pk or req.call_id
    now = utcnow()
    again = retry_at(req.kind.value, result, ok=ok, attempts=req.attempts, max_attempts=req.max_attempts, now=now)
    if again is not None:
        req.status, req.not_before = OutboundStatus.QUEUED, again
        return
    req.status = OutboundStatus.DONE if ok else OutboundStatus.FAILED
    req.finished_at = now
    if req.kind == OutboundKind.NOTIFICATION and req.requested_by_id is None:   # the outbox's voice notice
        messages.record_delivery_report(
            notice_call_id(req.id), delivered=ok,
            detail="" if ok else f"the call was not answered ({result or 'failed'}) after {req.attempts} attempt(s)")
    if req.callback_id:
        callbacks.call_back_finished(req.callback_id, ok=ok, agent_user_id=req.agent_user_id)


def note_result(req: OutboundRequest, result: str) -> None:
    """What became of the request beyond the call itself (a survey answer the order refused)."""
    req.result = result[:80]


def requeue_of(workers: list[str]) -> None:
    """Calls lost workers were placing are placed again by whichever worker comes next."""
    db.session.execute(sa.update(OutboundRequest).where(OutboundRequest.claimed_by.in_(workers),
                                                        OutboundRequest.status == OutboundStatus.DIALLING)
                       .values(status=OutboundStatus.QUEUED, claimed_by=None)
                       .execution_options(synchronize_session=False))
