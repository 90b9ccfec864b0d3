"""Call-taker intake desk: register a call and answer or dispatch it in one step."""
from __future__ import annotations

import re
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from hotline.categories.models import Category
from hotline.categories.operations import active_category
from hotline.core.base import utcnow
from hotline.citizens.operations import find_citizen, normalize_phone
from hotline.desk.permissions import can_use_desk
from hotline.desk.operations import may_urge, record_repeat_call, register_and_finish
from hotline.core.errors import Invalid
from hotline.core.fields import MAX_INT
from hotline.extensions import db
from hotline.telephony.queries import line_status
from hotline.knowledge import operations as knowledge_operations
from hotline.knowledge import permissions as knowledge_permissions
from hotline.knowledge import queries as knowledge_queries
from hotline.knowledge.models import Article
from hotline.tickets import permissions, queries
from hotline.departments.queries import active_departments
from hotline.web.pages import department_options, enum_options, run_operation
from workflows.states import OPEN
from workflows.vocabulary import Channel, TicketType, Urgency

bp = Blueprint("desk", __name__, url_prefix="/desk")

#: The form's fields in tab order: the first one with an error gets the focus.
FIELD_ORDER = ("phone", "caller_name", "type", "channel", "urgency", "category", "subject", "content",
               "address", "is_confidential", "department", "assist", "note", "reply")
#: The labels the form shows, repeated in the list of what to fix above it.
FIELD_LABELS = {
    "phone": _l("Caller's phone"), "caller_name": _l("Caller's name"), "type": _l("Type"),
    "channel": _l("Channel"), "urgency": _l("Urgency"), "category": _l("Category"), "subject": _l("Subject"),
    "content": _l("What the caller says"), "address": _l("Address"),
    "is_confidential": _l("Keep the caller's identity confidential"), "department": _l("Lead department"),
    "assist": _l("Assisting departments (optional)"), "note": _l("Note to the departments"),
    "reply": _l("Answer given to the caller"), "finish": _l("How to finish"),
}
#: Error keys of register_ticket that belong to differently named form fields.
FIELD_ALIASES = {"citizen.phone": "phone", "citizen.name": "caller_name", "citizen": "phone"}
#: How many earlier orders the caller panel lists.
HISTORY_LIMIT = 20
#: How many articles the desk suggests as the problem is typed.
SUGGESTIONS = 5
#: A SIP Call-ID as the telephony screen-pop passes it (?call=); anything else is not kept.
CALL_ID = re.compile(r"[0-9A-Za-z._:@+~!%*-]{1,128}")


def desk_required(view):
    """Logged in with one of the desk's roles (call taker, expert, supervisor, centre reviewer)."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not can_use_desk(current_user):
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def order_url(number: str) -> str:
    return url_for("tickets.detail", number=number)


def _order_link(number: str) -> Markup:
    """The order's number as a link to its page, for the message above the fresh desk."""
    return Markup('<a href="{}">{}</a>').format(order_url(number), number)


# -- reading the form -----------------------------------------------------------------------

def _category_code(raw: str | None) -> str | None:
    """"1001 占道经营" (what the picker fills in), "1001", or an exact name -> the code."""
    raw = (raw or "").strip()
    if not raw:
        return None
    token = raw.split()[0]
    if db.session.scalar(sa.select(Category.id).where(Category.code == token)) is not None:
        return token
    by_name = db.session.scalar(sa.select(Category.code).where(Category.name == raw, Category.is_active))
    return by_name or token


def _ticket_data(form: MultiDict) -> dict:
    """The form as register_ticket's fields (API.md's POST /tickets)."""
    data = {key: form.get(key) for key in ("type", "channel", "urgency", "subject", "content", "address")}
    data["is_confidential"] = form.get("is_confidential") in ("1", "on", "true")
    data["category"] = _category_code(form.get("category"))
    phone, name = form.get("phone", "").strip(), form.get("caller_name", "").strip()
    if phone or name:
        data["citizen"] = {"phone": phone or None, "name": name or None}
    return data


def _finish_data(form: MultiDict, finish: str) -> dict:
    if finish == "answer":
        return {"reply": form.get("reply")}
    return {"department": form.get("department"), "assist": [v for v in form.getlist("assist") if v],
            "note": form.get("note")}


def _field_errors(errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the form's field names, in the form's order."""
    named = {FIELD_ALIASES.get(key, key): message for key, message in errors.items()}
    rank = {name: i for i, name in enumerate((*FIELD_ORDER, "finish"))}
    return dict(sorted(named.items(), key=lambda item: rank.get(item[0], len(rank))))


# -- what the page shows ----------------------------------------------------------------------

def _categories() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).where(Category.is_active).order_by(Category.code)))


def _departments() -> list[tuple[str, str]]:
    """Active departments in tree order, indented by depth."""
    return [(str(i), name) for i, name in department_options(active_departments())]


def _options(enum_cls) -> list[tuple[str, str]]:
    return enum_options(enum_cls)


def _suggestion(form: MultiDict) -> Category | None:
    """The category the form names, whose default department is the suggested lead."""
    code = _category_code(form.get("category"))
    if not code:
        return None
    return active_category(code)


def _caller(raw_phone: str | None) -> dict:
    """The caller panel: the citizen known by this number and their orders, newest first."""
    raw_phone = (raw_phone or "").strip()
    if not raw_phone:
        return {"state": "empty"}
    phone = normalize_phone(raw_phone)
    if phone is None:
        return {"state": "invalid", "phone": raw_phone}
    citizen = find_citizen(phone)
    if citizen is None:
        return {"state": "new", "phone": phone}
    history = queries.citizen_history(phone, limit=HISTORY_LIMIT, with_assignments=True)
    return {"state": "known", "phone": phone, "citizen": citizen, "history": history,
            "open_numbers": {t.number for t in history if t.status in OPEN},
            "may_urge": {t.number: may_urge(current_user, t) for t in history}}


def _render(form: MultiDict, *, error=None, status: int = 200, article: Article | None = None):
    errors = _field_errors(error.fields) if error else {}
    focus = next((name for name in FIELD_ORDER if name in errors), "phone")
    suggested = _suggestion(form)
    department = form.get("department")
    if not department and suggested and suggested.default_department_id:
        department = str(suggested.default_department_id)
    return render_template(
        "desk/index.html", form=form, error=error, errors=errors, labels=FIELD_LABELS, af=lambda name: "autofocus" if name == focus else "",
        caller=_caller(form.get("phone")), categories=_categories(), departments=_departments(),
        department=department, suggested=suggested, types=_options(TicketType),
        channels=_options(Channel), urgencies=_options(Urgency), order_url=order_url,
        line=line_status(utcnow()),
        knowledge_results=_knowledge_results(form) if form.get("subject") or form.get("content") else None,
        answering=article,
    ), status


# -- routes ----------------------------------------------------------------------------------

@bp.get("")
@desk_required
def index():
    """The intake form; ?phone= and ?call= (telephony's screen-pop) fill the number, show the caller
    and link the order registered to that call."""
    form = MultiDict({"channel": Channel.PHONE.value})
    phone = request.args.get("phone", "").strip()[:40]
    if phone:
        form["phone"] = phone
        citizen = find_citizen(phone)
        if citizen is not None and citizen.name:
            form["caller_name"] = citizen.name
    call_id = request.args.get("call") or request.args.get("call_id", "")
    if CALL_ID.fullmatch(call_id):
        form["call_id"] = call_id
    return _render(form)


@bp.get("/caller")
@desk_required
def caller():
    """The caller panel alone, for htmx as the number is typed."""
    if not permissions.can_lookup_citizens(current_user):
        abort(403)
    return render_template("desk/_caller.html", caller=_caller(request.args.get("phone")), order_url=order_url)


@bp.get("/suggest")
@desk_required
def suggest():
    """The lead-department field with the chosen category's department selected."""
    suggested = _suggestion(request.args)
    department = request.args.get("department", "")  # kept while the category names no department
    if suggested and suggested.default_department_id:
        department = str(suggested.default_department_id)
    return render_template("desk/_department.html", departments=_departments(), department=department,
                           suggested=suggested, errors={})


# -- the knowledge base beside the form ----------------------------------------------------------

def _answering_article(raw: str | None) -> Article | None:
    """The article "answer with this article" names, if it answers callers today; else 404."""
    raw = (raw or "").strip()
    if not raw:
        return None
    article = db.session.get(Article, int(raw)) if raw.isdigit() and 0 < int(raw) <= MAX_INT else None
    if article is None or not knowledge_permissions.answers_callers(article, knowledge_operations.today()):
        abort(404)
    return article


def _knowledge_results(form: MultiDict):
    """Articles answering what the caller says (subject and content); None before there is enough to search."""
    problem = " ".join(form.get(name, "").strip() for name in ("subject", "content")).strip()
    problem = problem[:knowledge_queries.MAX_QUERY]
    if len(problem) < knowledge_queries.MIN_QUERY:
        return None
    try:
        return knowledge_queries.search(problem, today=knowledge_operations.today(), per_page=SUGGESTIONS)
    except Invalid:  # nothing searchable in it
        return None


@bp.get("/knowledge")
@desk_required
def knowledge():
    """Articles answering what the caller says, for htmx as it is typed."""
    return render_template("desk/_knowledge_hits.html", results=_knowledge_results(request.args), error=None)


@bp.get("/knowledge/<int(max=2147483647):article_id>")
@desk_required
def knowledge_article(article_id: int):
    """One article's answer in the desk's side panel, with "answer with this article"."""
    return render_template("desk/_knowledge_article.html", article=_answering_article(str(article_id)))


@bp.post("")
@desk_required
def submit():
    """Register the call and answer or dispatch it, in one transaction; ?article= (or the form's
    `article`) answers it from that knowledge-base article."""
    form = request.form
    finish = form.get("finish", "")
    call_id = form.get("call_id", "")
    article = _answering_article(request.args.get("article") or form.get("article"))
    ticket, error = run_operation(register_and_finish, current_user, _ticket_data(form), finish,
                                  _finish_data(form, finish),
                                  call_id=call_id if CALL_ID.fullmatch(call_id) else None, article=article)
    if error is not None:
        return _render(form, error=error, status=error.status, article=article)
    order = _order_link(ticket.number)
    if article is not None:
        flash(Markup(_("Order %(number)s registered and answered with the article “%(title)s”.", number=order,
                       title=escape(article.title))))
    elif finish == "answer":
        flash(Markup(_("Order %(number)s registered and answered.", number=order)))
    else:
        lead = ticket.lead_department
        flash(Markup(_("Order %(number)s registered and dispatched to %(department)s.", number=order,
                       department=escape(lead.name if lead else ""))))
    return redirect(url_for("desk.index"))  # a fresh form, ready for the next call


@bp.post("/link")
@desk_required
def link():
    """Record this call on one of the caller's earlier orders instead of registering a new one."""
    form = request.form
    urge = bool(form.get("link_urge"))
    number = (form.get("link_urge") or form.get("link") or "").strip()
    note = " — ".join(part for part in (form.get("subject", "").strip(), form.get("content", "").strip()) if part)
    ticket, error = run_operation(record_repeat_call, current_user, number, note=note, urge=urge)
    if error is not None:
        return _render(form, error=error, status=error.status)
    order = _order_link(ticket.number)
    if urge:
        flash(Markup(_("This call was recorded on order %(number)s as a repeat call, and the department was urged.",
                       number=order)))
    else:
        flash(Markup(_("This call was recorded on order %(number)s as a repeat call; no new order was registered.",
                       number=order)))
    return redirect(url_for("desk.index"))
