"""The hotline work-order platform: create_app builds the Flask application."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_login import current_user

from hotline import config as config_module
from hotline.extensions import babel, csrf, db, limiter, login_manager, migrate

LOCALES = ("zh", "en")
#: The cookie that keeps an anonymous visitor's (a citizen's on the portal) language choice.
LANG_COOKIE = "lang"
ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    """The interface language: an explicit choice, else Chinese. A browser's preference is not a choice.

    In order: ?lang= (kept for this browser session), the signed-in user's saved language, the
    cookie an anonymous visitor's switch set. API clients alone (/api/, /open311/) ask with
    Accept-Language, which a program sends on purpose.
    """
    if not request:
        return "zh"
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LOCALES:
        return session["lang"]
    if request.path.startswith(("/api/", "/open311/")) and request.headers.get("Accept-Language"):
        return request.accept_languages.best_match(LOCALES, default="zh") or "zh"
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if request.cookies.get(LANG_COOKIE) in LOCALES:
        return request.cookies[LANG_COOKIE]
    return "zh"


def create_app(config: dict | None = None) -> Flask:
    """Build the application; no I/O beyond reading configuration."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(config_module.INSTANCE_DIR))
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    config_module.validate(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        # JIT off: PostgreSQL compiles a statement whose estimate passes jit_above_cost, which costs a page
        # 20 ms and more for a query that runs in 1 ms (a district's list at 100,000 orders did so)
        # No parallel workers: a page's read stops after its rows, and workers each ran ahead on their own share
        # and started late (a department's list of one category at 1,000,000 orders: 93 ms with, 19 without);
        # a report's transaction asks for them (reports.measures.report_reads)
        # DATABASE_PREPARE off: psycopg prepares nothing (hotline/core/postgres.py says why it usually does)
        connect = {"options": "-c jit=off -c max_parallel_workers_per_gather=0",
                   **({} if app.config["DATABASE_PREPARE"] else {"prepare_threshold": None})}
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10,
                                                            "max_overflow": 20, "connect_args": connect})

    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "hotline" / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "hotline" / "translations"))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)

    from hotline.core import sqlite as sqlite_tuning
    sqlite_tuning.install()
    if app.config["DATABASE_PREPARE"]:
        from hotline.core import postgres
        with app.app_context():
            postgres.install(db.engine)

    from hotline import models  # noqa: F401  (every model registered with the metadata)
    from hotline.api import admin as _api_admin  # noqa: F401  (routes on the API blueprint)
    from hotline.api import knowledge as _api_knowledge  # noqa: F401
    from hotline.api import messages as _api_messages  # noqa: F401
    from hotline.api import similar as _api_similar  # noqa: F401
    from hotline.api.blueprint import bp as api_bp
    from hotline.auth.blueprint import bp as auth_bp
    from hotline.home.blueprint import bp as home_bp
    from hotline.open311.blueprint import bp as open311_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(open311_bp)
    from hotline.admin.blueprint import bp as admin_bp
    from hotline.board.blueprint import bp as board_bp
    from hotline.desk.blueprint import bp as desk_bp
    from hotline.inbox.blueprint import bp as inbox_bp
    from hotline.knowledge.blueprint import bp as knowledge_bp
    from hotline.live.blueprint import bp as live_bp
    from hotline.messaging.blueprint import bp as messaging_bp
    from hotline.portal.blueprint import bp as portal_bp
    from hotline.reports.blueprint import bp as reports_bp
    from hotline.reports.bulletin_views import bp as bulletins_bp
    from hotline.similar.blueprint import bp as similar_bp
    from hotline.sms.blueprint import bp as sms_bp
    from hotline.telephony.admin import bp as telephony_admin_bp
    from hotline.telephony.blueprint import bp as telephony_bp
    from hotline.tickets.blueprint import bp as tickets_bp
    from hotline.todo.blueprint import bp as todo_bp
    for page_bp in (desk_bp, tickets_bp, board_bp, todo_bp, inbox_bp, portal_bp, admin_bp, telephony_bp,
                    telephony_admin_bp, messaging_bp, sms_bp, reports_bp, bulletins_bp, live_bp, knowledge_bp, similar_bp):
        app.register_blueprint(page_bp)
    from hotline.messaging.notices import install as install_notices
    install_notices(app)
    from hotline.live.events import install as install_live
    install_live(app)
    from hotline.telephony.voice import install as install_voice
    install_voice()

    from hotline.cli import register_commands
    register_commands(app)

    _install_server_timing(app)
    from hotline.web.assets import install as install_assets
    install_assets(app)
    _install_api_not_found(app)

    from hotline.web.pages import department_options, enum_options, nav_items

    @app.context_processor
    def _globals():
        from flask_babel import get_locale
        return {"current_locale": str(get_locale() or "zh"), "nav_items": nav_items,
                "enum_options": enum_options, "department_options": department_options}

    @app.template_filter("localtime")
    def _localtime(value):
        """A UTC datetime (or ISO text) as local "2026-11-22 09:30"."""
        from datetime import datetime

        from hotline.sla.service import format_local
        if not value:
            return ""
        return format_local(datetime.fromisoformat(value) if isinstance(value, str) else value)

    from hotline.core.files import human_size
    app.add_template_filter(human_size, "filesize")
    from hotline.core.counts import is_capped
    app.add_template_test(is_capped, "capped")

    @app.template_filter("counted")
    def _counted(title, count):
        """A heading or tab with its count: "待签收（3）" in Chinese (full-width), "To sign (3)" in English."""
        from flask_babel import pgettext
        return pgettext("heading with its count", "%(title)s (%(count)s)", title=title, count=count)

    return app


def _install_server_timing(app: Flask) -> None:
    """Every response says how long the application spent on it (Server-Timing: app;dur=ms)."""
    import time

    from flask import g

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _stop_timer(response):
        started = g.get("request_started")
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response


def _install_api_not_found(app: Flask) -> None:
    """Addresses under /api/ that match no route still answer in the API's error shape."""
    from flask_babel import gettext as _
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    def handler(err):
        if request.path.startswith("/api/"):
            from hotline.api.common import error_response
            if isinstance(err, MethodNotAllowed):
                return error_response(405, "method_not_allowed",
                                      _("This address does not accept %(method)s.", method=request.method))
            return error_response(404, "not_found", _("There is nothing at this address."))
        return err

    app.register_error_handler(NotFound, handler)
    app.register_error_handler(MethodNotAllowed, handler)
