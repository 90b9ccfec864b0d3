"""Counting what a list matches without counting a million rows: exact up to a cap, "more than" beyond.

A page needs to say how many orders match and whether there is a next page, not the exact size
of a year's archive; counting every match on every page view is what made lists slow down as the
data grew. The API keeps its exact totals (its contract); pages use these.

A capped count is also remembered for a few seconds (`LIST_COUNT_SECONDS`, per web worker) under the
statement that counted and its values: paging through a list, or a second reviewer opening the same
queue, counts once. The statement holds every visibility condition, so only the same question gets
the same answer; the rows themselves are always read afresh.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.core.recent import Recent
from hotline.extensions import db

#: Lists count matches exactly up to this many; past it they say "more than 1,000".
CAP = 1000
#: An execution option of a query: a function (limit, offset) -> those rows of the query, in a form cheaper
#: than the query with LIMIT and OFFSET (a department's list walks its assignments only that far).
FIRST_ROWS = "hotline_first_rows"
#: An execution option of a query: a function (limit) -> a FROM with a row for each of the query's first `limit`
#: rows, cheaper to count than the rows themselves (a department's list counts its walk, not the orders).
COUNTED_ROWS = "hotline_counted_rows"
#: Counts kept per worker, by statement and values (no write forgets them: they may be LIST_COUNT_SECONDS old).
_remembered = Recent(setting="LIST_COUNT_SECONDS", default=0, per_request=False)


class AtLeast(int):
    """A count known only to exceed the cap: compares and does arithmetic as the cap, shows as "1000+"."""

    def __str__(self) -> str:
        return f"{int(self)}+"

    __repr__ = __str__


def at_most(found: int, cap: int | None = None) -> int:
    """A count read up to cap + 1 rows: itself, or AtLeast(cap) when it went past the cap."""
    cap = CAP if cap is None else cap
    return AtLeast(cap) if found > cap else found


def capped_size(query: sa.Select, cap: int | None = None) -> sa.ScalarSelect:
    """A scalar subquery counting `query`'s rows, reading at most cap + 1 of them (`at_most` tells the answer)."""
    cap = CAP if cap is None else cap
    return sa.select(sa.func.count()).select_from(query.order_by(None).limit(cap + 1).subquery()).scalar_subquery()


def is_capped(value) -> bool:
    """True for a count that stopped at the cap (a Jinja test: `total is capped`)."""
    return isinstance(value, AtLeast)


def _frozen(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _statement_key(statement: sa.Select) -> tuple | None:
    """The statement and its values, as SQLAlchemy's statement cache tells them apart (None: not keyable)."""
    key = statement._generate_cache_key()
    if key is None:
        return None
    return str(db.engine.url), key.key, tuple(_frozen(b.effective_value) for b in key.bindparams)


def remembered(statement: sa.Select, read: Callable[[], object]):
    """`read()`, the answer to `statement`, remembered for LIST_COUNT_SECONDS (0: never remembered)."""
    key = _statement_key(statement) if current_app.config.get("LIST_COUNT_SECONDS", 0) > 0 else None
    return read() if key is None else _remembered.get(key, read)


def rows_of(query: sa.Select, limit: int, offset: int = 0) -> sa.Select:
    """`limit` rows of `query` from `offset` on: in its cheaper form where it has one (FIRST_ROWS)."""
    cheaper = query.get_execution_options().get(FIRST_ROWS)
    return query.limit(limit).offset(offset) if cheaper is None else cheaper(limit, offset)


def capped_count(query: sa.Select, cap: int | None = None) -> int:
    """How many rows `query` returns, reading at most cap + 1 of them: AtLeast(cap) when there are more.
    Remembered for a few seconds (`remembered`)."""
    cap = CAP if cap is None else cap
    counted = query.get_execution_options().get(COUNTED_ROWS)
    inner = rows_of(query, cap + 1).order_by(None).subquery() if counted is None else counted(cap + 1)
    statement = sa.select(sa.func.count()).select_from(inner)
    found = remembered(statement, lambda: db.session.scalar(statement))
    return at_most(found, cap)


def capped_counts(queries: dict[str, sa.Select], cap: int | None = None, *, remember: bool = True) -> dict[str, int]:
    """`capped_count` of each query, all in one statement (one round trip for a page of counts), remembered
    like one count (`remembered`) unless `remember` is false (a page its own user's steps change at once)."""
    cap = CAP if cap is None else cap
    limited = {key: capped_size(query, cap).label(key) for key, query in queries.items()}
    statement = sa.select(*limited.values())
    read = lambda: tuple(db.session.execute(statement).one())  # noqa: E731
    row = remembered(statement, read) if remember else read()
    return {key: at_most(found, cap) for key, found in zip(limited, row)}


def first_rows(lists: dict[str, sa.Select]) -> dict[str, list[sa.Row]]:
    """key -> the rows of each list's select, in the order of its `rank` column: all the lists in one statement
    (their selects joined by UNION ALL, so each is read in its own order and stops at its own LIMIT).

    Each select yields the same columns, `rank` (a row's place in its list) among them; a page shows the
    first rows of several lists (the board's queues, the inbox's groups) for one round trip."""
    parts = [sa.select(sa.literal(key, sa.String).label("list_key"), *query.subquery().c)
             for key, query in lists.items()]
    rows = sa.union_all(*parts).subquery()
    out: dict[str, list[sa.Row]] = {key: [] for key in lists}
    for row in db.session.execute(sa.select(rows).order_by(rows.c.list_key, rows.c.rank)):
        out[row.list_key].append(row)
    return out


def counting_instant(now: datetime) -> datetime:
    """The instant counts that depend on the time (overdue, due soon, quiet for days) are taken at: `now`
    to the LIST_COUNT_SECONDS below it, so that every page asking within those seconds asks the same
    statement and the count is remembered (a board refreshed by several reviewers counts once)."""
    seconds = current_app.config.get("LIST_COUNT_SECONDS", 0)
    if seconds <= 0:
        return now
    return now - timedelta(seconds=now.timestamp() % seconds)


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
    offset = (page_no - 1) * per_page
    fetched = load(rows_of(query, per_page + 1, offset))
    more = len(fetched) > per_page
    rows = fetched[:per_page]
    total = len(rows) if page_no == 1 and not more else capped_count(query)
    return rows, total, pages(total, per_page, page_no, more)
