"""Who may use which telephony page and act on calls: one place, used by pages and operations."""
from __future__ import annotations

from hotline.auth.models import User
from hotline.tickets.models import Ticket
from workflows import states
from workflows.states import CENTRE, DESK, Action, Role, TicketStatus, TransitionError

#: Roles that take calls at a phone: the agent page is theirs.
AGENT_ROLES = frozenset({Role.CALL_TAKER, Role.EXPERT, Role.SUPERVISOR})
#: Roles that watch the queues live.
WALLBOARD_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
#: Roles that may play any recording (others only the calls they took themselves).
RECORDING_REVIEWERS = frozenset({Role.CENTRE_REVIEWER, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})


def is_agent(user: User) -> bool:
    """Takes calls: the agent page, screen-pop and own state."""
    return user.role in AGENT_ROLES


def has_extension(user: User) -> bool:
    return bool(user.extension)


def can_view_wallboard(user: User) -> bool:
    return user.role in WALLBOARD_ROLES


def can_monitor(user: User) -> bool:
    """Listen to, whisper into or barge into agents' calls (the shift supervisor)."""
    return user.role == Role.SUPERVISOR


def can_view_calls(user: User) -> bool:
    """Call records and callbacks: centre staff, never departments."""
    return user.role in CENTRE


def can_handle_callbacks(user: User) -> bool:
    """Call a citizen back or mark a callback done: the desk's people."""
    return user.role in DESK


def can_dial(user: User) -> bool:
    """Place a call to a citizen from an order (the phone that rings first is the user's)."""
    return user.role in CENTRE and has_extension(user)


def can_request_survey(user: User, ticket: Ticket) -> bool:
    """An automatic return-visit call: whoever may record the visit, while the order waits for it."""
    if ticket.status != TicketStatus.AWAITING_VISIT:
        return False
    try:
        states.check(Action.VISIT, ticket.status, user.role)
    except TransitionError:
        return False
    return True


def can_play_recording(user: User, *, agent_ids: set[int]) -> bool:
    """Recordings: reviewers, supervisors, managers and administrators, and the agent on the call.

    Never department staff, whatever the order: so a confidential order's recordings (the
    reporter's own voice) stay with the centre, where every one of these roles belongs.
    """
    if user.role not in CENTRE:
        return False
    return user.role in RECORDING_REVIEWERS or user.id in agent_ids


def can_manage_telephony(user: User) -> bool:
    """IVR flows, prompts, queues, extensions and deleting recordings."""
    return user.role == Role.ADMIN
