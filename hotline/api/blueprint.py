"""The integration API v1 (API.md): thin handlers over the same operations the pages use."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from hotline.api.common import (api_user, authenticate_request, json_body, pagination,
                                register_error_handlers, require, writes)
from hotline.categories.models import Category
from hotline.citizens.operations import find_citizen, normalize_phone
from hotline.core import files
from hotline.core.base import utcnow
from hotline.core.errors import Invalid, NotFound
from hotline.departments.models import Department
from hotline.extensions import csrf, db
from hotline.reports import queries as reports
from hotline.tickets import permissions, queries, schemas
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations.attachments import add_attachment
from hotline.tickets.permissions import can_download
from hotline.tickets.models import Attachment
from hotline.tickets.operations import get_visible_ticket, register_ticket

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer clients carry no CSRF token; session callers are checked in authenticate_request
register_error_handlers(bp)
bp.before_request(authenticate_request)


@bp.get("/me")
def me():
    user = api_user()
    return jsonify({"username": user.username, "display_name": user.display_name, "role": user.role.value,
                    "department": schemas.department_json(user.department)})


@bp.get("/tickets")
def list_tickets():
    user = api_user()
    now = utcnow()
    page_no, per_page = pagination()
    query, _f = queries.build_query(user, request.args, now)
    items, total = queries.page(query, page_no, per_page, user)
    return jsonify({"items": [schemas.ticket_summary(t, user, now) for t in items],
                    "page": page_no, "per_page": per_page, "total": total})


@bp.post("/tickets")
def create_ticket():
    user = api_user()
    # committed before the reply is built, so the day's number counter is locked only briefly; the reply
    # is built from what was inserted (nothing is read back after the commit)
    ticket = writes(register_ticket, expire_on_commit=False)(user, json_body())
    body = schemas.ticket_detail(ticket, user, utcnow(), fresh=True)
    return jsonify(body), 201, {"Location": url_for("api.get_ticket", number=ticket.number)}


EXPORT_COLUMNS = ["number", "status", "type", "channel", "urgency", "subject", "category", "lead_department",
                  "citizen_name", "citizen_phone", "created_at", "due_at", "sla"]
EXPORT_LIMIT = 50000


@bp.get("/tickets/export.csv")
def export_tickets():
    """The filtered list as CSV (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    user = api_user()
    now = utcnow()
    query, _f = queries.build_query(user, request.args, now)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for ticket in db.session.scalars(query.limit(EXPORT_LIMIT)):
        row = schemas.ticket_summary(ticket, user, now)
        citizen = row["citizen"] or {}
        writer.writerow([_cell(v) for v in (
            row["number"], row["status"], row["type"], row["channel"], row["urgency"], row["subject"],
            (row["category"] or {}).get("code"), (row["lead_department"] or {}).get("name"),
            citizen.get("name"), citizen.get("phone"), row["created_at"], row["sla"]["due_at"],
            row["sla"]["state"])])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=tickets.csv"})


def _cell(value):
    """A spreadsheet must not run text as a formula (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.get("/tickets/<number>")
def get_ticket(number: str):
    user = api_user()
    ticket = get_visible_ticket(user, number)
    return jsonify(schemas.ticket_detail(ticket, user, utcnow()))


@bp.get("/tickets/<number>/events")
def ticket_events(number: str):
    user = api_user()
    ticket = get_visible_ticket(user, number)
    return jsonify({"items": schemas.events_for(ticket, user)})


@bp.post("/tickets/<number>/attachments")
@writes
def upload_attachment(number: str):
    user = api_user()
    ticket = get_visible_ticket(user, number, for_update=True)
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(_("Some fields need fixing."), fields={"file": _("Attach a file in the field “file”.")})
    row = add_attachment(ticket, user, upload.filename, upload.stream,
                         confidential=request.form.get("confidential") in ("1", "true", "on"))
    return jsonify({"id": row.id, "filename": row.filename, "content_type": row.content_type,
                    "size": row.size, "sha256": row.sha256}), 201


@bp.get("/tickets/<number>/attachments/<int(max=2147483647):attachment_id>")
def download_attachment(number: str, attachment_id: int):
    user = api_user()
    ticket = get_visible_ticket(user, number)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.ticket_id != ticket.id or not can_download(user, ticket, row):
        raise NotFound(_("No such file on this order."))
    return files.download(row.sha256, row.filename, row.content_type)


@bp.post("/tickets/<number>/<action>")
@writes
def ticket_action(number: str, action: str):
    user = api_user()
    data = json_body()
    ticket = get_visible_ticket(user, number, for_update=True)
    perform(ticket, action, user, data)
    return jsonify(schemas.ticket_detail(ticket, user, utcnow()))


@bp.get("/citizens")
def citizens():
    user = api_user()
    require(permissions.can_lookup_citizens, user)
    phone = normalize_phone(request.args.get("phone"))
    if phone is None:
        raise Invalid(_("Some fields need fixing."),
                      fields={"phone": _("Not a phone number: use 5 to 20 digits, e.g. 13812345678.")})
    citizen = find_citizen(phone)
    now = utcnow()
    history = queries.citizen_history(phone) if citizen else []
    return jsonify({
        "citizen": {"id": citizen.id, "name": citizen.name, "phone": citizen.phone, "is_vip": citizen.is_vip}
        if citizen else None,
        "tickets": [schemas.ticket_summary(t, user, now) for t in history],
    })


def _tree(rows, node) -> list[dict]:
    """Rows with `id` and `parent_id` as nested {..., "children": [...]} nodes, roots first."""
    nodes = {row.id: {**node(row), "children": []} for row in rows}
    roots: list[dict] = []
    for row in rows:
        (nodes[row.parent_id]["children"] if row.parent_id in nodes else roots).append(nodes[row.id])
    return roots


@bp.get("/departments")
def departments():
    api_user()
    rows = db.session.scalars(sa.select(Department).order_by(Department.path)).all()
    return jsonify({"items": _tree(rows, lambda d: {
        "id": d.id, "name": d.name, "name_en": d.name_en, "code": d.code, "level": d.level.value,
        "is_active": d.is_active, "is_utility": d.is_utility})})


@bp.get("/categories")
def categories():
    api_user()
    rows = db.session.scalars(sa.select(Category).order_by(Category.code)).all()
    return jsonify({"items": _tree(rows, lambda c: {
        "code": c.code, "name": c.name, "name_en": c.name_en, "is_active": c.is_active,
        "default_department": c.default_department_id,
        "default_urgency": c.default_urgency.value if c.default_urgency else None})})


@bp.get("/reports/departments")
def department_report():
    user = api_user()
    require(permissions.can_read_reports, user)
    start, end = reports.period(request.args)
    return jsonify({"from": start.isoformat(), "to": end.isoformat(),
                    "items": reports.department_measures(start, end)})


@bp.get("/health")
def health():
    from hotline.health import check_all
    body, ok = check_all()
    return jsonify(body), 200 if ok else 503


@bp.get("/openapi.json")
def openapi():
    from hotline.api.openapi import spec
    return jsonify(spec())


@bp.get("/docs")
def docs():
    from hotline.api.openapi import spec
    return render_template("api/docs.html", spec=spec())
