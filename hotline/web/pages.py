"""What every page shares: the navigation for a role, and running an operation from a form."""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from hotline.core.errors import OperationError
from hotline.core.transactions import writes
from workflows.states import CENTRE, DEPARTMENT, DESK, REVIEW, STAFF, Role

T = TypeVar("T")

#: Roles that take calls at a phone (hotline.telephony.permissions.AGENT_ROLES).
AGENTS = frozenset({Role.CALL_TAKER, Role.EXPERT, Role.SUPERVISOR})

#: (endpoint, title, roles that see the link). Links whose page does not exist yet are left out.
NAV = [
    ("todo.index", _l("My to-do"), REVIEW),
    ("telephony.agent", _l("My phone"), AGENTS),
    ("desk.index", _l("Intake desk"), DESK),
    ("tickets.index", _l("Work orders"), CENTRE | DEPARTMENT),
    ("board.index", _l("Supervision"), REVIEW | {Role.MANAGER}),
    ("telephony.wallboard", _l("Wallboard"), {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}),
    ("telephony.callbacks", _l("Callbacks"), DESK),
    ("telephony.calls", _l("Calls"), CENTRE),
    ("inbox.inbox", _l("My department"), DEPARTMENT),
    ("knowledge.index", _l("Knowledge base"), STAFF),
    ("reports.index", _l("Statistics and assessment"), REVIEW | {Role.MANAGER}),
    ("messaging.index", _l("Outbox"), REVIEW | {Role.ADMIN}),
    ("admin.index", _l("Administration"), {Role.ADMIN}),
]

#: The SLA badge's words by state, as macros.html's sla_badge prints them, for rows built in Python.
SLA_WORDS = {"red": _l("Overdue"), "yellow": _l("Due soon"), "green": _l("On time")}


def sla_words() -> dict[str, str]:
    """SLA_WORDS in the request's language, translated once for a page of rows."""
    return {state: str(label) for state, label in SLA_WORDS.items()}


def nav_items(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    for endpoint, title, roles in NAV:
        if user.role not in roles or endpoint not in current_app.view_functions:
            continue
        try:
            href = url_for(endpoint)
        except BuildError:
            continue
        items.append({"href": href, "title": title, "current": _is_current(endpoint, href)})
    return items


def _is_current(endpoint: str, href: str) -> bool:
    """The link of the page's section: the one whose address the page's address starts with, or
    its blueprint's (unless that blueprint has several links, as telephony has)."""
    if request.endpoint is None:
        return False
    if request.path == href or request.path.startswith(href.rstrip("/") + "/"):
        return True
    section = endpoint.split(".")[0]
    return request.endpoint.split(".")[0] == section and sum(1 for e, _t, _r in NAV if e.split(".")[0] == section) == 1


def run_operation(fn: Callable[..., T], *args, **kwargs) -> tuple[T | None, OperationError | None]:
    """Run a write as one unit of work for a page (the API's `writes`), handing back the error to show."""
    try:
        return writes(fn)(*args, **kwargs), None
    except OperationError as err:
        return None, err


def enum_options(members) -> list[tuple[str, str]]:
    """(value, title in the user's language) pairs for a select."""
    from flask_babel import get_locale
    locale = str(get_locale() or "zh")
    return [(m.value, m.title_for(locale)) for m in members]


def department_options(departments) -> list[tuple[int, str]]:
    """(id, name indented by depth) pairs in tree order (departments sorted by path), English names in English."""
    from flask_babel import get_locale
    english = str(get_locale() or "zh").startswith("en")
    return [(d.id, "\u3000" * max(d.path.count("/") - 2, 0) + ((d.name_en or d.name) if english else d.name)
             + ("" if d.is_active else " ×")) for d in departments]
