"""Counting what a list matches without counting a million rows: exact up to a cap, "more than" beyond.

A page needs to say how many orders match and whether there is a next page, not the exact size
of a year's archive; counting every match on every page view is what made lists slow down as the
data grew. The API keeps its exact totals (its contract); pages use these.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from hotline.extensions import db

#: Lists count matches exactly up to this many; past it they say "more than 1,000".
CAP = 1000


class AtLeast(int):
    """A count known only to exceed the cap: compares and does arithmetic as the cap, shows as "1000+"."""

    def __str__(self) -> str:
        return f"{int(self)}+"

    __repr__ = __str__


def is_capped(value) -> bool:
    """True for a count that stopped at the cap (a Jinja test: `total is capped`)."""
    return isinstance(value, AtLeast)


def capped_count(query: sa.Select, cap: int | None = None) -> int:
    """How many rows `query` returns, reading at most cap + 1 of them: AtLeast(cap) when there are more."""
    cap = CAP if cap is None else cap
    inner = query.order_by(None).limit(cap + 1).subquery()
    found = db.session.scalar(sa.select(sa.func.count()).select_from(inner))
    return AtLeast(cap) if found > cap else found


def pages(total: int, per_page: int, page_no: int, more: bool) -> int:
    """How many pages a pager offers: all of them when the count is exact; when it is capped, this page
    and one more while there are more rows (`more`: the page was fetched one row long)."""
    if not is_capped(total):
        return max(1, -(-total // per_page))
    return page_no + 1 if more else page_no


def _scalars(query: sa.Select) -> list:
    return list(db.session.scalars(query).unique())


def capped_page(query: sa.Select, page_no: int, per_page: int,
                load: Callable[[sa.Select], list] = _scalars) -> tuple[list, int, int]:
    """One page of `query` for a web page: (rows, total, pages). The page is fetched one row long to
    know whether another follows; the total is capped, and not counted at all when the first page
    holds everything. `load` reads the limited query (with the options a list needs)."""
    fetched = load(query.limit(per_page + 1).offset((page_no - 1) * per_page))
    more = len(fetched) > per_page
    rows = fetched[:per_page]
    total = len(rows) if page_no == 1 and not more else capped_count(query)
    return rows, total, pages(total, per_page, page_no, more)
