"""Who may read, write and review knowledge articles.

Every member of staff reads published articles that are in force; administrators and the
owning department's staff (a department above it included) write them; administrators and the
owning department's administrators review them. Citizens read published public articles.
"""
from __future__ import annotations

from datetime import date

from flask import current_app

from hotline.auth.models import User
from hotline.departments.models import Department
from hotline.knowledge.models import Article, ArticleState
from workflows.states import DEPARTMENT, Role


def _owns(user: User, department: Department | None) -> bool:
    return (user.role in DEPARTMENT and user.department is not None and department is not None
            and department.is_within(user.department))


def can_read_knowledge(user: User | None) -> bool:
    """Staff use the knowledge base (call takers and experts first of all)."""
    return bool(user is not None and getattr(user, "is_authenticated", True) and user.is_active)


def can_write_knowledge(user: User | None) -> bool:
    """Write articles at all: administrators and department staff (for their own department)."""
    return can_read_knowledge(user) and (user.role is Role.ADMIN or user.role in DEPARTMENT)


def can_edit(user: User, article: Article) -> bool:
    return can_read_knowledge(user) and (user.role is Role.ADMIN or _owns(user, article.owner_department))


def may_own(user: User, department: Department) -> bool:
    """An article may be given to `department` by this user."""
    return user.role is Role.ADMIN or _owns(user, department)


def can_review(user: User, article: Article) -> bool:
    """Publish or send back: administrators, or the owning department's administrator."""
    if not can_read_knowledge(user):
        return False
    return user.role is Role.ADMIN or (user.role is Role.DEPARTMENT_ADMIN and _owns(user, article.owner_department))


def answers_callers(article: Article, today: date) -> bool:
    """Published and in force: found by searches and shown to readers."""
    return article.state is ArticleState.PUBLISHED and article.is_valid_on(today)


def can_view(user: User, article: Article, today: date) -> bool:
    return can_read_knowledge(user) and (answers_callers(article, today) or can_edit(user, article))


def can_manage_synonyms(user: User | None) -> bool:
    return can_read_knowledge(user) and user.role is Role.ADMIN


def citizens_see(article: Article, today: date) -> bool:
    """The portal shows it to anyone."""
    return article.is_public and answers_callers(article, today)


def public_rate_limit() -> str:
    """How often one address may read the knowledge base without logging in (the API's searches, the
    portal's file downloads)."""
    return current_app.config.get("KNOWLEDGE_PUBLIC_RATE_LIMIT", "60 per minute")
