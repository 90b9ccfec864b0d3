"""Who has a to-do queue at the centre: the reviewers and supervisors who take its review steps."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import REVIEW


def can_use_todo(user: User) -> bool:
    return user.role in REVIEW
