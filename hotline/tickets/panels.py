"""Sections other features add to the order page, registered when their blueprint is.

The order page draws what is registered without importing the feature that drew it (the
telephony feature adds the order's calls this way). A panel whose cost grows with the data (the
similar orders: an order's look-alikes) is drawn *later*: the page shows a placeholder that the
browser fills from `tickets.panel` as soon as the page is shown, so the page itself does not wait.
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
    #: (ticket, viewer) -> whether the viewer would see the panel, cheaply: given, the panel is drawn after the
    #: page (its placeholder where the viewer would see it), from `tickets.panel`.
    later: Callable[[Ticket, User], bool] | None = None


def register_panel(app: Flask, name: str, template: str, context: Callable[[Ticket, User], dict], *,
                   head: str | None = None, later: Callable[[Ticket, User], bool] | None = None) -> None:
    """Add a section to the order page of `app` (again under the same name replaces it)."""
    app.extensions.setdefault(EXTENSION_KEY, {})[name] = Panel(name, template, context, head, later)


def order_panels(ticket: Ticket, viewer: User) -> list[dict]:
    """The registered sections `viewer` sees on `ticket`'s page, in the order they were registered; a panel
    drawn later is a placeholder (`later` true, no context) where the viewer would see it."""
    shown = []
    for panel in current_app.extensions.get(EXTENSION_KEY, {}).values():
        if panel.later is not None:
            if panel.later(ticket, viewer):
                shown.append({"name": panel.name, "template": None, "head": panel.head, "later": True})
            continue
        context = panel.context(ticket, viewer)
        if context:
            shown.append({"name": panel.name, "template": panel.template, "head": panel.head, "context": context})
    return shown


def order_panel(name: str, ticket: Ticket, viewer: User) -> dict | None:
    """One registered section as `viewer` sees it on `ticket`'s page (drawn later or not): an empty context where
    the viewer does not see it, None where no section has that name."""
    panel = current_app.extensions.get(EXTENSION_KEY, {}).get(name)
    if panel is None:
        return None
    return {"name": panel.name, "template": panel.template, "head": panel.head,
            "context": panel.context(ticket, viewer)}
