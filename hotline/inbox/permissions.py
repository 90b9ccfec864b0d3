"""Who may use the department workspace (/m) and what of it: one place, asked by every entry point."""
from __future__ import annotations

from hotline.auth.models import User
from workflows.states import DEPARTMENT, Role


def can_use_inbox(user: User) -> bool:
    """Department staff who belong to a department."""
    return user.is_authenticated and user.role in DEPARTMENT and user.department_id is not None


def sees_sub_units(user: User) -> bool:
    """A department admin also watches (and sends orders to) the department's sub-units."""
    return user.role == Role.DEPARTMENT_ADMIN
