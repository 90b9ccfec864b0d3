"""Who may do what with return visits by SMS."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import REVIEW


def can_manage_surveys(user: User) -> bool:
    """Send surveys, see their answers, settle a "not satisfied": centre reviewers and supervisors."""
    return user.role in REVIEW
