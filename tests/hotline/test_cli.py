"""The `hotline` command: users, tokens, calendar, seed, migrations."""
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.tickets.models import Assignment, Ticket
from workflows.states import TicketStatus


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_users_create_and_token(app, world):
    result = run(app, "users", "create", "wang", "--role", "department_handler",
                 "--department", str(world.dept("cgj").id), "--password", "s3cret-pass")
    assert result.exit_code == 0, result.output
    assert "created user wang" in result.output
    token = run(app, "users", "token", "wang").output.strip()
    resp = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.get_json()["role"] == "department_handler"
    assert resp.get_json()["department"]["id"] == world.dept("cgj").id


def test_users_create_explains_every_mistake(app, world):
    result = run(app, "users", "create", "reviewer", "--role", "chief", "--password", "short")
    assert result.exit_code == 1
    assert "role" in result.output and "password" in result.output and "username" in result.output
    result = run(app, "users", "create", "li", "--role", "department_handler", "--password", "long-enough")
    assert result.exit_code == 1 and "department" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.username == "li")) == 0


def test_token_for_unknown_user(app, world):
    result = run(app, "users", "token", "nobody")
    assert result.exit_code == 1 and "nobody" in result.output


def test_seed_builds_a_city_with_orders_in_every_state(app, db_session):
    result = run(app, "seed", "--orders", "400")
    assert result.exit_code == 0, result.output
    assert "password hotline12345" in result.output
    statuses = set(db.session.scalars(sa.select(Ticket.status).distinct()))
    assert statuses == set(TicketStatus), f"missing: {set(TicketStatus) - statuses}"
    users = {u.username: u.role.value for u in db.session.scalars(sa.select(User))}
    for name in ("calltaker", "expert", "supervisor", "reviewer", "handler", "deptadmin", "manager", "admin"):
        assert name in users
    again = run(app, "seed", "--if-empty")
    assert again.exit_code == 0 and "already present" in again.output


def test_migrations_downgrade_and_upgrade(app, db_session):
    from flask_migrate import downgrade, upgrade
    db.session.remove()
    downgrade(revision="base")
    assert "tickets" not in sa.inspect(db.engine).get_table_names()
    upgrade()
    assert "tickets" in sa.inspect(db.engine).get_table_names()


def test_a_database_holding_orders_goes_down_and_up_through_the_migrations_that_copy_tables(app, db_session):
    """SQLite changes a column by copying its table (migrations 0031 and later copy `assignments`, which replies,
    events and extension requests point at): a database holding orders of every kind comes back up from before
    them with every row, each assignment carrying its order's registration instant and status again, and its
    foreign keys enforced afterwards as before."""
    from flask_migrate import downgrade, upgrade
    result = run(app, "seed", "--orders", "150")
    assert result.exit_code == 0, result.output
    names = sorted(set(sa.inspect(db.engine).get_table_names()) & {
        "tickets", "assignments", "ticket_events", "replies", "extension_requests", "return_visits", "citizens"})
    assert {"tickets", "assignments", "ticket_events", "replies"} <= set(names)

    def rows():
        return {name: db.session.scalar(sa.text(f"SELECT count(*) FROM {name}")) for name in names}
    before = rows()
    assert before["assignments"] > 0 and before["replies"] > 0
    db.session.remove()
    downgrade(revision="0030")
    assert "ticket_created_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("assignments")}
    upgrade()
    db.session.remove()
    assert rows() == before
    copied = db.session.execute(sa.select(sa.func.count()).select_from(Assignment).join(Ticket).where(
        Assignment.ticket_created_at == Ticket.created_at, Assignment.ticket_status == Ticket.status)).scalar()
    assert copied == before["assignments"]
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        with db.engine.connect() as conn:          # every pooled connection, not only the session's
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_migration_fills_in_when_each_order_entered_its_status_from_its_trail(app, world, api, new_ticket, clock):
    """Orders registered before migration 0027 get the instant of the trail's newest step into their
    status: the same instant the write path now keeps (the to-do queue's "waiting since")."""
    from flask_migrate import downgrade, upgrade
    waiting = new_ticket()
    clock.advance(hours=2)
    assert api("call_taker").action(waiting, "answer", {"reply": "已直接答复"}).status_code == 200
    clock.advance(hours=1)
    fresh = new_ticket()
    db.session.remove()
    kept = dict(db.session.execute(sa.select(Ticket.number, Ticket.status_changed_at)).all())
    assert kept[waiting] is not None and kept[fresh] is not None and kept[waiting] < kept[fresh]
    db.session.remove()
    downgrade(revision="0024")
    assert "status_changed_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("tickets")}
    upgrade()
    db.session.remove()
    assert dict(db.session.execute(sa.select(Ticket.number, Ticket.status_changed_at)).all()) == kept


def test_orders_loaded_without_a_trail_wait_since_their_last_change_after_migration_0029(app, world, new_ticket):
    """An order loaded in bulk (no step into its status on its trail) has no "waiting since": migration
    0029 gives it its last change, so that the to-do reads the instant alone, in its index's order."""
    from flask_migrate import downgrade, upgrade
    bulk, kept = new_ticket(), new_ticket()
    db.session.execute(sa.update(Ticket).where(Ticket.number == bulk).values(status_changed_at=None))
    db.session.commit()
    before = dict(db.session.execute(sa.select(Ticket.number, Ticket.status_changed_at)).all())
    updated = db.session.scalar(sa.select(Ticket.updated_at).where(Ticket.number == bulk))
    db.session.remove()
    downgrade(revision="0027")
    upgrade()
    db.session.remove()
    after = dict(db.session.execute(sa.select(Ticket.number, Ticket.status_changed_at)).all())
    assert after[bulk] == updated and after[kept] == before[kept]


def _described_by_the_models(obj, name, type_, reflected, compare_to) -> bool:
    """What the models describe: not the full-text indexes the migrations keep beside them (SQLite's
    FTS5 tables and their shadow tables, PostgreSQL's generated search_vector columns and their indexes)."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "table":
        return "_fts" not in name
    if type_ == "column":
        return name != "search_vector"
    if type_ == "index":
        return not name.endswith("_search_vector")
    return True


def test_the_migrations_build_the_schema_the_models_describe(app, db_session):
    """Tables, columns (with their types), indexes, unique and foreign keys as the real migrations
    built them on the test run's fresh database, against the models' metadata."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    import hotline.models  # noqa: F401  (every model in the metadata)
    db.session.remove()
    upgrade()                                   # at the head already: the app fixture ran them on an empty database
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": _described_by_the_models})
        drift = compare_metadata(context, db.metadata)
    assert drift == [], "the migrations and the models disagree:\n" + "\n".join(map(repr, drift))


def test_calendar_set_changes_deadlines(app, world, api, new_ticket, clock):
    from datetime import datetime

    from tests.conftest import TZ
    # 2026-06-16 (Tuesday) becomes a holiday: a complaint dispatched Monday 10:00 loses a day
    result = run(app, "calendar", "set", "2026-06-16", "--holiday", "--note", "临时调整")
    assert result.exit_code == 0, result.output
    number = new_ticket()
    body = api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).get_json()
    lead = body["assignments"][0]
    assert datetime.fromisoformat(lead["sign_due_at"]) == datetime(2026, 6, 17, 10, 0, tzinfo=TZ)
    assert run(app, "calendar", "set", "2031-01-01", "--workday").exit_code == 1
    assert run(app, "calendar", "set", "not-a-date", "--workday").exit_code == 1
