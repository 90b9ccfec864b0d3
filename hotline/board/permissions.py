"""Who may use the supervision board: one place, asked by every route of the board."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import REVIEW, Role

#: Roles that watch the board: the centre's reviewers and supervisors, and managers.
VIEWERS = REVIEW | {Role.MANAGER}


def can_view_board(user: User) -> bool:
    return user.role in VIEWERS


def can_urge_from_board(user: User) -> bool:
    """Urge several orders at once (each urge is still checked by the operation)."""
    return user.role in REVIEW
