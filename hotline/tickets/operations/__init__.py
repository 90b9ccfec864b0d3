"""Every write to a work order, and only here.

- `register`     registering an order (number, citizen, first event); finding one a user may see
- `actions`      the lifecycle steps (`perform`), each checked by `rules.why_not` first
- `progress`     a department's progress notes (过程回复) and when each assignment last showed progress
- `attachments`  files stored by content hash and recorded on the order
- `trail`        the append-only events, the system's own chasing, listeners of other features

Operations mutate, flush and record an event; they never commit. The caller (a request, a CLI
command, a task) commits once at the end of its unit of work.
"""
from hotline.tickets.operations.register import (
           NUMBER_SHAPE,
           get_visible_ticket,
           next_number,
           register_ticket,
)
from hotline.tickets.operations.trail import (
           CHASE_EVENTS,
           on_event,
           record_chases,
           record_event,
)

__all__ = ["NUMBER_SHAPE", "get_visible_ticket", "next_number", "register_ticket", "CHASE_EVENTS", "on_event",
           "record_chases", "record_event"]
