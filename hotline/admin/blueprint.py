"""Administration pages: users, departments, categories, deadline policies, the working-day calendar."""
from __future__ import annotations

import calendar as month_calendar
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.auth import operations as users_ops
from hotline.auth.models import User
from hotline.categories import operations as categories_ops
from hotline.categories.models import Category
from hotline.core.errors import Invalid, OperationError, Unavailable
from hotline.core.fields import MAX_INT
from hotline.departments import operations as departments_ops
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.sla import operations as sla_operations
from hotline.sla.models import CalendarDay, CalendarYear, SlaPolicy
from hotline.telephony.operations import agents as telephony_agents
from hotline.telephony.models import CallQueue, IvrFlow, Prompt
from hotline.tickets import permissions
from hotline.web.pages import run_operation
from workflows.deadlines import CalendarMissing
from workflows.states import Role
from workflows.vocabulary import DepartmentLevel, Urgency

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _only_administrators():
    if not permissions.can_manage(current_user):
        abort(403)


def _form_id(name: str) -> int:
    """An id from a form field; anything that is not one (or is too large) finds nothing."""
    value = request.form.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_INT else 0


def _departments():
    return db.session.scalars(sa.select(Department).order_by(Department.path)).all()


@bp.get("/")
def index():
    counts = {
        "users": db.session.scalar(sa.select(sa.func.count(User.id))),
        "departments": db.session.scalar(sa.select(sa.func.count(Department.id))),
        "categories": db.session.scalar(sa.select(sa.func.count(Category.id))),
        "policies": db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))),
        "years": [y.year for y in db.session.scalars(sa.select(CalendarYear).order_by(CalendarYear.year))],
        "flows": db.session.scalar(sa.select(sa.func.count(IvrFlow.id))),
        "prompts": db.session.scalar(sa.select(sa.func.count(Prompt.id))),
        "queues": db.session.scalar(sa.select(sa.func.count(CallQueue.id))),
    }
    return render_template("admin/index.html", counts=counts)


# -- users ---------------------------------------------------------------------------------------

def _create_user(actor: User, form: dict) -> User:
    """A new user and, for those who take calls, their extension: both or neither."""
    dept_id = _form_id("department") if form.get("department") else None
    try:
        user = users_ops.create_user(
            form.get("username", "").strip(), form.get("role", ""), form.get("password", ""),
            department_id=dept_id, display_name=(form.get("display_name") or "").strip() or None,
            can_view_phones=form.get("can_view_phones") == "on")
    except Invalid as err:
        extension = (form.get("extension") or "").strip()
        if extension and not telephony_agents.EXTENSION.fullmatch(extension):
            err.fields.setdefault("extension", _("An extension is 2 to 20 digits, e.g. 8001."))
        raise
    telephony_agents.set_extension(actor, user, form.get("extension"))
    return user


@bp.route("/users", methods=["GET", "POST"])
def users():
    error, form = None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        _user, error = run_operation(_create_user, current_user._get_current_object(), form)
        if error is None:
            flash(_("User %(name)s created.", name=form.get("username")))
            return redirect(url_for("admin.users"))
    rows = db.session.scalars(sa.select(User).options(selectinload(User.department))
                              .order_by(User.role, User.username)).all()
    return render_template("admin/users.html", rows=rows, error=error, form=form, roles=list(Role),
                           departments=_departments()), (error.status if error else 200)


@bp.post("/users/<int(max=2147483647):user_id>")
def user_update(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if "active" in request.form:
        _r, error = run_operation(_set_active, current_user._get_current_object(), user, request.form["active"] == "1")
    elif "extension" in request.form:
        _r, error = run_operation(telephony_agents.set_extension, current_user._get_current_object(), user,
                                  request.form["extension"])
    else:
        _r, error = run_operation(users_ops.set_password, current_user, user, request.form.get("password", ""))
    flash(next(iter(error.fields.values()), error.message) if error else _("Saved."))
    return redirect(url_for("admin.users"))


def _set_active(actor: User, user: User, active: bool) -> None:
    if active:
        telephony_agents.ensure_extension_free(user)  # it may have gone to someone else meanwhile
    users_ops.set_user_active(actor, user, active)


# -- departments ---------------------------------------------------------------------------------

@bp.route("/departments", methods=["GET", "POST"])
def departments():
    error, form = None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        _dept, error = run_operation(departments_ops.create_department, form)
        if error is None:
            flash(_("Department %(name)s added.", name=form.get("name")))
            return redirect(url_for("admin.departments"))
    return render_template("admin/departments.html", rows=_departments(), error=error, form=form,
                           levels=list(DepartmentLevel)), (error.status if error else 200)


@bp.post("/departments/<int(max=2147483647):dept_id>")
def department_update(dept_id: int):
    dept = db.session.get(Department, dept_id) or abort(404)
    _r, error = run_operation(departments_ops.set_department_active, dept, request.form.get("active") == "1")
    flash(error.message if error else _("Saved."))
    return redirect(url_for("admin.departments"))


@bp.post("/departments/<int(max=2147483647):dept_id>/duty-phone")
def department_duty_phone(dept_id: int):
    dept = db.session.get(Department, dept_id) or abort(404)
    _r, error = run_operation(departments_ops.set_duty_phone, dept, request.form.to_dict())
    flash(next(iter(error.fields.values()), error.message) if error else _("Saved."))
    return redirect(url_for("admin.departments"))


# -- categories ----------------------------------------------------------------------------------

@bp.route("/categories", methods=["GET", "POST"])
def categories():
    error, form = None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        _c, error = run_operation(categories_ops.create_category, form)
        if error is None:
            flash(_("Category %(name)s added.", name=form.get("name")))
            return redirect(url_for("admin.categories"))
    rows = db.session.scalars(sa.select(Category).order_by(Category.code)).all()
    parent_options = [(c.id, f"{c.code} {c.name}") for c in rows if c.parent_id is None]
    departments = _departments()
    return render_template("admin/categories.html", rows=rows, error=error, form=form, urgencies=list(Urgency),
                           parent_options=parent_options,
                           departments=departments, dept_names={d.id: d.name for d in departments}), \
        (error.status if error else 200)


@bp.post("/categories/<int(max=2147483647):category_id>")
def category_update(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    _r, error = run_operation(categories_ops.set_category_active, category, request.form.get("active") == "1")
    flash(error.message if error else _("Saved."))
    return redirect(url_for("admin.categories"))


# -- deadline policies ---------------------------------------------------------------------------

@bp.route("/sla", methods=["GET", "POST"])
def sla_policies():
    errors: dict[int, OperationError] = {}
    if request.method == "POST":
        policy = db.session.get(SlaPolicy, _form_id("id")) or abort(404)
        _r, error = run_operation(sla_operations.update_policy, current_user, policy, request.form.to_dict())
        if error is None:
            flash(_("Saved. New dispatches use it at once; existing deadlines stay."))
            return redirect(url_for("admin.sla_policies"))
        errors[policy.id] = error
    rows = db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.step, SlaPolicy.urgency,
                                                            SlaPolicy.ticket_type)).all()
    return render_template("admin/sla.html", rows=rows, errors=errors), (422 if errors else 200)


# -- the working-day calendar --------------------------------------------------------------------

@bp.get("/calendar")
def calendar():
    year = request.args.get("year", type=int) or date.today().year
    if not 1990 <= year <= 2200:
        abort(404)
    known = db.session.get(CalendarYear, year)
    days = {d.day: d for d in db.session.scalars(sa.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}
    months = [(m, month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, m)) for m in range(1, 13)]
    return render_template("admin/calendar.html", year=year, known=known, days=days, months=months)


def _change_calendar(form) -> str:
    """Import a year or switch one day; the message to show. CalendarMissing becomes a clear error."""
    year = form.get("year", type=int) or 0
    try:
        if form.get("import") in ("official", "provisional"):
            count = sla_operations.import_year(year, provisional=form["import"] == "provisional")
            return _("Imported %(n)d days of %(year)d.", n=count, year=year)
        try:
            day = date.fromisoformat(form.get("day", ""))
        except ValueError:
            raise Invalid(_("Must be a date like 2026-11-22."), fields={"day": _("Must be a date like 2026-11-22.")}) \
                from None
        sla_operations.set_day(day, form.get("is_workday") == "1", (form.get("note") or "").strip() or None)
        return _("%(day)s saved.", day=day.isoformat())
    except CalendarMissing as err:
        raise Unavailable(_("The official calendar of %(year)d is not known to this version; import a provisional "
                            "Monday–Friday calendar and mark the holidays and make-up days by hand.",
                            year=err.year)) from None


@bp.post("/calendar")
def calendar_change():
    message, error = run_operation(_change_calendar, request.form)
    flash(error.message if error else message)
    day = request.form.get("day", "")
    year = int(day[:4]) if day[:4].isdigit() else request.form.get("year", type=int)
    return redirect(url_for("admin.calendar", year=year))
