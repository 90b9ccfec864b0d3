"""Lookups by key are prepared and stay prepared from one request to the next, as a transaction that only
read ends with COMMIT (hotline/core/postgres.py); other statements are never prepared; a transaction
that wrote is still rolled back, so nothing half-done is kept."""
import pytest
import sqlalchemy as sa

from hotline import create_app
from hotline.config import ConfigError
from hotline.core.postgres import prepared, reads_only
from hotline.departments.models import Department
from hotline.extensions import db
from workflows.vocabulary import DepartmentLevel


def _prepared(conn) -> list[str]:
    return list(conn.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars())


def test_an_orders_lookup_stays_prepared_across_requests(app, api, new_ticket):
    number = new_ticket()
    pooled = lambda: db.engine.pool.checkedin()  # noqa: E731
    # every pooled connection serves the lookup more often than psycopg's threshold (5) before it prepares
    for _ in range(max(24, 8 * (pooled() + 1))):
        resp = api("reviewer").get(f"/tickets/{number}")
        assert resp.status_code == 200
        assert resp.get_json()["number"] == number
    if app.config["BACKEND"] != "postgresql":
        return  # SQLite: the same answers, nothing to prepare
    conns = [db.engine.connect() for _ in range(pooled())]
    try:
        held = [s for conn in conns for s in _prepared(conn)]
    finally:
        for conn in conns:
            conn.close()
    assert any("FROM tickets" in s and "tickets.number = $1" in s for s in held), held


def test_a_connection_that_only_read_keeps_its_prepared_statements(app, db_session):
    lookup = prepared(sa.select(Department.id).where(Department.code == "X"))
    if app.config["BACKEND"] != "postgresql":
        assert db.session.execute(lookup).all() == []
        return
    with db.engine.connect() as conn:
        for _ in range(3):
            conn.execute(lookup)
            conn.rollback()  # what the end of a request that only read does
        assert any("FROM departments" in s and "departments.code = $1" in s for s in _prepared(conn))


def test_statements_not_marked_are_never_prepared(app, db_session):
    """A list's count, say: prepared, PostgreSQL may plan it once for every status, and lose the partial
    index the status picks."""
    if app.config["BACKEND"] != "postgresql":
        return
    with db.engine.connect() as conn:
        for _ in range(10):
            conn.execute(sa.select(sa.func.count()).select_from(Department).where(Department.level == "street"))
        assert not any("departments.level = $1" in s for s in _prepared(conn))


def test_a_write_rolled_back_is_undone_and_reads_go_on(app, db_session):
    with db.engine.connect() as conn:
        for _ in range(6):
            conn.execute(sa.select(Department.id).where(Department.code == "GONE"))
            conn.rollback()
        conn.execute(sa.insert(Department).values(code="GONE", name="撤销的部门", level=DepartmentLevel.CITY,
                                                  path="/x/"))
        conn.rollback()
        assert conn.execute(sa.select(sa.func.count()).where(Department.code == "GONE")).scalar() == 0
        # a statement that failed: the transaction is rolled back and the connection goes on
        with pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.text("SELECT * FROM no_such_table"))
        conn.rollback()
        assert conn.execute(sa.select(sa.func.count()).select_from(Department)).scalar() == 0
    # and the session of a request: flushed, then rolled back
    db.session.add(Department(code="HALF", name="半途", level=DepartmentLevel.CITY))
    db.session.flush()
    db.session.rollback()
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(Department.code == "HALF")).scalar() == 0


def test_what_counts_as_a_write():
    assert reads_only("SELECT tickets.id, tickets.merged_into_id FROM tickets WHERE tickets.number = %(n)s")
    assert reads_only("\n  (SELECT a FROM t LIMIT 5) UNION ALL (SELECT b FROM u LIMIT 5)")
    assert reads_only("select count(*) from tickets")
    for statement in ("INSERT INTO tickets (number) VALUES (%(n)s)", "UPDATE tickets SET status = 'closed'",
                      "DELETE FROM tickets", "SELECT * INTO copy FROM tickets", "SET LOCAL jit = off",
                      "SAVEPOINT sa_1", "WITH gone AS (DELETE FROM t RETURNING id) SELECT count(*) FROM gone",
                      "TRUNCATE tickets", "/* comment */ SELECT 1"):
        assert not reads_only(statement), statement


def test_prepared_statements_can_be_turned_off(app, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_PREPARE", "sometimes")
    with pytest.raises(ConfigError, match="DATABASE_PREPARE"):
        create_app()
    if app.config["BACKEND"] != "postgresql":
        return
    monkeypatch.setenv("DATABASE_PREPARE", "off")
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SECRET_KEY": "test-secret"})
    try:
        with other.app_context():
            try:
                with db.engine.connect() as conn:
                    for _ in range(8):
                        conn.execute(prepared(sa.select(Department.id).where(Department.code == "X")))
                    assert _prepared(conn) == []
            finally:
                db.engine.dispose()
    finally:
        # creating an app makes its Celery app the current one: tasks later tests call would run
        # in `other`'s context, on its engine, and leave its connections to the garbage collector
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()
