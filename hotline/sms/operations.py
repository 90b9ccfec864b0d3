"""Every write of the SMS feature: a citizen's text received (a new order, an addition to their
open order, or a survey answer), return visits sent by SMS, answered, expired and reviewed.

Nothing commits here. A gateway may deliver the same incoming message twice (it retries when
our answer is slow): the gateway's id makes the second one a no-op.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.auth.operations import service_user
from hotline.citizens.models import Citizen
from hotline.citizens.operations import normalize_phone
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.extensions import db
from hotline.messaging import operations as outbox
from hotline.messaging.models import MessageChannel
from hotline.messaging.notices import department_staff
from hotline.sms import permissions
from hotline.sms.models import IncomingOutcome, IncomingSms, SmsSurvey, SurveyState
from hotline.tickets.models import Ticket
from hotline.tickets.operations import record_event, register_ticket
from hotline.tickets.operations.actions import perform
from workflows import sms_intake
from workflows.states import Action, AssignmentStatus, Role, TicketStatus

log = logging.getLogger(__name__)

SMS_USERNAME = "sms"
#: What staff read as the author of what arrived by SMS.
SMS_DISPLAY_NAME = "短信平台 (SMS)"
#: Orders a citizen's text can still add to (an answered order awaiting its visit included).
OPEN = (TicketStatus.REGISTERED, TicketStatus.AWAITING_SIGN, TicketStatus.RETURNED, TicketStatus.IN_PROGRESS,
        TicketStatus.REPLIED, TicketStatus.AWAITING_VISIT)
#: The trail's entries of this feature.
SURVEY_SENT, SURVEY_ANSWERED, SURVEY_EXPIRED = "sms-survey", "sms-survey-answer", "sms-survey-expired"


def sms_user() -> User:
    """The SMS platform's service user: registers orders (a desk role) and records visits (a reviewer)."""
    return service_user(SMS_USERNAME, SMS_DISPLAY_NAME, role=Role.CENTRE_REVIEWER)


def _reply(intent: str, template: str, phone: str, ticket: Ticket, params: dict | None = None) -> None:
    """A text message back to the citizen, once per intent."""
    outbox.queue_message(intent=intent, channel=MessageChannel.SMS, template=template,
                         params={"number": ticket.number, **(params or {})}, address=phone, ticket_id=ticket.id)


# -- incoming ---------------------------------------------------------------------------------

def receive(provider_id: str, sender: str | None, receiver: str | None, text: str | None,
            *, at: datetime | None = None) -> IncomingSms:
    """Handle one message a citizen sent; the same `provider_id` again returns the first outcome."""
    provider_id = (provider_id or "").strip()[:100]
    if not provider_id:
        raise Invalid(_("The gateway's message id is missing."), fields={"id": _("Required.")})
    seen = db.session.scalar(sa.select(IncomingSms).where(IncomingSms.provider_id == provider_id))
    if seen is not None:
        return seen
    at = at or utcnow()
    phone = normalize_phone(sender)
    body = (text or "").strip()[:2000]
    incoming = IncomingSms(provider_id=provider_id, sender=(phone or (sender or "")[:20]), receiver=(receiver or "")[:20],
                           text=body, received_at=at, outcome=IncomingOutcome.IGNORED)
    db.session.add(incoming)
    if phone is None:
        incoming.note = "not a phone number"
    elif not body:
        incoming.note = "empty message"
    else:
        _handle(incoming, phone, body, at)
    db.session.flush()
    log.info("SMS %s from %s: %s%s", provider_id, phone, incoming.outcome.value,
             f" ({incoming.note})" if incoming.note else "")
    return incoming


def _handle(incoming: IncomingSms, phone: str, body: str, at: datetime) -> None:
    answer = sms_intake.survey_answer(body)
    if answer is not None:
        survey = pending_survey(phone, at)
        if survey is not None:
            answer_survey(survey, answer, at=at)
            incoming.outcome, incoming.ticket_id = IncomingOutcome.SURVEY_ANSWER, survey.ticket_id
            return
    ticket = _open_order(phone, sms_intake.mentioned_number(body), at)
    if ticket is not None:
        _append(ticket, body, at)
        incoming.outcome, incoming.ticket_id = IncomingOutcome.APPENDED, ticket.id
        db.session.flush()
        _reply(f"sms-in:{incoming.provider_id}:ack", "sms_appended", phone, ticket)
        return
    ticket = register_ticket(sms_user(), {
        "type": "consultation", "channel": "sms", "subject": sms_intake.subject_of(body) or body[:40],
        "content": body, "citizen": {"phone": phone}}, at=at)
    incoming.outcome, incoming.ticket_id = IncomingOutcome.REGISTERED, ticket.id
    db.session.flush()
    _reply(f"sms-in:{incoming.provider_id}:ack", "sms_registered", phone, ticket)


def _open_order(phone: str, number: str | None, at: datetime) -> Ticket | None:
    """The citizen's order the message adds to: the one it names, else their newest recent open one."""
    query = (sa.select(Ticket).join(Citizen, Ticket.citizen_id == Citizen.id)
             .where(Citizen.phone == phone, Ticket.status.in_(OPEN)))
    if number is not None:
        named = db.session.scalar(query.where(Ticket.number == number))
        if named is not None:
            return named
    since = at - timedelta(days=current_app.config["SMS_APPEND_DAYS"])
    return db.session.scalars(query.where(Ticket.created_at >= since)
                              .order_by(Ticket.created_at.desc()).limit(1)).first()


def _append(ticket: Ticket, body: str, at: datetime) -> None:
    """The citizen's words on the order's trail (public: they see them on the portal) and its handlers told."""
    actor = sms_user()
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        content = _("The citizen wrote by SMS: %(text)s", text=body)
    perform(ticket, Action.COMMENT.value, actor, {"content": content, "internal": False}, at=at)
    lead = ticket.lead
    if lead is not None and lead.status in (AssignmentStatus.AWAITING_SIGN, AssignmentStatus.IN_PROGRESS):
        rows = outbox.department_notice_rows(
            intent=f"{ticket.number}:citizen-sms:{at.isoformat()}", template="citizen_sms",
            params={"number": ticket.number, "text": body[:60]}, recipients=department_staff(lead.department_id),
            duty_phone=None, ticket_id=ticket.id, urgent=False)
        outbox.queue_messages(rows)


# -- return visits by SMS ---------------------------------------------------------------------

def pending_survey(phone: str, at: datetime) -> SmsSurvey | None:
    """The newest survey to `phone` still waiting for its answer."""
    return db.session.scalars(sa.select(SmsSurvey).where(
        SmsSurvey.phone == phone, SmsSurvey.state == SurveyState.PENDING, SmsSurvey.expires_at > at)
        .order_by(SmsSurvey.sent_at.desc(), SmsSurvey.id.desc()).limit(1)).first()


def send_survey(ticket: Ticket, actor: User, *, at: datetime | None = None) -> SmsSurvey:
    """Ask the citizen by SMS how satisfied they are; the order leaves the phone-visit list meanwhile."""
    if not permissions.can_manage_surveys(actor):
        raise Forbidden(_("Only centre reviewers and supervisors send return-visit surveys."))
    if ticket.status is not TicketStatus.AWAITING_VISIT:
        raise Conflict(_("A survey can be sent once the answer is approved and the order awaits its return visit."),
                       code="not_awaiting_visit")
    phone = ticket.citizen.phone if ticket.citizen is not None else None
    if not phone or not (len(phone) == 11 and phone.startswith("1")):
        raise Conflict(_("The citizen has no mobile number: visit by phone instead."), code="no_mobile")
    at = at or utcnow()
    earlier = db.session.scalars(sa.select(SmsSurvey).where(SmsSurvey.ticket_id == ticket.id)).all()
    if any(s.state is SurveyState.PENDING for s in earlier):
        raise Conflict(_("A survey for this order is already waiting for the citizen's answer."), code="pending")
    message = outbox.queue_message(intent=f"survey:{ticket.number}:{len(earlier) + 1}", channel=MessageChannel.SMS,
                                   template="survey", params={"number": ticket.number}, address=phone,
                                   ticket_id=ticket.id, now=at)
    survey = SmsSurvey(ticket_id=ticket.id, phone=phone, state=SurveyState.PENDING, sent_by_id=actor.id,
                       message_id=message.id if message else None, sent_at=at,
                       expires_at=at + timedelta(hours=current_app.config["SMS_SURVEY_HOURS"]), needs_review=False)
    db.session.add(survey)
    record_event(ticket, actor, SURVEY_SENT, at=at, from_status=ticket.status, to_status=ticket.status,
                 data={"hours": current_app.config["SMS_SURVEY_HOURS"]})
    db.session.flush()
    return survey


def answer_survey(survey: SmsSurvey, answer: str, *, at: datetime) -> SmsSurvey:
    """The citizen's "1", "2" or "3": the return visit is recorded; a 3 waits for a reviewer."""
    ticket = survey.ticket
    satisfaction = sms_intake.ANSWERS[answer]
    survey.state, survey.answer, survey.answered_at = SurveyState.ANSWERED, answer, at
    survey.needs_review = answer == "3"
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        note = _("Return visit by SMS: the citizen answered %(answer)s (%(rating)s).", answer=answer,
                 rating=satisfaction.title_for(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")))
    if ticket.status is TicketStatus.AWAITING_VISIT:
        perform(ticket, Action.VISIT.value, sms_user(), {"satisfaction": satisfaction.value,
                                                         "resolved": answer != "3", "note": note}, at=at)
    else:   # visited by phone meanwhile: the answer is kept beside that visit
        record_event(ticket, sms_user(), SURVEY_ANSWERED, at=at, from_status=ticket.status, to_status=ticket.status,
                     note=note, data={"answer": answer})
    _reply(f"survey:{survey.id}:thanks", "survey_dissatisfied" if answer == "3" else "survey_thanks",
           survey.phone, ticket)
    db.session.flush()
    return survey


def expire_surveys(now: datetime | None = None) -> int:
    """Surveys with no answer in time: their orders go back on the phone-visit list."""
    now = now or utcnow()
    expired = db.session.scalars(sa.select(SmsSurvey).where(
        SmsSurvey.state == SurveyState.PENDING, SmsSurvey.expires_at <= now).with_for_update(skip_locked=True)).all()
    for survey in expired:
        survey.state = SurveyState.EXPIRED
        record_event(survey.ticket, None, SURVEY_EXPIRED, at=now, from_status=survey.ticket.status,
                     to_status=survey.ticket.status)
    db.session.flush()
    return len(expired)


def keep_closed(survey: SmsSurvey, actor: User, *, at: datetime | None = None) -> SmsSurvey:
    """A reviewer read the citizen's "not satisfied" and keeps the order closed."""
    if not permissions.can_manage_surveys(actor):
        raise Forbidden(_("Only centre reviewers and supervisors review survey answers."))
    if not survey.needs_review:
        raise Conflict(_("This answer has already been reviewed."), code="reviewed")
    survey.needs_review, survey.reviewed_at, survey.reviewed_by_id = False, at or utcnow(), actor.id
    db.session.flush()
    return survey


def reviewed_by_reopen(event, ticket: Ticket, assignment) -> None:
    """Reopening an order settles its survey answers of "not satisfied" (an order-trail listener)."""
    if event.action != Action.REOPEN.value:
        return
    db.session.execute(sa.update(SmsSurvey).where(SmsSurvey.ticket_id == ticket.id, SmsSurvey.needs_review.is_(True))
                       .values(needs_review=False, reviewed_at=event.at, reviewed_by_id=event.actor_id)
                       .execution_options(synchronize_session=False))
