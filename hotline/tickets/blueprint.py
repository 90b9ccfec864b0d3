"""Work-order pages: the list with filters, and one order with its timeline and actions."""
from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape

from hotline.core import counts
from hotline.core.base import utcnow
from hotline.core.errors import Invalid, NotFound, OperationError
from hotline.extensions import db
from hotline.sla import service as sla_service
from hotline.tickets import export, filters, forms, permissions, queries, rules, schemas
from hotline.tickets.panels import order_panel, order_panels
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations.attachments import add_attachment
from hotline.tickets.models import ExtensionRequest, Ticket
from hotline.tickets.operations import get_visible_ticket
from hotline.departments.queries import active_departments
from hotline.web.pages import department_options, enum_options, run_operation, sla_words
from hotline.web.tables import csv_response, xlsx_response
from workflows.states import CENTRE, FINAL, Action, AssignmentRole, AssignmentStatus, TicketStatus
from workflows.vocabulary import ExtensionStatus, ReplyStatus, Satisfaction, TicketType

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

#: Sort choices of the list: (value, title).
SORT_TITLES = (("-created_at", _l("Newest first")), ("created_at", _l("Oldest first")),
               ("due_at", _l("Due soonest")), ("-due_at", _l("Due latest")))
#: The order action forms are drawn in: the step that moves the order on first, side steps last.
FORM_ORDER = [Action.SIGN, Action.REPLY, Action.PROGRESS, Action.DISPATCH, Action.ANSWER, Action.REVIEW_REPLY, Action.REVIEW_RETURN,
              Action.REVIEW_EXTENSION, Action.VISIT, Action.REOPEN, Action.SUB_DISPATCH, Action.REQUEST_EXTENSION,
              Action.RETURN, Action.URGE, Action.SUPERVISE, Action.GRANT_IDENTITY, Action.MERGE, Action.CANCEL,
              Action.COMMENT]
#: Steps that move an order on: the first of these a user may take is the form the page opens.
NEXT_STEPS = frozenset({Action.SIGN, Action.REPLY, Action.DISPATCH, Action.ANSWER, Action.REVIEW_REPLY,
                        Action.REVIEW_RETURN, Action.REVIEW_EXTENSION, Action.VISIT})
#: Pages an action form may send the user back to once the step is taken (?then=, kept by the form).
THEN = {"todo": "todo.index"}


def _title(enum_cls, value) -> str:
    """An enum value (or member) as its title in the user's language; unknown values as they are."""
    if value is None:
        return ""
    member = value if isinstance(value, enum_cls) else enum_cls.parse(value)
    return member.title_for(str(get_locale() or "zh")) if member is not None else str(value)


def _event_title(action: str) -> str:
    return rules.event_title(action)


@bp.context_processor
def _helpers():
    return {"title_of": _title, "event_title": _event_title, "TicketStatus": TicketStatus,
            "AssignmentStatus": AssignmentStatus, "AssignmentRole": AssignmentRole, "TicketType": TicketType,
            "ReplyStatus": ReplyStatus, "ExtensionStatus": ExtensionStatus, "Satisfaction": Satisfaction,
            "Action": Action}


@bp.errorhandler(CSRFError)
def _csrf_error(err):
    return render_template("tickets/error.html",
                           message=_("The form has expired or lacks its security token; reload the page and "
                                     "try again.")), 400


# -- the list -----------------------------------------------------------------------------

def _departments_for(user) -> list[sa.Row]:
    """Departments a user may filter by: all for the centre, their own tree for a department."""
    if user.role in CENTRE:
        return active_departments()
    if user.department_id is None:
        return []
    own = set(permissions.subtree_id_list(user.department_id))
    return [d for d in active_departments() if d.id in own]


class ListRow(NamedTuple):
    """One row of the list, ready to print: the page draws 25 to 100 of these without a macro call each."""

    url: str
    number: str
    status: str
    type: str
    subject: str
    #: "none" (no citizen), "hidden" (confidential to this viewer) or "shown"
    citizen: str
    name: str
    phone: str | None
    department: str
    registered: str
    #: (state, label with the deadline) of the SLA badge, or None without a deadline
    sla: tuple[str, str] | None


def list_rows(tickets: list[queries.Listed], user, now) -> list[ListRow]:
    """The list's rows as text; who may see whose name and number is asked as for the API (schemas)."""
    locale = str(get_locale() or "zh")
    words = sla_words()
    # an order's address is this with its number (letters and digits) at the end: built once, not per row
    order_url = url_for("tickets.detail", number="_")[:-1]
    rows = []
    for t in tickets:
        citizen = schemas.citizen_json(t, user)
        state = sla_service.ticket_sla(t, now)
        due = state["due_at"]
        rows.append(ListRow(
            url=order_url + t.number, number=t.number,
            status=t.status.title_for(locale), type=t.type.title_for(locale), subject=t.subject,
            citizen="none" if citizen is None else "hidden" if citizen["is_hidden"] else "shown",
            name=(citizen or {}).get("name") or "", phone=(citizen or {}).get("phone"),
            department=t.lead_department.name if t.lead_department else "—",
            registered=sla_service.format_local(t.created_at),
            sla=(state["state"], f"{words[state['state']]} · {sla_service.format_local(due)}") if due else None))
    return rows


@bp.get("/")
@bp.get("")
@login_required
def index():
    user = current_user._get_current_object()
    now = utcnow()
    args = forms.filter_args(request.args)
    page_no = forms.page_number(request.args)
    per_page = forms.per_page(request.args)
    size = {"per_page": per_page} if per_page != forms.PER_PAGE else {}
    error = None
    rows, total, pages = [], 0, 1
    try:
        query, _fields = queries.build_query(user, args, now)
        rows, total, pages = queries.page_capped(query, page_no, per_page, user)
    except OperationError as err:  # Invalid filters, or Forbidden (searching by phone)
        error = err
        if not err.fields and "phone" in args:
            err.fields = {"phone": err.message}
    items = list_rows(rows, user, now)
    status_code = error.status if error else 200
    return render_template(
        "tickets/index.html", items=items, total=total, exact=not counts.is_capped(total), page=page_no, pages=pages,
        args=args,
        statuses=set(args.get("status", "").split(",")), error=error, errors=error.fields if error else {},
        departments=_departments_for(user), sort_titles=SORT_TITLES,
        may_search_phone=permissions.may_filter_by_phone(user),
        export_url=lambda fmt: url_for("tickets.export_list", fmt=fmt, **args),
        showing=filters.descriptions(args) if not error else [],
        # filters the form has no field for (a drill-down's, channel, category) stay when it is applied
        hidden_args={**{k: v for k, v in args.items() if k in filters.extra_params() + forms.UNSHOWN_FILTERS},
                     **size},
        page_url=lambda n: url_for("tickets.index", **args, **size, page=n),
        sort_url=lambda s: url_for("tickets.index", **{**args, **size, "sort": s}),
    ), status_code


@bp.get("/export.<fmt>")
@login_required
def export_list(fmt: str):
    """The filtered list (every page of it) as CSV or XLSX, with headers and values in the user's language."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    user = current_user._get_current_object()
    args = forms.filter_args(request.args)
    locale = str(get_locale() or "zh")
    try:
        rows = list(export.rows(user, args, utcnow(), locale))
    except OperationError as err:
        return render_template("tickets/error.html", message=err.message), err.status
    name = f"{_('Work orders')}.{fmt}"
    if fmt == "csv":
        return csv_response(name, export.headers(), rows)
    caption = " · ".join(filters.descriptions(args)) or None
    return xlsx_response(name, _("Work orders"), export.headers(), rows, caption=caption)


# -- one order ----------------------------------------------------------------------------

def available_actions(ticket: Ticket, user) -> list[Action]:
    """The action forms to draw: what `rules.why_not` lets `user` do now, in the page's order."""
    return sorted(rules.available_actions(ticket, user),
                  key=lambda a: FORM_ORDER.index(a) if a in FORM_ORDER else len(FORM_ORDER))


def open_action(actions: list[Action], asked: str | None) -> str | None:
    """The one form the page shows open: the step asked for (?act=), else the most likely next step."""
    member = Action.parse(asked) if asked else None
    if member in actions:
        return member.value
    return actions[0].value if actions and actions[0] in NEXT_STEPS else None


def _then() -> str | None:
    then = request.values.get("then")
    return then if then in THEN and THEN[then] in current_app.view_functions else None


def _pending_extensions(ticket: Ticket) -> list[ExtensionRequest]:
    return list(db.session.scalars(sa.select(ExtensionRequest).where(
        ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.status == ExtensionStatus.PENDING)
        .order_by(ExtensionRequest.id)))


def _options(ticket: Ticket, user, actions: list[Action]) -> dict:
    """Choices for the select fields of the forms on the page."""
    all_depts = department_options(active_departments()) if user.role in CENTRE else []
    own = user.department
    subunits = []
    if Action.SUB_DISPATCH in actions and own is not None:
        subunits = department_options([d for d in active_departments()
                                       if d.path.startswith(own.path) and d.id != own.id])
    assigned = {a.department_id: a.department.name for a in ticket.assignments}
    pending = _pending_extensions(ticket) if Action.REVIEW_EXTENSION in actions else []
    return {
        "departments": all_depts,
        "subunits": subunits,
        "assigned": list(assigned.items()),
        "pending_extensions": pending,
        "satisfaction": enum_options(Satisfaction),
    }


def _render_detail(ticket: Ticket, *, failed: str | None = None, error: OperationError | None = None,
                   form: dict | None = None, status: int = 200):
    user = current_user._get_current_object()
    now = utcnow()
    actions = available_actions(ticket, user)
    detail = schemas.ticket_detail(ticket, user, now)
    return render_template(
        "tickets/detail.html", ticket=ticket, t=detail, events=schemas.events_for(ticket, user),
        actions=actions, fields=forms.ACTION_FIELDS, options=_options(ticket, user, actions),
        opened=failed or open_action(actions, request.args.get("act")), then=_then(),
        failed=failed, error=error, errors=(error.fields if error else {}), form=form or {},
        is_centre=user.role in CENTRE, may_upload=ticket.status not in FINAL,
        assignment_names={a["id"]: a["department"]["name"] for a in detail["assignments"]},
        panels=order_panels(ticket, user),
    ), status


def _load(number: str, *, for_update: bool = False) -> Ticket:
    try:
        return get_visible_ticket(current_user._get_current_object(), number, for_update=for_update)
    except NotFound:
        abort(404)


@bp.get("/<number>")
@login_required
def detail(number: str):
    return _render_detail(_load(number))


@bp.get("/<number>/panels/<name>")
@login_required
def panel(number: str, name: str):
    """A section of the order page drawn after the page (the similar orders): the section alone for the page's
    placeholder (htmx), a page of its own otherwise (no script)."""
    ticket = _load(number)
    shown = order_panel(name, ticket, current_user._get_current_object())
    if shown is None:
        abort(404)
    if not shown["context"]:
        abort(403)
    fragment = request.headers.get("HX-Request") == "true"
    response = make_response(render_template("tickets/_panel.html" if fragment else "tickets/panel.html",
                                             ticket=ticket, panel=shown))
    response.vary.add("HX-Request")  # one address, two shapes: a browser's cache must not hand one for the other
    return response


def _act(user, number: str, action: str, data: dict) -> Ticket:
    """Lock the order as the API does, then take the step."""
    ticket = get_visible_ticket(user, number, for_update=True)
    return perform(ticket, action, user, data)


@bp.post("/<number>/act/<action>")
@login_required
def act(number: str, action: str):
    user = current_user._get_current_object()
    member = Action.parse(action)
    if member is None or member not in forms.ACTION_FIELDS:
        abort(404)
    data = forms.action_data(member, request.form)
    _result, err = run_operation(_act, user, number, action, data)
    if err is None:
        then = _then()
        if then is not None:  # back to the queue the step was taken from, naming the order
            link = Markup('<a href="{}">{}</a>').format(url_for("tickets.detail", number=number), number)
            flash(Markup(_("Order %(number)s: %(action)s done.", number=link,
                           action=escape(_title(Action, member)))))
            return redirect(url_for(THEN[then]))
        flash(_("Done: %(action)s.", action=_title(Action, member)))
        return redirect(url_for("tickets.detail", number=number))
    ticket = _load(number)  # 404 when the order itself is not visible
    return _render_detail(ticket, failed=member.value, error=err, form=request.form, status=err.status)


def _upload(user, number: str, upload, confidential: bool):
    ticket = get_visible_ticket(user, number, for_update=True)
    if upload is None or not upload.filename:
        raise Invalid(_("Some fields need fixing."), fields={"file": _("Choose a file to upload.")})
    return add_attachment(ticket, user, upload.filename, upload.stream, confidential=confidential)


@bp.post("/<number>/attachments")
@login_required
def upload(number: str):
    user = current_user._get_current_object()
    confidential = user.role in CENTRE and bool(request.form.get("confidential"))
    row, err = run_operation(_upload, user, number, request.files.get("file"), confidential)
    if err is None:
        flash(_("File added: %(name)s.", name=row.filename))
        return redirect(url_for("tickets.detail", number=number))
    ticket = _load(number)
    return _render_detail(ticket, failed="upload", error=err, status=err.status)
