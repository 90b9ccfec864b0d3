"""The desk's units of work: a call registered and finished in one step, a repeat call recorded.

Like every operation these mutate and flush but never commit; the page runs them with
`run_operation`, so a step that fails leaves nothing half-done.
"""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.core.fields import Fields
from hotline.desk.permissions import can_use_desk
from hotline.knowledge import operations as knowledge
from hotline.knowledge import text as knowledge_text
from hotline.knowledge.models import Article
from hotline.telephony.operations import calls
from hotline.tickets.operations.actions import perform
from hotline.tickets.models import Ticket
from hotline.tickets.operations import get_visible_ticket, register_ticket
from hotline.tickets.rules import why_not
from workflows.states import Action, TicketStatus

#: The longest answer the desk fills in from an article (the answer action takes up to 20,000).
MAX_ARTICLE_REPLY = 20000

#: How a registration may be finished from the desk, and the action each one performs.
FINISHES = {"answer": Action.ANSWER, "dispatch": Action.DISPATCH}


def _finish_errors(finish: str, finish_data: dict) -> dict[str, str]:
    """The required fields of the finishing step, checked up front so the user sees every
    missing field at once (the action itself still checks everything)."""
    f = Fields(finish_data)
    if finish == "answer":
        f.text("reply", required=True)
    elif finish == "dispatch":
        f.integer("department", required=True, low=1)
    return f.errors


def article_reply(article: Article) -> str:
    """The article's answer as the text the caller is given."""
    return knowledge_text.plain_text(article.body)[:MAX_ARTICLE_REPLY]


def register_and_finish(actor: User, data: dict, finish: str, finish_data: dict,
                        *, call_id: str | None = None, article: Article | None = None) -> Ticket:
    """Register a case and at once answer it or dispatch it: both, or neither. With `article` the
    call is answered from the knowledge base: its text is the answer unless one was written, and
    the use is recorded on the order."""
    if not can_use_desk(actor):
        raise Forbidden(_("Only the centre's desk registers and finishes calls here."))
    if finish not in FINISHES:
        raise Invalid(_("Some fields need fixing."),
                      fields={"finish": _("Choose “Register and dispatch” or “Register and answer”.")})
    if article is not None:
        if finish != "answer":
            raise Invalid(_("Some fields need fixing."),
                          fields={"finish": _("An article answers the call: choose “Register and answer”.")})
        if not (finish_data.get("reply") or "").strip():
            finish_data = {**finish_data, "reply": article_reply(article)}
    try:
        ticket = register_ticket(actor, data)
    except Invalid as err:
        raise Invalid(err.message, fields={**_finish_errors(finish, finish_data), **err.fields}) from None
    calls.link_order(ticket.id, call_id)  # taken on this call (telephony's screen-pop)
    perform(ticket, FINISHES[finish].value, actor, finish_data)
    if article is not None:
        knowledge.record_use(article, actor, ticket_id=ticket.id)  # Conflict when it no longer answers
    return ticket


def may_urge(actor: User, ticket: Ticket) -> bool:
    """Whether the desk may offer `actor` to urge `ticket` along with a repeat call."""
    return why_not(ticket, actor, Action.URGE) is None


def record_repeat_call(actor: User, number: str, *, note: str | None = None, urge: bool = False) -> Ticket:
    """A caller rings again about an order they already have: record the call on that order
    (a comment the department can read) instead of registering a duplicate; optionally urge."""
    if not can_use_desk(actor):
        raise Forbidden(_("Only the centre's desk records repeat calls."))
    ticket = get_visible_ticket(actor, number, for_update=True)
    if ticket.status in (TicketStatus.MERGED, TicketStatus.CANCELLED):
        raise Conflict(_("Order %(number)s has ended (%(status)s); register the call as a new order.",
                         number=ticket.number, status=ticket.status.title_for(str(get_locale() or "zh"))))
    note = (note or "").strip()
    content = _("Repeat call: %(text)s", text=note) if note else _("Repeat call from the citizen.")
    # an internal comment: staff (the departments on the order included) read it, the citizen's portal does not
    perform(ticket, Action.COMMENT.value, actor, {"content": content[:10000], "internal": True})
    if urge:
        perform(ticket, Action.URGE.value, actor, {"note": _("The citizen called again.")})
    return ticket
