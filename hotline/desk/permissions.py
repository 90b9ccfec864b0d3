"""Who may use the intake desk: one place, asked by its routes and its operations."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import DESK


def can_use_desk(user: User) -> bool:
    """Register calls, record repeat calls: call takers, experts, supervisors, centre reviewers."""
    return user.role in DESK
