"""Filters other features add to the work-order list, registered when their blueprint is.

The list (and its exports) applies what is registered without importing the feature that
defined it: the reports workspace adds "the orders behind a figure" this way
(`?measure=overdue&from=...&to=...&unit=...`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from hotline.core.fields import Fields

EXTENSION_KEY = "hotline.list_filters"


@dataclass(frozen=True)
class ListFilter:
    name: str
    #: The query parameters it reads (kept by the list's links, its pages and its exports).
    params: tuple[str, ...]
    #: (fields, now) -> a condition on Ticket, or None when none of its parameters is given; errors go
    #: to `fields` (the list shows them beside the others).
    condition: Callable[[Fields, datetime], sa.ColumnElement | None]
    #: (args) -> a sentence saying what the list shows, or None.
    describe: Callable[[dict], str | None] | None = None


def register_list_filter(app: Flask, name: str, params: tuple[str, ...],
                         condition: Callable[[Fields, datetime], sa.ColumnElement | None], *,
                         describe: Callable[[dict], str | None] | None = None) -> None:
    """Add a filter to the work-order list of `app` (again under the same name replaces it)."""
    app.extensions.setdefault(EXTENSION_KEY, {})[name] = ListFilter(name, params, condition, describe)


def list_filters() -> list[ListFilter]:
    if not has_app_context():
        return []
    return list(current_app.extensions.get(EXTENSION_KEY, {}).values())


def extra_params() -> tuple[str, ...]:
    return tuple(p for f in list_filters() for p in f.params)


def descriptions(args: dict) -> list[str]:
    """What the registered filters say the list shows, for the list's heading."""
    out = []
    for flt in list_filters():
        if flt.describe is not None and any(args.get(p) not in (None, "") for p in flt.params):
            text = flt.describe(args)
            if text:
                out.append(text)
    return out
