"""Every write to a telephony row, one module per record it owns.

calls (and the call-order link), queue (entries, claims, the queue log), agents (states,
extensions), monitoring, callbacks, outbound (requests to place calls), recordings,
configuration (flows, prompts, queues and their defaults), workers (heartbeat, reap).

Like every operation these mutate and flush but never commit. The telephony worker and the
pages change the same shared rows (agents, queue entries, outbound requests), so a row another
process may change is claimed with a conditional UPDATE that only applies to the state seen.
"""
from __future__ import annotations

from flask_babel import gettext as _

from hotline.core.errors import Conflict, Invalid


def no_extension() -> Conflict:
    return Conflict(_("You have no phone extension yet: ask an administrator to give you one."),
                    code="no_extension")


def invalid(**errors: str) -> Invalid:
    return Invalid(_("Some fields need fixing."), fields=errors)
