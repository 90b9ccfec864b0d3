"""Who may see and act on the outbox: one place, asked by the pages, the API and the operations."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import CENTRE, REVIEW, Role

#: Roles that resend failed messages (those who follow up orders and run the system).
MANAGERS = REVIEW | {Role.ADMIN}


def can_view_messages(user: User) -> bool:
    """Messages sent about orders, their states and errors: centre staff only (they carry phone numbers)."""
    return user.role in CENTRE


def can_manage_messages(user: User) -> bool:
    """The failed and queued messages page, and sending a failed message again."""
    return user.role in MANAGERS
