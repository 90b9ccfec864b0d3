"""Who sees similar orders (the centre, who merges) and the suggestion model's accuracy (administrators)."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import CENTRE, REGISTRARS, Role


def can_see_similar(user: User) -> bool:
    """The centre merges orders, so it is shown the candidates; departments are not."""
    return user.role in CENTRE


def can_ask_suggestion(user: User) -> bool:
    """Whoever registers or dispatches a case may ask which department should take it."""
    return user.role in CENTRE or user.role in REGISTRARS


def can_see_model(user: User) -> bool:
    return user.role == Role.ADMIN
