"""PostgreSQL: statements that look rows up by key are prepared, and stay prepared from one request
to the next.

A statement psycopg prepares is parsed once, and where PostgreSQL finds a generic plan no dearer than a
fresh one, planned once too. For the lookups every page and call makes that is most of their cost: an
order by its number, with the citizen, category and department it is read with, took 1.6 ms on a
connection and 0.6 ms prepared; a caller's orders by phone 1.9 -> 0.5 ms.

Only statements marked `prepared(...)` are: a lookup by key, whose plan cannot depend on the values.
Left to itself, psycopg prepares whatever a connection has run five times, and PostgreSQL then chose
generic plans for the lists' and board's counts that cannot use the partial indexes their status values
pick (the board's count: 8 -> 50 ms). So every other statement runs unprepared, as before.

psycopg forgets every prepared statement on ROLLBACK (the transaction may have made objects a statement
names), and SQLAlchemy ends every transaction it does not commit with a rollback: each request that only
read, and each connection handed back to the pool. A transaction that wrote nothing has nothing to undo:
COMMIT and ROLLBACK leave the database the same and release its locks alike, so such a transaction now
ends with COMMIT. One that wrote, or failed, is rolled back as before. "Wrote" is judged from every
statement SQLAlchemy sends on the connection (all go through the dialect's do_execute, do_executemany
and do_execute_no_params, replaced here, so no engine event is added to every statement's path): any
that is not a SELECT (INSERT, UPDATE, DELETE, DDL, SET, SAVEPOINT, a WITH that may hold a write), or a
SELECT ... INTO, marks the transaction; the code sends nothing to PostgreSQL past SQLAlchemy.

`DATABASE_PREPARE=off` prepares nothing (`prepare_threshold=None`), for a connection pooler in
transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
"""
from __future__ import annotations

import re
import weakref
from functools import lru_cache
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.sql import Executable

#: A statement that certainly only reads: a SELECT (possibly parenthesised, as a UNION's first part).
_READS = re.compile(r"\s*\(*\s*select\b", re.I)
#: ... unless it writes its rows into a new table.
_INTO = re.compile(r"\binto\b", re.I)

_INTRANS = 2  # psycopg.pq.TransactionStatus.INTRANS: in a transaction, no error

#: The execution option that marks a statement to be prepared.
PREPARE = "hotline_prepare"

S = TypeVar("S", bound=Executable)


def prepared(statement: S) -> S:
    """`statement`, to be prepared on each connection that runs it (a lookup by key: see the module)."""
    return statement.execution_options(**{PREPARE: True})


@lru_cache(maxsize=512)  # SQLAlchemy's compiled statements (its own cache holds 500); bounded, so RSS stays flat
def reads_only(statement: str) -> bool:
    """True when `statement` cannot change the database (a plain SELECT)."""
    return bool(_READS.match(statement)) and not _INTO.search(statement)


def install(engine: Engine) -> None:
    """Prepare `engine`'s marked statements, and end its read-only transactions with COMMIT (a psycopg
    engine; others are left alone)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    import psycopg

    wrote: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # psycopg connection -> True

    def driver(connection):
        return getattr(connection, "driver_connection", connection)

    dialect = engine.dialect
    rollback, commit = dialect.do_rollback, dialect.do_commit

    def do_execute(cursor, statement, parameters, context=None) -> None:
        if not reads_only(statement):
            wrote[cursor.connection] = True
        if isinstance(cursor, psycopg.ServerCursor):  # streamed results: psycopg prepares none of those
            cursor.execute(statement, parameters)
            return
        # prepare=False: never by psycopg's own count (prepare_threshold), only when marked
        cursor.execute(statement, parameters,
                       prepare=bool(context is not None and context.execution_options.get(PREPARE)))

    def do_executemany(cursor, statement, parameters, context=None) -> None:
        wrote[cursor.connection] = True   # many rows at once: an INSERT, UPDATE or DELETE
        cursor.executemany(statement, parameters)

    def do_execute_no_params(cursor, statement, context=None) -> None:
        if not reads_only(statement):
            wrote[cursor.connection] = True
        cursor.execute(statement)

    def do_rollback(dbapi_connection) -> None:
        raw = driver(dbapi_connection)
        if wrote.pop(raw, False) or raw.info.transaction_status != _INTRANS:
            rollback(dbapi_connection)
        else:
            raw.commit()  # nothing to undo: the same as a rollback, and psycopg keeps its prepared statements

    def do_commit(dbapi_connection) -> None:
        wrote.pop(driver(dbapi_connection), None)
        commit(dbapi_connection)

    # the engine's own dialect object: its connections execute through it, and they and the pool
    # (which resets a returned connection) end transactions through it
    dialect.do_execute = do_execute
    dialect.do_executemany = do_executemany
    dialect.do_execute_no_params = do_execute_no_params
    dialect.do_rollback = do_rollback
    dialect.do_commit = do_commit
