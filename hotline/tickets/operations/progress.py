"""Progress replies (过程回复): a department says how its work is going without ending its part.

A note changes no state and no deadline; it is an entry on the order's trail ({text, public}),
which the citizen reads on the portal (and by text message, see messaging.notices) when public.
Every word a department gives on its work (sign-for, progress, reply) marks when it last showed
progress, which the board watches for orders that have gone quiet.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.fields import Fields
from hotline.tickets import rules
from hotline.tickets.models import Assignment, Ticket
from hotline.tickets.operations.trail import record_event
from workflows.states import Action

#: The longest progress note, in characters (a text message carries a shortened one).
MAX_PROGRESS_LEN = 1000


def mark_progress(assignment: Assignment, at: datetime) -> None:
    """The department working on `assignment` gave word at `at`; so, through it, did the units above."""
    seen = set()
    while assignment is not None and assignment.id not in seen:
        seen.add(assignment.id)
        if assignment.last_progress_at is None or assignment.last_progress_at < at:
            assignment.last_progress_at = at
        assignment = assignment.parent


def record_progress(ticket: Ticket, actor: User, f: Fields, at: datetime) -> None:
    """The `progress` step (perform has asked rules.why_not): one note, any number of times."""
    a = rules.acting_assignment(ticket, actor, Action.PROGRESS, at)
    text = f.text("text", max_len=MAX_PROGRESS_LEN)
    if text is None and "text" not in f.errors:
        f.error("text", _("Write what has been done so far; the note cannot be empty."))
    public = f.boolean("public", default=True)
    f.done()
    mark_progress(a, at)
    record_event(ticket, actor, Action.PROGRESS, at=at, from_status=ticket.status, to_status=ticket.status,
                 note=text, assignment=a, data={"text": text, "public": public})
