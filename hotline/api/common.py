"""What every API call shares: who is calling, the error shape, pagination, commits."""
from __future__ import annotations


from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from hotline.auth.operations import user_for_token
from hotline.core.errors import Forbidden, Invalid, OperationError
from hotline.core.transactions import writes  # noqa: F401  (the API's handlers import it from here)
from hotline.extensions import csrf, db
from werkzeug.exceptions import HTTPException


class Unauthorized(OperationError):
    status = 401
    code = "unauthorized"


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def authenticate_request():
    """Bearer token for machines, or the browser session (then with a CSRF token on writes)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(_("Use the header Authorization: Bearer <token>."))
        user = user_for_token(token.strip())
        if user is None:
            raise Unauthorized(_("The API token is unknown or revoked."))
        g.api_user = user
        return
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.api_user = current_user._get_current_object()
        return
    g.api_user = None


def api_user():
    user = g.get("api_user")
    if user is None:
        raise Unauthorized(_("Log in or send an API token."))
    return user


def pagination() -> tuple[int, int]:
    errors = {}
    values = {}
    for name, default, high in (("page", 1, 100000), ("per_page", 50, 200)):
        raw = request.args.get(name)
        try:
            values[name] = default if raw in (None, "") else int(raw)
            if not 1 <= values[name] <= high:
                raise ValueError
        except ValueError:
            errors[name] = _("Must be between %(low)s and %(high)s.", low=1, high=high)
    if errors:
        raise Invalid(_("Some fields need fixing."), fields=errors)
    return values["page"], values["per_page"]


def json_body() -> dict:
    if not request.data:
        return {}
    data = request.get_json(silent=True)
    if data is None:
        raise OperationError(_("The request body is not valid JSON."), code="bad_json", status=400)
    if not isinstance(data, dict):
        raise OperationError(_("The request body must be a JSON object."), code="bad_json", status=400)
    return data


def require(predicate, user) -> None:
    if not predicate(user):
        raise Forbidden(_("Your role may not use this."))


def register_error_handlers(bp) -> None:
    @bp.errorhandler(OperationError)
    def _operation_error(err: OperationError):
        db.session.rollback()
        return error_response(err.status, err.code, err.message, err.fields)

    @bp.errorhandler(CSRFError)
    def _csrf(err):
        return error_response(400, "csrf", _("The form has expired or lacks its security token; reload the page."))

    @bp.errorhandler(HTTPException)
    def _http(err: HTTPException):
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}
        messages = {404: _("There is nothing at this address."),
                    405: _("This address does not accept %(method)s.", method=request.method),
                    413: _("The upload is too large."),
                    429: _("Too many requests; wait a moment and try again.")}
        return error_response(err.code or 500, codes.get(err.code, "error"),
                              messages.get(err.code, err.description or err.name))
