"""Shared fixtures: the app on SQLite and on PostgreSQL, a small city, users per role, a clock.

Every test that uses `app` (directly or through `world`, `api` ...) runs once per database
backend in HOTLINE_TEST_DATABASES (default: sqlite,postgresql). PostgreSQL comes from
scripts/test (HOTLINE_TEST_POSTGRES_URL); if it is missing or down, those tests fail and
say why: they are never skipped.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import g

os.environ.setdefault("HOTLINE_INSTANCE_DIR", tempfile.mkdtemp(prefix="hotline-test-instance-"))

from hotline import create_app  # noqa: E402
from hotline.core import recent  # noqa: E402
from hotline.core import base as core_base  # noqa: E402
from hotline.extensions import db  # noqa: E402

BACKENDS = [b.strip() for b in os.environ.get("HOTLINE_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
TZ = ZoneInfo("Asia/Shanghai")
#: Tests run on a fixed clock: a Monday morning in a year the calendar knows.
DEFAULT_NOW = datetime(2026, 6, 15, 10, 0, tzinfo=TZ)


def _database_url(backend: str, tmp_root: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_root / 'test.sqlite'}"
    if backend == "postgresql":
        url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
        if not url:
            pytest.fail("PostgreSQL is not available: HOTLINE_TEST_POSTGRES_URL is unset. "
                        "Run the suite through scripts/test, which starts PostgreSQL on 127.0.0.1.", pytrace=False)
        admin_url = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        # a database of this run's own, so parallel runs never trample each other
        name = f"hotline_test_{os.getpid()}"
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
        except Exception as err:
            pytest.fail(f"PostgreSQL at {admin_url.render_as_string(hide_password=True)} cannot be used: {err}. "
                        f"scripts/services start says why it did not start.", pytrace=False)
        finally:
            engine.dispose()
        return admin_url.set(database=name).render_as_string(hide_password=False)
    pytest.fail(f"unknown test database backend {backend!r} in HOTLINE_TEST_DATABASES", pytrace=False)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on one database backend, schema built by the real migrations."""
    root = tmp_path_factory.mktemp(request.param)
    url = _database_url(request.param, root)
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "ATTACHMENT_DIR": str(root / "attachments"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SECRET_KEY": "test-secret",
        "SMS_LOG_PATH": str(root / "sms-outbox.log"),
        # tests deliver explicitly (deliver_due) so that what is sent, and when, is theirs to say
        "MESSAGING_WAKE_AFTER_COMMIT": False,
        # tests read their counts right after changing orders; tests/hotline/tickets_pages turns this on
        "LIST_COUNT_SECONDS": 0,
    })
    application.config["BACKEND"] = request.param

    @application.teardown_request
    def _fresh_context_per_request(_exc):
        # Tests hold an app context open, so requests would share one session and one `g`;
        # give each request its own, as in production.
        db.session.remove()
        for key in list(vars(g)):
            g.pop(key, None)

    with application.app_context():
        from flask_migrate import upgrade
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        admin_url = sa.make_url(os.environ["HOTLINE_TEST_POSTGRES_URL"].replace(
            "postgresql://", "postgresql+psycopg://", 1))
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {sa.make_url(url).database} WITH (FORCE)"))
        engine.dispose()


@pytest.fixture
def clock():
    """Freeze time at DEFAULT_NOW; tests move it with clock.set(...) / clock.advance(...)."""
    class Clock:
        def set(self, value: datetime) -> datetime:
            core_base.frozen_now = value.astimezone(core_base.timezone.utc)
            return value

        def advance(self, **delta) -> datetime:
            from datetime import timedelta
            core_base.frozen_now = core_base.frozen_now + timedelta(**delta)
            return core_base.frozen_now

        @property
        def now(self) -> datetime:
            return core_base.frozen_now

    c = Clock()
    c.set(DEFAULT_NOW)
    yield c
    core_base.frozen_now = None


def _empty_database() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()
    from hotline.sla import service
    service._cache.update(key=None, calendar=None)
    recent.forget_all()


@pytest.fixture
def db_session(app, clock):
    """An application context on an empty database."""
    with app.app_context():
        _empty_database()
        yield db.session
        db.session.rollback()
    from hotline.extensions import limiter
    limiter.reset()


@dataclass
class World:
    """A small city: departments by key, a user and API token per role, categories."""

    depts: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)

    def dept(self, key):
        return self.depts[key]


ROLE_USERS = {
    # key: (role, department key)
    "call_taker": ("call_taker", None),
    "expert": ("expert", None),
    "supervisor": ("supervisor", None),
    "reviewer": ("centre_reviewer", None),
    "manager": ("manager", None),
    "admin": ("admin", None),
    "handler": ("department_handler", "cgj"),          # city management bureau
    "cgj_admin": ("department_admin", "cgj"),
    "handler_b": ("department_handler", "scj"),        # market regulation: another department
    "district_admin": ("department_admin", "dc"),      # a district with streets below it
    "district_handler": ("department_handler", "dc"),
    "street_handler": ("department_handler", "dc_s1"),
    "street_admin": ("department_admin", "dc_s1"),
    "community_handler": ("department_handler", "dc_s1_c1"),
    "other_street_handler": ("department_handler", "dc_s2"),
}


@pytest.fixture
def world(db_session) -> World:
    """Calendar 2025–2026, default SLA policies, departments, categories, users and tokens."""
    from hotline.auth.operations import create_user, issue_token
    from hotline.categories.models import Category
    from hotline.departments.models import Department
    from hotline.sla import operations as sla_operations
    from workflows.vocabulary import DepartmentLevel, Urgency

    w = World()
    for year in (2025, 2026):
        sla_operations.import_year(year)
    sla_operations.install_default_policies()

    def dept(key, name, level, parent=None, utility=False):
        d = Department(code=key.upper(), name=name, level=level, parent=w.depts.get(parent), is_utility=utility)
        db.session.add(d)
        db.session.flush()
        d.path = (w.depts[parent].path if parent else "/") + f"{d.id}/"
        w.depts[key] = d

    dept("city", "市政府", DepartmentLevel.CITY)
    dept("cgj", "城市管理局", DepartmentLevel.CITY, "city")
    dept("scj", "市场监督管理局", DepartmentLevel.CITY, "city")
    dept("water", "水务集团", DepartmentLevel.CITY, "city", utility=True)
    dept("dc", "东城区", DepartmentLevel.DISTRICT, "city")
    dept("dc_s1", "幸福路街道", DepartmentLevel.STREET, "dc")
    dept("dc_s1_c1", "幸福里社区", DepartmentLevel.COMMUNITY, "dc_s1")
    dept("dc_s2", "和平街道", DepartmentLevel.STREET, "dc")
    for code, name, dkey, urgency, parent in (
            ("10", "城市管理", "cgj", None, None), ("1001", "占道经营", "cgj", None, "10"),
            ("04", "市场监管", "scj", None, None), ("0401", "食品安全", "scj", None, "04"),
            ("09", "水电气热", "water", Urgency.UTILITIES, None), ("0901", "停水", "water", Urgency.UTILITIES, "09"),
            ("0903", "燃气泄漏", "water", Urgency.URGENT, "09")):
        c = Category(code=code, name=name, default_department_id=w.depts[dkey].id, default_urgency=urgency,
                     parent_id=w.categories[parent].id if parent else None)
        db.session.add(c)
        db.session.flush()
        w.categories[code] = c
    for key, (role, dkey) in ROLE_USERS.items():
        user = create_user(key, role, "password-123", display_name=key,
                           department_id=w.depts[dkey].id if dkey else None)
        w.users[key] = user
        w.tokens[key] = issue_token(user)
    db.session.commit()
    for obj in [*w.depts.values(), *w.users.values(), *w.categories.values()]:
        db.session.refresh(obj)
    db.session.expunge_all()  # detached but loaded: readable whatever later requests commit
    return w


class ApiClient:
    """Calls /api/v1 as one user, with their bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, extra=None):
        headers = {"Accept-Language": "en"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def get(self, path, **kw):
        return self.client.get(f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path, json=None, **kw):
        return self.client.put(f"/api/v1{path}", json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def action(self, number, action, json=None, **kw):
        return self.post(f"/tickets/{number}/{action}", json=json or {}, **kw)


@pytest.fixture
def api(app, world):
    """api("reviewer") -> an ApiClient acting as that user of the world."""
    client = app.test_client()

    def as_user(key: str | None) -> ApiClient:
        return ApiClient(client, world.tokens[key] if key else None)

    return as_user


SAMPLE_TICKET = {
    "type": "complaint", "channel": "phone", "subject": "幸福路占道经营",
    "content": "幸福路口每天早上有摊贩占道经营，影响通行。", "category": "1001",
    "citizen": {"name": "张三", "phone": "13812345678"}, "address": "东城区幸福路12号",
}


@pytest.fixture
def new_ticket(api):
    """Register an order through the API and return its number."""
    def make(**overrides) -> str:
        body = {**SAMPLE_TICKET, **overrides}
        resp = api("call_taker").post("/tickets", json=body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["number"]
    return make


@pytest.fixture
def signed(api, world, new_ticket):
    """An order dispatched to the city management bureau (cgj) and signed for by its handler; returns the number."""
    def make(**overrides) -> str:
        number = new_ticket(**overrides)
        assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
        assert api("handler").action(number, "sign").status_code == 200
        return number
    return make
