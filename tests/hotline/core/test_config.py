"""Configuration is read from the environment and refused at start when it cannot work."""
import pytest

from hotline import create_app
from hotline.config import ConfigError, from_environment, validate


def test_production_needs_a_secret_postgresql_and_redis(monkeypatch):
    monkeypatch.setenv("HOTLINE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment()
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        validate(from_environment())
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/hotline")
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        validate(from_environment())
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    config = from_environment()
    validate(config)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/hotline"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("name, value, message", [
    ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
    ("HOTLINE_TIMEZONE", "Mars/Olympus", "HOTLINE_TIMEZONE"),
    ("SESSION_MINUTES", "eight hours", "SESSION_MINUTES"),
    ("REPORT_RATE_FLOOR", "90%", "REPORT_RATE_FLOOR"),
    ("REPORT_RATE_FLOOR", "90", "REPORT_RATE_FLOOR"),
    ("KNOWLEDGE_EXPIRY_NOTICE_DAYS", "400", "KNOWLEDGE_EXPIRY_NOTICE_DAYS"),
])
def test_bad_values_are_named(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_the_embedded_default_needs_no_server(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "HOTLINE_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = from_environment()
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["CELERY_BROKER_URL"].startswith("sqla+sqlite:///")
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
