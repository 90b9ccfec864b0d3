"""Citizen portal: submit a request, check its progress with number plus phone, rate the answer.

Citizens are anonymous. Writes go through hotline.portal.operations as the portal's
service user; abuse is held back by per-address rate limits and an arithmetic question.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.core.errors import Invalid, NotFound, OperationError
from hotline.extensions import db, limiter
from hotline.portal import challenge, operations
from hotline.portal.public import public_order
from hotline.web.pages import enum_options, run_operation

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: Signs the number and phone a track page hands to its rating form.
TRACK_SALT = "portal-track"
#: Seconds a looked-up order may be rated from its page.
TRACK_TOKEN_AGE = 3600
FORM_FIELDS = ("type", "category", "description", "address", "lat", "lon", "name", "phone", "sms")


def _submit_limit() -> str:
    return current_app.config.get("PORTAL_SUBMIT_RATE_LIMIT", "5 per hour;20 per day")


def _track_limit() -> str:
    return current_app.config.get("PORTAL_TRACK_RATE_LIMIT", "10 per minute")


def _locale() -> str:
    return str(get_locale() or "zh")


def _page_error(message: str, status: int):
    return render_template("portal/error.html", message=message), status


@bp.errorhandler(CSRFError)
def _csrf_error(_err):
    return _page_error(_("The form has expired or lacks its security token; go back, reload the page and "
                         "send it again."), 400)


@bp.errorhandler(TooManyRequests)
def _too_many(_err):
    return _page_error(_("Too many requests from your network. Wait a while and try again, or call 12345."), 429)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    mb = current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
    return _page_error(_("The photos are too large together (at most %(mb)d MB); go back and choose smaller "
                         "ones.", mb=mb), 413)


# -- submitting -----------------------------------------------------------------------------

def _choices() -> dict:
    locale = _locale()
    english = locale.startswith("en")
    categories = db.session.scalars(sa.select(Category).where(Category.is_active).order_by(Category.code))
    return {
        "types": enum_options(operations.PORTAL_TYPES),
        "categories": [(c.code, f"{c.code} {(c.name_en or c.name) if english else c.name}") for c in categories],
    }


def _render_form(values: dict, errors: dict, error: OperationError | None, test: challenge.Challenge,
                 status: int = 200):
    return render_template("portal/index.html", values=values, errors=errors, error=error, challenge=test,
                           max_photos=operations.MAX_PHOTOS, **_choices()), status


@bp.get("")
def index():
    return _render_form({}, {}, None, challenge.new_challenge())


@bp.post("")
@limiter.limit(_submit_limit)
def submit():
    form = request.form
    values = {name: form.get(name, "") for name in FORM_FIELDS}
    photos = [p for p in request.files.getlist("photos") if p and p.filename]
    problem = challenge.verify(form.get("challenge_token"), form.get("challenge"))
    if problem:
        errors = operations.check_request(form, photos)
        errors["challenge"] = problem
        err, test = Invalid(_("Some fields need fixing.")), challenge.new_challenge()
    else:
        ticket, err = run_operation(operations.submit_request, form, photos)
        if err is None:
            session["portal_submitted"] = ticket.number
            return redirect(url_for("portal.submitted"))
        errors, test = dict(err.fields), challenge.passed_challenge()
    if photos:
        errors.setdefault("photos", _("Choose your photos again: files are not kept when the form comes back."))
    return _render_form(values, errors, err, test, 422 if isinstance(err, Invalid) else err.status)


@bp.get("/submitted")
def submitted():
    number = session.get("portal_submitted")
    if not number:
        return redirect(url_for("portal.index"))
    return render_template("portal/submitted.html", number=number)


# -- tracking and rating --------------------------------------------------------------------

def _track_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TRACK_SALT)


def _not_found(number: str, phone: str):
    """The same answer for an unknown number and for a wrong phone."""
    errors = {"number": _("Check the order number, e.g. 20260615000001."),
              "phone": _("Check the phone number you gave with the request.")}
    err = NotFound(_("No order matches this number and phone number. Check both and try again."))
    return _render_track({"number": number, "phone": phone}, errors, err, None, 404)


def _render_track(values: dict, errors: dict, error: OperationError | None, ticket, status: int = 200, *,
                  rate_errors: dict | None = None, rate_values: dict | None = None, thanks: bool = False,
                  sms_saved: bool = False):
    order = token = None
    if ticket is not None:
        portal = db.session.scalar(sa.select(User.id).where(
            User.username == operations.PORTAL_USERNAME))
        order = public_order(ticket, _locale(), portal_user_id=portal)
        token = _track_serializer().dumps({"n": ticket.number, "p": ticket.citizen.phone})
    return render_template("portal/track.html", values=values, errors=errors, error=error, order=order,
                           token=token, rate_errors=rate_errors or {}, rate_values=rate_values or {},
                           thanks=thanks, sms_saved=sms_saved, ratings=[(s.value, s.title_for(_locale()))
                                                   for s in operations.CITIZEN_RATINGS]), status


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_track_limit, methods=["POST"])
def track():
    if request.method == "GET":
        return _render_track({"number": request.args.get("number", "")[:20], "phone": ""}, {}, None, None)
    number = (request.form.get("number") or "").strip()
    phone = (request.form.get("phone") or "").strip()
    errors = {}
    if not number:
        errors["number"] = _("Enter the order number you were given.")
    if not phone:
        errors["phone"] = _("Enter the phone number you gave with the request.")
    if errors:
        return _render_track({"number": number, "phone": phone}, errors, Invalid(_("Some fields need fixing.")),
                             None, 422)
    ticket = operations.find_for_citizen(number, phone)
    if ticket is None:
        return _not_found(number, phone)
    return _render_track({"number": number, "phone": phone}, {}, None, ticket)


def _tracked() -> tuple[str, str] | None:
    """(number, phone) of the order the posting track page was showing; None once its token expired."""
    try:
        who = _track_serializer().loads(request.form.get("token") or "", max_age=TRACK_TOKEN_AGE)
        return str(who["n"]), str(who["p"])
    except (BadSignature, KeyError, TypeError):
        return None


@bp.post("/rate")
@limiter.limit(_track_limit)
def rate():
    tracked = _tracked()
    if tracked is None:
        return _render_track({"number": "", "phone": ""}, {}, OperationError(
            _("This page has expired; look up your order again to rate the answer.")), None, 400)
    number, phone = tracked
    values = {"number": number, "phone": phone}
    _ticket, err = run_operation(operations.rate_answer, number, phone, request.form)
    ticket = operations.find_for_citizen(number, phone)
    if ticket is None or isinstance(err, NotFound):
        return _not_found(number, phone)
    if err is not None:
        rate_values = {k: request.form.get(k, "") for k in ("satisfaction", "resolved", "comment")}
        return _render_track(values, {}, err, ticket, err.status, rate_errors=err.fields, rate_values=rate_values)
    return _render_track(values, {}, None, ticket, thanks=True)


@bp.post("/sms")
@limiter.limit(_track_limit)
def sms():
    """Start or stop the progress texts, from the order's track page."""
    tracked = _tracked()
    if tracked is None:
        return _render_track({"number": "", "phone": ""}, {}, OperationError(
            _("This page has expired; look up your order again to change the text messages.")), None, 400)
    number, phone = tracked
    _ticket, err = run_operation(operations.choose_sms, number, phone, request.form.get("wants_sms") == "yes")
    ticket = operations.find_for_citizen(number, phone)
    if err is not None or ticket is None:
        return _not_found(number, phone)
    return _render_track({"number": number, "phone": phone}, {}, None, ticket, sms_saved=True)

from hotline.portal import knowledge as _knowledge  # noqa: E402,F401  (the answers pages, on this blueprint)
