"""Sections other features add to the order page, registered when their blueprint is.

The order page draws what is registered without importing the feature that drew it (the
telephony feature adds the order's calls this way).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from hotline.auth.models import User
from hotline.tickets.models import Ticket

EXTENSION_KEY = "hotline.order_panels"


@dataclass(frozen=True)
class Panel:
    name: str
    #: Drawn on the order page with `panel.context` in scope.
    template: str
    #: (ticket, viewer) -> what the template shows; empty means the panel is not drawn for this viewer.
    context: Callable[[Ticket, User], dict]
    #: Stylesheets and scripts the panel needs, drawn in the page's head.
    head: str | None = None


def register_panel(app: Flask, name: str, template: str, context: Callable[[Ticket, User], dict], *,
                   head: str | None = None) -> None:
    """Add a section to the order page of `app` (again under the same name replaces it)."""
    app.extensions.setdefault(EXTENSION_KEY, {})[name] = Panel(name, template, context, head)


def order_panels(ticket: Ticket, viewer: User) -> list[dict]:
    """The registered sections `viewer` sees on `ticket`'s page, in the order they were registered."""
    shown = []
    for panel in current_app.extensions.get(EXTENSION_KEY, {}).values():
        context = panel.context(ticket, viewer)
        if context:
            shown.append({"name": panel.name, "template": panel.template, "head": panel.head, "context": context})
    return shown
