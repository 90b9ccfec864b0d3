"""Why may this user not take this action on this order now? One answer, in the user's words.

`why_not` is asked by the operation (`actions.perform` raises its error), by every page that
draws action forms (the order page, the inbox on /m, the desk) and so by the API, which acts
through `perform`. The rule itself is pure, in `workflows.preconditions`; this module reads the
order into a snapshot and puts a refusal into words (the msgids the operation always used).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, Invalid, OperationError
from hotline.departments.queries import active_departments
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.tickets import permissions
from hotline.tickets.models import Assignment, ExtensionRequest, Ticket
from workflows import preconditions as pre
from workflows.states import ASSIGNMENT_LIVE, Action, AssignmentStatus, TicketStatus
from workflows.vocabulary import ExtensionStatus


@dataclass(frozen=True)
class Refused:
    """A refusal in words: `reason` is what the user reads, `error` what the operation raises."""

    reason: str
    error: OperationError
    #: A page explains it next to the missing step (see `workflows.preconditions.Refusal.explained`).
    explained: bool


def title(member) -> str:
    """A status / action / role title in the user's language."""
    return member.title_for(str(get_locale() or "zh"))


#: Entries of an order's trail that are not lifecycle actions.
EXTRA_EVENTS = {"attach": _l("File added"), "merged-in": _l("Another order merged into this one"),
                "remind": _l("Reminder (sent by the system)")}


def name_event(action: str, title: str) -> None:
    """Another feature's entries on the trail get their title here (tickets does not import it)."""
    EXTRA_EVENTS[action] = title


def event_title(action: str) -> str:
    """What one entry of the trail is called, in the user's language; unknown names as they are."""
    if action in EXTRA_EVENTS:
        return str(EXTRA_EVENTS[action])
    member = Action.parse(action)
    return title(member) if member else action


def _words(r: pre.Refusal, action: Action, user: User) -> str:
    """The user-facing reason for a refusal (msgids unchanged from when each check lived in its step)."""
    p = r.params
    if r.code == "role":
        return _("Your role (%(role)s) may not do “%(action)s”.", role=title(user.role), action=title(action))
    if r.code == "state":
        status = TicketStatus.parse(p["status"]) or AssignmentStatus.parse(p["status"])
        return _("“%(action)s” is not possible while the order is “%(status)s”.",
                 action=title(action), status=title(status))
    if r.code == "no_open_assignment":
        return _("Your department has no open assignment on this order.")
    if r.code == "no_extension_waiting":
        return _("There is no extension request waiting for review.")
    if r.code == "not_confidential":
        return _("This order is not confidential: its departments already see the caller.")
    if r.code == "no_department_to_grant":
        return _("That department has no assignment on this order.")
    if r.code == "only_lead_returns":
        return _("Only the lead department returns an order; an assisting department adds a comment.")
    if r.code == "return_window_closed":
        return _("Returns were accepted until %(due)s; reply or ask for an extension instead.",
                 due=sla.format_local(p["due"]))
    if r.code == "sub_unit_asks_parent":
        return _("A sub-unit asks its parent department, which asks the centre.")
    if r.code == "not_extendable":
        return _("Orders of this urgency cannot be extended; reply or ask the centre to re-dispatch.")
    if r.code == "extension_waiting":
        return _("An extension request is already waiting for the centre's review.")
    if r.code == "extension_used_up":
        return _("This assignment already has the most extension allowed (%(n)d working days).", n=p["n"])
    if r.code == "no_sub_units":
        return _("Choose one of your department's own sub-units.")
    raise AssertionError(f"no words for refusal {r.code}")  # pragma: no cover - a code added without words


def _refused(r: pre.Refusal, action: Action, user: User) -> Refused:
    reason = _words(r, action, user)
    if r.field is not None:
        error: OperationError = Invalid(_("Some fields need fixing."), fields={r.field: reason})
    elif r.status == 403:
        error = Forbidden(reason)
    else:
        error = Conflict(reason)
    return Refused(reason, error, r.explained)


# -- the snapshot ------------------------------------------------------------------------------

def _own_live(ticket: Ticket, user: User) -> list[Assignment]:
    if user.department_id is None:
        return []
    return [a for a in ticket.assignments if a.department_id == user.department_id and a.status in ASSIGNMENT_LIVE]


def _has_sub_units(user: User) -> bool:
    own = user.department
    if own is None:
        return False
    return any(d.path.startswith(own.path) and d.id != own.id for d in active_departments())


def snapshot(ticket: Ticket, user: User, actions: Iterable[Action] = tuple(Action)) -> pre.OrderView:
    """What the rules read of `ticket` as `user` sees it; the database is asked only for what
    `actions` need (pending extension requests, the extension allowance, sub-units)."""
    actions = set(actions)
    own = _own_live(ticket, user)
    pending: set[int] = set()
    if actions & {Action.REVIEW_EXTENSION, Action.REQUEST_EXTENSION} and ticket.id is not None:
        pending = set(db.session.scalars(sa.select(ExtensionRequest.assignment_id).where(
            ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.status == ExtensionStatus.PENDING)))
    limit = None
    if Action.REQUEST_EXTENSION in actions and own:
        rule = sla.rule_or_none("extension_max", ticket.urgency, ticket.type)
        limit = None if rule is None else rule.amount
    return pre.OrderView(
        status=ticket.status, is_confidential=permissions.is_confidential(ticket),
        has_assignments=bool(ticket.assignments), has_pending_extensions=bool(pending),
        own=tuple(pre.AssignmentView(
            id=a.id, status=a.status, role=a.role, is_top_level=a.parent_id is None,
            return_due_at=a.return_due_at, extended_days=a.extended_days or 0,
            has_pending_extension=a.id in pending) for a in own),
        extension_limit=limit,
        has_sub_units=Action.SUB_DISPATCH in actions and bool(own) and _has_sub_units(user))


# -- the questions -----------------------------------------------------------------------------

def why_not(ticket: Ticket, user: User, action: Action, now: datetime | None = None) -> Refused | None:
    """None when `user` may take `action` on `ticket` now; else the reason, in the user's words."""
    r = pre.refusal(action, snapshot(ticket, user, [action]), user.role, now or utcnow())
    return None if r is None else _refused(r, action, user)


def acting_assignment(ticket: Ticket, user: User, action: Action, now: datetime) -> Assignment:
    """The user's department's assignment a department step acts on; raises why not if none may."""
    order = snapshot(ticket, user, [action])
    r = pre.refusal(action, order, user.role, now)
    if r is not None:
        raise _refused(r, action, user).error
    view = pre.acting_assignment(action, order, user.role, now)
    return _own_live(ticket, user)[next(i for i, v in enumerate(order.own) if v is view)]


def refusals(ticket: Ticket, user: User, actions: Iterable[Action],
             now: datetime | None = None) -> dict[Action, Refused | None]:
    """`why_not` for several actions at once, reading the order once."""
    actions = list(actions)
    order, now = snapshot(ticket, user, actions), now or utcnow()
    out = {}
    for action in actions:
        r = pre.refusal(action, order, user.role, now)
        out[action] = None if r is None else _refused(r, action, user)
    return out


def available_actions(ticket: Ticket, user: User, now: datetime | None = None,
                      among: Iterable[Action] = tuple(Action)) -> list[Action]:
    """The actions (of `among`) `user` may take on `ticket` now: those `why_not` lets through (asked without
    putting the refusals into words: a page asks this for every action)."""
    among = list(among)
    order, now = snapshot(ticket, user, among), now or utcnow()
    return [a for a in among if pre.refusal(a, order, user.role, now) is None]
