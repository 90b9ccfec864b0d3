"""Department workspace, designed for a phone."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from hotline.core.base import utcnow
from hotline.core.errors import Invalid, NotFound, OperationError
from hotline.inbox import operations, queries
from hotline.inbox.permissions import can_use_inbox
from hotline.tickets import rules
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations import get_visible_ticket
from hotline.web.pages import run_operation
from workflows.states import Action

bp = Blueprint("inbox", __name__, url_prefix="/m")

#: The fields each step's form sends (anything else in the form is ignored).
FORM_FIELDS = {
    Action.SIGN.value: (),
    Action.RETURN.value: ("reason",),
    Action.REQUEST_EXTENSION.value: ("days", "reason"),
    Action.REPLY.value: ("content", "contacted_citizen"),
    Action.SUB_DISPATCH.value: ("department", "note"),
    Action.PROGRESS.value: ("text", "public"),
}
#: Checkboxes: sent as "true" / "false" whether ticked or not (an unticked box sends nothing).
CHECKBOXES = {Action.PROGRESS.value: ("public",)}


@bp.before_request
@login_required
def _department_staff_only():
    if not can_use_inbox(current_user):
        abort(403)


@bp.context_processor
def _helpers():
    locale = _locale()
    return {"dept_name": lambda d: queries.dept_name(d, locale), "Action": Action, "event_title": rules.event_title}


def _locale() -> str:
    return str(get_locale() or "zh")


def _user():
    return current_user._get_current_object()


def _ticket_or_404(number: str, *, for_update: bool = False):
    try:
        return get_visible_ticket(_user(), number, for_update=for_update)
    except NotFound:
        abort(404)


@bp.get("")
def inbox():
    """The first cards of every group; ?group= shows one group whole, a page at a time."""
    now = utcnow()
    user = _user()
    name = request.args.get("group")
    if name is None:
        return render_template("inbox/inbox.html", inbox=queries.inbox(user, now), now=now)
    if name not in queries.groups_of(user):
        abort(404)
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    cards, total, pages = queries.group(user, name, now, queries.PER_PAGE, page_no)
    return render_template("inbox/group.html", group=name, cards=cards, total=total, now=now, page=page_no,
                           pages=pages,
                           page_url=lambda n: url_for(".inbox", group=name, page=n))


def _render_detail(ticket, *, error: OperationError | None = None, failed: str | None = None,
                   values: dict | None = None, status: int = 200):
    now = utcnow()
    view = queries.detail(_user(), ticket, now, _locale())
    return render_template("inbox/detail.html", view=view, t=ticket, now=now, error=error,
                           errors=error.fields if error else {}, failed=failed, values=values or {}), status


@bp.get("/tickets/<number>")
def detail(number: str):
    return _render_detail(_ticket_or_404(number))


SUCCESS = {
    Action.SIGN.value: lambda n: _("Order %(number)s signed for; it is now in progress.", number=n),
    Action.RETURN.value: lambda n: _("Order %(number)s returned to the centre with your reason.", number=n),
    Action.REQUEST_EXTENSION.value: lambda n: _("Extension for order %(number)s requested; the centre will "
                                                "review it.", number=n),
    Action.REPLY.value: lambda n: _("Reply to order %(number)s sent to the centre.", number=n),
    Action.SUB_DISPATCH.value: lambda n: _("Order %(number)s sent to the sub-unit.", number=n),
    Action.PROGRESS.value: lambda n: _("Progress on order %(number)s recorded.", number=n),
}
#: Steps after which the handler stays on the order (its part goes on: after signing for it, the reply
#: form is next), with where on the page to land; after the others, back to the inbox.
STAY = {Action.SIGN.value: "act-reply", Action.PROGRESS.value: "progress"}


@bp.post("/tickets/<number>/act/<action>")
def act(number: str, action: str):
    if action not in FORM_FIELDS:
        abort(404)
    user = _user()
    ticket = _ticket_or_404(number, for_update=True)
    data = {name: request.form[name] for name in FORM_FIELDS[action] if name in request.form}
    data.update({name: "true" if request.form.get(name) else "false" for name in CHECKBOXES.get(action, ())})
    if action == Action.REPLY.value:
        _result, err = run_operation(operations.reply_with_photos, ticket, user, data,
                                     request.files.getlist("photos"))
    else:
        _result, err = run_operation(perform, ticket, action, user, data)
    if err is None:
        flash(SUCCESS[action](number))
        if action in STAY:
            return redirect(url_for(".detail", number=number, _anchor=STAY[action]))
        return redirect(url_for(".inbox"))
    return _render_detail(_ticket_or_404(number), error=err, failed=action, values=data,
                          status=err.status if 400 <= err.status < 600 else 400)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    """Photos over the size limit: say so next to the photo field instead of a bare 413."""
    number = (request.view_args or {}).get("number")
    if request.endpoint != "inbox.act" or not number or not can_use_inbox(current_user):
        return _("The upload is too large."), 413
    err = Invalid(_("The photos are too large together; send fewer or smaller photos."),
                  fields={"photos": _("Too large: send fewer or smaller photos.")})
    body, _status = _render_detail(_ticket_or_404(number), error=err, failed=Action.REPLY.value)
    return body, 413
