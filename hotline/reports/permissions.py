"""Who may read the statistics and assessment workspace: one place, asked by every route of it."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import REVIEW, Role

#: Managers read the assessment; supervisors and centre reviewers chase what it shows.
READERS = REVIEW | {Role.MANAGER}


def can_view_workspace(user: User) -> bool:
    return user.role in READERS
