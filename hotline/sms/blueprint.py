"""The SMS gateways' callbacks (incoming messages, delivery reports) and the centre's survey buttons.

Kannel calls the callbacks with a shared secret (`SMS_GATEWAY_TOKEN`, `?key=`); they are exempt
from CSRF (no browser session is involved) and answer 403 without the secret.
"""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from hotline.core.transactions import writes
from hotline.extensions import csrf, db
from hotline.messaging import operations as outbox
from hotline.sms import operations, permissions, queries
from hotline.sms.models import SmsSurvey, SurveyState
from hotline.tickets.operations import get_visible_ticket, on_event
from hotline.tickets.panels import register_panel
from hotline.tickets.rules import name_event
from hotline.web.pages import run_operation
from integrations.sms.kannel import provider_id as kannel_provider_id

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)

#: Kannel's delivery-report statuses: delivered to the phone, failed at the phone, rejected by the SMSC.
DELIVERED, UNDELIVERED, REJECTED = "1", "2", "16"


def _gateway_allowed() -> None:
    token = current_app.config.get("SMS_GATEWAY_TOKEN")
    given = request.values.get("key", "")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        log.warning("SMS gateway callback %s refused: wrong or missing key (from %s)", request.path,
                    request.remote_addr)
        abort(403)


@bp.route("/sms/kannel/incoming", methods=["GET", "POST"])
@csrf.exempt
def kannel_incoming():
    """Kannel's get-url: from=%p&to=%P&text=%a&id=%I (mo-recode on, so the text arrives as UTF-8)."""
    _gateway_allowed()
    values = request.values
    if not values.get("from"):
        return "from is required\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
    incoming = writes(operations.receive)(values.get("id") or "", values.get("from"), values.get("to"),
                                          values.get("text"))
    # an empty answer: Kannel sends nothing back (the citizen's reply goes through the outbox)
    return "", 200, {"X-Hotline-Outcome": incoming.outcome.value}


@bp.route("/sms/kannel/dlr", methods=["GET", "POST"])
@csrf.exempt
def kannel_dlr():
    """Kannel's dlr-url: id=<our message id>&status=%d (for a long message, maybe one per part)."""
    _gateway_allowed()
    message_id, status = request.values.get("id", ""), request.values.get("status", "")
    if not message_id.isdigit():
        return "id is required\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
    if status in (DELIVERED, UNDELIVERED, REJECTED):
        detail = {UNDELIVERED: "the phone network reports it undelivered",
                  REJECTED: "the SMS centre rejected it"}.get(status, "")
        writes(outbox.record_delivery_report)(kannel_provider_id(message_id), status == DELIVERED, detail,
                                              message_id=int(message_id))
    return "", 200


@bp.post("/orders/<number>/sms-survey")
@login_required
def send_survey(number: str):
    user = current_user._get_current_object()
    ticket = get_visible_ticket(user, number)
    _s, error = run_operation(operations.send_survey, ticket, user)
    flash(error.message if error else _("The survey is on its way; the citizen's answer is recorded as the "
                                        "return visit."))
    return redirect(url_for("tickets.detail", number=number) + "#h-sms-survey")


@bp.post("/sms-surveys/<int(max=2147483647):survey_id>/keep-closed")
@login_required
def keep_closed(survey_id: int):
    survey = db.session.get(SmsSurvey, survey_id)
    if survey is None:
        abort(404)
    user = current_user._get_current_object()
    number = get_visible_ticket(user, survey.ticket.number).number
    _s, error = run_operation(operations.keep_closed, survey, user)
    flash(error.message if error else _("Kept closed: the citizen's answer is reviewed."))
    return redirect(url_for("tickets.detail", number=number) + "#h-sms-survey")


def survey_panel_context(ticket, user) -> dict:
    """The order page's return visits by SMS (centre reviewers and supervisors)."""
    if not permissions.can_manage_surveys(user):
        return {}
    surveys = queries.surveys_of(ticket.id)
    pending = any(s.state is SurveyState.PENDING for s in surveys)
    if not surveys and ticket.status.value != "awaiting_visit":
        return {}
    return {"surveys": surveys, "may_send": ticket.status.value == "awaiting_visit" and not pending,
            "hours": current_app.config["SMS_SURVEY_HOURS"]}


name_event(operations.SURVEY_SENT, _l("Survey sent by SMS"))
name_event(operations.SURVEY_ANSWERED, _l("Survey answered by SMS"))
name_event(operations.SURVEY_EXPIRED, _l("Survey by SMS unanswered: back to phone visits"))


@bp.record_once
def _install(state) -> None:
    register_panel(state.app, "sms_survey", "sms/_order_surveys.html", survey_panel_context)
    on_event(state.app, operations.reviewed_by_reopen)
