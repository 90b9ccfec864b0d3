"""SQLite tuning for the embedded default: WAL, foreign keys, a busy timeout; SQL functions written in Python."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine

_installed = False
#: SQL functions every SQLite connection has (`define`): name -> (number of arguments, the Python function).
_functions: dict[str, tuple[int, Callable]] = {}


def define(name: str, arguments: int, function: Callable) -> None:
    """Give every SQLite connection opened from now on the SQL function `name` (defined at import, before the
    first connection: one opened earlier lacks it). PostgreSQL needs its own way of saying the same."""
    _functions[name] = (arguments, function)


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            for name, (arguments, function) in _functions.items():
                dbapi_connection.create_function(name, arguments, function, deterministic=True)
