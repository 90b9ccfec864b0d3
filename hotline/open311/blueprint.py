"""Open311 GeoReport v2 over the same orders, in JSON and XML, for existing 311 clients."""
from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree as ET

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _

from hotline.core.transactions import writes
from hotline.auth.operations import user_for_token
from hotline.categories.models import Category
from hotline.core.errors import OperationError
from hotline.extensions import csrf, db, limiter
from hotline.tickets import permissions, queries
from hotline.tickets.models import Ticket
from hotline.tickets.operations import register_ticket
from hotline.tickets.schemas import iso
from workflows.states import FINAL

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)


def _render(format_: str, root: str, item: str, rows: list[dict], status: int = 200):
    if format_ == "json":
        return jsonify(rows), status
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        for key, value in row.items():
            text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            ET.SubElement(node, key).text = text
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return Response(body, status=status, mimetype="text/xml")


def _error(format_: str, status: int, description: str):
    return _render(format_, "errors", "error", [{"code": status, "description": description}], status)


def _check_format(format_: str) -> None:
    if format_ not in ("json", "xml"):
        raise OperationError(_("Use .json or .xml."), code="bad_format", status=404)


def _reader():
    """The user whose GET-parameter api_key this is; Open311 reads act with their visibility."""
    key = request.args.get("api_key", "")
    return user_for_token(key) if key else None


def _request_row(ticket: Ticket, viewer, progress: dict[int, str]) -> dict:
    """`progress`: the newest public progress note of each order (the status notes, where there is one)."""
    # where the reporter's identity is hidden, so is what could point to them
    confidential = permissions.is_confidential(ticket) and not permissions.can_see_identity(viewer, ticket)
    return {
        "service_request_id": ticket.number,
        "status": "closed" if ticket.status in FINAL else "open",
        "status_notes": ticket.status.zh if confidential else progress.get(ticket.id, ticket.status.zh),
        "service_name": ticket.category.name if ticket.category else None,
        "service_code": ticket.category.code if ticket.category else None,
        "description": None if confidential else ticket.subject,
        "requested_datetime": iso(ticket.created_at),
        "updated_datetime": iso(ticket.updated_at),
        "expected_datetime": iso(ticket.due_at),
        "address": None if confidential else ticket.address,
        "lat": None if confidential else ticket.lat,
        "long": None if confidential else ticket.lon,
    }


@bp.errorhandler(OperationError)
def _operation_error(err: OperationError):
    db.session.rollback()
    detail = "; ".join(f"{k}: {v}" for k, v in err.fields.items())
    return _error(request.view_args.get("format_", "json") if request.view_args else "json", err.status,
                  err.message + (f" ({detail})" if detail else ""))


@bp.get("/services.<format_>")
def services(format_: str):
    _check_format(format_)
    rows = db.session.scalars(sa.select(Category).where(Category.is_active).order_by(Category.code))
    return _render(format_, "services", "service", [{
        "service_code": c.code, "service_name": c.name, "description": c.name_en or c.name, "metadata": False,
        "type": "realtime", "keywords": "", "group": c.parent.name if c.parent else c.name} for c in rows])


@bp.get("/requests.<format_>")
def list_requests(format_: str):
    _check_format(format_)
    user = _reader()
    if user is None:
        return _error(format_, 403, _("A valid api_key is required to read requests."))
    query = sa.select(Ticket).order_by(Ticket.created_at.desc()).limit(
        min(max(request.args.get("page_size", 50, type=int) or 50, 1), 200))
    visible = permissions.visible_filter(user)
    if visible is not None:
        query = query.where(visible)
    ids = request.args.get("service_request_id")
    if ids:
        query = query.where(Ticket.number.in_([i.strip() for i in ids.split(",")][:200]))
    code = request.args.get("service_code")
    if code:
        query = query.where(Ticket.category_id.in_(sa.select(Category.id).where(Category.code == code)))
    status = request.args.get("status")
    if status == "open":
        query = query.where(Ticket.status.not_in(FINAL))
    elif status == "closed":
        query = query.where(Ticket.status.in_(FINAL))
    tickets = list(db.session.scalars(query))
    progress = queries.latest_public_progress([t.id for t in tickets])
    rows = [_request_row(t, user, progress) for t in tickets]
    return _render(format_, "service_requests", "request", rows)


@bp.get("/requests/<number>.<format_>")
def get_request(number: str, format_: str):
    _check_format(format_)
    user = _reader()
    if user is None:
        return _error(format_, 403, _("A valid api_key is required to read requests."))
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    if ticket is None or not permissions.can_view(user, ticket):
        return _error(format_, 404, _("No work order %(number)s.", number=number))
    progress = queries.latest_public_progress([ticket.id])
    return _render(format_, "service_requests", "request", [_request_row(ticket, user, progress)])


@bp.post("/requests.<format_>")
@limiter.limit("30 per minute")
def create_request(format_: str):
    _check_format(format_)
    body = request.form if request.form else request.get_json(silent=True)
    if not isinstance(body, Mapping):
        return _error(format_, 400, _("Send the request as form fields or a JSON object."))
    form = {key: value for key, value in body.items() if isinstance(value, str)}  # Open311 fields are text
    user = user_for_token(form["api_key"]) if form.get("api_key") else None
    if user is None:
        return _error(format_, 403, _("A valid api_key is required to submit requests."))
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p) or None
    description = form.get("description") or ""
    data = {
        "type": "help", "channel": "api", "subject": (description[:60] or form.get("service_code") or "Open311"),
        "content": description, "category": form.get("service_code"),
        "citizen": {"name": name, "phone": form.get("phone")} if form.get("phone") else None,
        "address": form.get("address_string"), "lat": form.get("lat"), "lon": form.get("long"),
    }
    ticket = writes(register_ticket, expire_on_commit=False)(user, data)
    return _render(format_, "service_requests", "request", [{
        "service_request_id": ticket.number, "service_notice": "", "account_id": None}], 201)
