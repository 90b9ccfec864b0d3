"""Configuration read from the environment, validated at start."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INSTANCE_DIR = Path(os.environ.get("HOTLINE_INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))


#: The SMS gateways (integrations/messaging's registry): a log file that sends nothing, Kannel, SMPP.
SMS_GATEWAYS = ("log", "kannel", "smpp")


class ConfigError(RuntimeError):
    """The environment describes a configuration that cannot work."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _switch(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in ("on", "true", "yes", "1"):
        return True
    if raw.lower() in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")


def _float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def from_environment() -> dict:
    """Build the Flask config mapping from environment variables."""
    database_url = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'hotline.sqlite'}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    production = _env("HOTLINE_ENV", "development") == "production"
    secret = _env("SECRET_KEY")
    if secret is None:
        if production:
            raise ConfigError("SECRET_KEY must be set in production (HOTLINE_ENV=production)")
        secret = _dev_secret()
    redis_url = _env("REDIS_URL")
    return {
        "SECRET_KEY": secret,
        "HOTLINE_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        #: PostgreSQL: statements a connection runs often are prepared and kept across requests
        #: (hotline/core/postgres.py); off for a pooler in transaction mode that cannot keep them.
        "DATABASE_PREPARE": _switch("DATABASE_PREPARE", True),
        #: PostgreSQL: parallel workers one step of a report's query may use (measures.report_reads); every
        #: other read (a page of a list, an order, the inbox) uses none.
        "DATABASE_REPORT_WORKERS": _int("DATABASE_REPORT_WORKERS", 2),
        # Celery: Redis in production, an embedded SQLite-backed broker otherwise.
        "CELERY_BROKER_URL": _env("CELERY_BROKER_URL", redis_url or f"sqla+sqlite:///{INSTANCE_DIR / 'broker.sqlite'}"),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", redis_url or "memory://"),
        #: Seconds a web process keeps a logged-in user or an API token's user between requests
        #: (hotline/core/recent.py): a user switched off or a token revoked elsewhere stops working
        #: within this time (at once in the process that made the change); 0 reads them every request.
        "RECENT_ROWS_SECONDS": _float("RECENT_ROWS_SECONDS", 5.0),
        "HOTLINE_TIMEZONE": _env("HOTLINE_TIMEZONE", "Asia/Shanghai"),
        "ATTACHMENT_DIR": _env("ATTACHMENT_DIR", str(INSTANCE_DIR / "attachments")),
        "ATTACHMENT_MAX_BYTES": _int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024),
        #: Call recordings (<date>/<sip call id>.wav), written by the telephony worker.
        "RECORDING_DIR": _env("RECORDING_DIR", str(INSTANCE_DIR / "recordings")),
        #: Recordings older than this are deleted by `hotline telephony purge-recordings`.
        "RECORDING_RETENTION_DAYS": _int("RECORDING_RETENTION_DAYS", 180),
        #: The SMS gateway: "log" writes messages to SMS_LOG_PATH and sends nothing (the embedded default).
        "SMS_GATEWAY": _env("SMS_GATEWAY", "log"),
        "SMS_LOG_PATH": _env("SMS_LOG_PATH", str(INSTANCE_DIR / "sms-outbox.log")),
        #: The gateway's settings: Kannel's sendsms URL and account, the sender number, and the address
        #: Kannel calls back with delivery reports (this application's /sms/kannel/dlr, reachable from Kannel).
        "SMS_SETTINGS": _sms_settings(_env("SMS_GATEWAY", "log")),
        #: Prefixed to every text message (China's SMS rules require the sender's signature).
        "SMS_SIGNATURE": _env("SMS_SIGNATURE", "【12345】"),
        #: The shared secret Kannel's get-url and dlr-url carry (?key=...); without it both answer 403.
        "SMS_GATEWAY_TOKEN": _env("SMS_GATEWAY_TOKEN"),
        #: A citizen's text adds to their open order if it was registered within this many days.
        "SMS_APPEND_DAYS": _int("SMS_APPEND_DAYS", 7),
        #: Hours a return-visit survey by SMS waits for its answer before the order goes back to
        #: the phone-visit list.
        "SMS_SURVEY_HOURS": _int("SMS_SURVEY_HOURS", 24),
        #: Voice notices (an urgent order at night rings the department's duty phone): "telephony" has the
        #: telephony worker place the call; empty: none are placed (the text messages still go).
        "VOICE_GATEWAY": _env("VOICE_GATEWAY", "telephony"),
        #: Tries before a message is failed and shown to the centre (workflows/delivery.py's pauses).
        "MESSAGE_MAX_ATTEMPTS": _int("MESSAGE_MAX_ATTEMPTS", 6),
        #: How long a worker may take to hand one message to its gateway; a message still being sent
        #: after that (its worker died) is failed for the centre to look at, never sent again blindly.
        "MESSAGE_LEASE_SECONDS": _int("MESSAGE_LEASE_SECONDS", 120),
        #: Ask a worker to deliver right after the commit that queued a message (else every 30 s).
        "MESSAGING_WAKE_AFTER_COMMIT": True,
        #: Seconds a list page's capped count (core/counts.py) is reused for the same statement and values
        #: (per web worker): paging through a list counts once. 0: every page counts.
        "LIST_COUNT_SECONDS": _float("LIST_COUNT_SECONDS", 10.0),
        #: The board lists orders a department signed for but has said nothing of (no progress note,
        #: no reply) for this many working days.
        "PROGRESS_QUIET_WORKING_DAYS": _int("PROGRESS_QUIET_WORKING_DAYS", 3),
        #: Departments whose on-time sign-for, on-time completion or satisfaction rate is under this
        #: share are marked in the reports (0.9: under 90 %).
        "REPORT_RATE_FLOOR": _float("REPORT_RATE_FLOOR", 0.9),
        #: Call statistics: a caller answered within this many seconds counts towards the service
        #: level; one who hangs up sooner than CALL_SHORT_ABANDON_SECONDS is a short abandon (left
        #: out of the abandon rate and the service level); an order answered directly is a repeat
        #: when its caller calls again within CALL_REPEAT_DAYS; the staffing forecast aims at
        #: CALL_SERVICE_LEVEL_TARGET (0.8: 80 % within the service level's seconds).
        "CALL_SERVICE_LEVEL_SECONDS": _int("CALL_SERVICE_LEVEL_SECONDS", 20),
        "CALL_SHORT_ABANDON_SECONDS": _int("CALL_SHORT_ABANDON_SECONDS", 5),
        "CALL_REPEAT_DAYS": _int("CALL_REPEAT_DAYS", 7),
        #: Knowledge base: a published article whose validity ends within this many days (or has
        #: ended) is notified, once per validity end, to its owner department's administrators.
        "KNOWLEDGE_EXPIRY_NOTICE_DAYS": _int("KNOWLEDGE_EXPIRY_NOTICE_DAYS", 30),
        "CALL_SERVICE_LEVEL_TARGET": _float("CALL_SERVICE_LEVEL_TARGET", 0.8),
        #: Similar orders (并单候选) are looked for among open orders of this many days.
        "SIMILAR_DAYS": _int("SIMILAR_DAYS", 30),
        #: Below this confidence the department suggestion puts the category's default department first.
        "SUGGEST_THRESHOLD": _float("SUGGEST_THRESHOLD", 0.5),
        #: Generated bulletins (通报), DOCX and PDF, kept for download: <id>/bulletin-<period>.<docx|pdf>.
        "BULLETIN_DIR": _env("BULLETIN_DIR", str(INSTANCE_DIR / "bulletins")),
        #: The issuer printed in red at the head of a bulletin (empty: "XX市12345政务服务便民热线").
        "BULLETIN_ISSUER": _env("BULLETIN_ISSUER", ""),
        #: A .ttf/.ttc font with Chinese glyphs for the bulletin's PDF and charts (empty: WenQuanYi Micro Hei
        #: or Noto Sans CJK where Debian installs them).
        "BULLETIN_FONT": _env("BULLETIN_FONT", ""),
        #: Live pages (the bell, lists that refresh themselves): "redis" publishes through Redis pub/sub to
        #: every web process; "local" within one process (the embedded default, one web process).
        "LIVE_BACKEND": _env("LIVE_BACKEND", "redis" if redis_url else "local"),
        "LIVE_REDIS_URL": _env("LIVE_REDIS_URL", redis_url),
        #: A live stream writes a heartbeat after this many quiet seconds (proxies close idle connections).
        "LIVE_HEARTBEAT_SECONDS": _int("LIVE_HEARTBEAT_SECONDS", 15),
        #: A live stream ends after this long and the browser opens a new one (sessions are checked again).
        "LIVE_STREAM_SECONDS": _int("LIVE_STREAM_SECONDS", 3600),
        #: "local": how often the web process looks for notices other processes (the Celery worker) wrote.
        "LIVE_POLL_SECONDS": _int("LIVE_POLL_SECONDS", 2),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=_int("SESSION_MINUTES", 480)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(minutes=_int("SESSION_MINUTES", 480)),
        "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", "10 per minute"),
        #: Attempts on one account from anywhere, against password guessing spread over many addresses.
        "LOGIN_ACCOUNT_RATE_LIMIT": _env("LOGIN_ACCOUNT_RATE_LIMIT", "30 per 15 minutes"),
        "PORTAL_SUBMIT_RATE_LIMIT": _env("PORTAL_SUBMIT_RATE_LIMIT", "5 per hour;20 per day"),
        "PORTAL_TRACK_RATE_LIMIT": _env("PORTAL_TRACK_RATE_LIMIT", "10 per minute"),
        #: Seconds a portal challenge question stays answerable.
        "PORTAL_CHALLENGE_TTL": _int("PORTAL_CHALLENGE_TTL", 1800),
        #: Reverse proxies in front of the app (X-Forwarded-For is trusted from that many hops).
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": _env("HOTLINE_TIMEZONE", "Asia/Shanghai"),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024) + 1024 * 1024,
        "JSON_SORT_KEYS": False,
    }


def _sms_settings(gateway: str) -> dict:
    """The SMS gateway's settings from SMS_KANNEL_* or SMS_SMPP_* (the sender number from SMS_SENDER)."""
    if gateway == "smpp":
        pairs = (("host", _env("SMS_SMPP_HOST")), ("port", _env("SMS_SMPP_PORT", "2775")),
                 ("system_id", _env("SMS_SMPP_SYSTEM_ID")), ("password", _env("SMS_SMPP_PASSWORD")),
                 ("system_type", _env("SMS_SMPP_SYSTEM_TYPE")))
    else:
        pairs = (("url", _env("SMS_KANNEL_URL")), ("username", _env("SMS_KANNEL_USERNAME")),
                 ("password", _env("SMS_KANNEL_PASSWORD")), ("dlr_url", _env("SMS_KANNEL_DLR_URL")))
    return {key: value for key, value in (*pairs, ("sender", _env("SMS_SENDER", "12345"))) if value}


def _dev_secret() -> str:
    """A per-installation secret for development, kept in the instance folder."""
    path = INSTANCE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        return key


def validate(config: dict) -> None:
    """Fail fast with a readable message when the configuration cannot work."""
    url = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(f"DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url!r}")
    try:
        ZoneInfo(config["HOTLINE_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"HOTLINE_TIMEZONE {config['HOTLINE_TIMEZONE']!r} is not a known time zone") from None
    retention = config.get("RECORDING_RETENTION_DAYS")
    if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= 36500:
        raise ConfigError(f"RECORDING_RETENTION_DAYS must be a number of days from 1 to 36500, got {retention!r}")
    if not str(config.get("RECORDING_DIR") or "").strip():
        raise ConfigError("RECORDING_DIR must name a directory for call recordings")
    from integrations import messaging
    if config.get("SMS_GATEWAY") not in SMS_GATEWAYS:
        raise ConfigError(f"SMS_GATEWAY must be one of {', '.join(SMS_GATEWAYS)}, got {config.get('SMS_GATEWAY')!r}")
    if config.get("SMS_GATEWAY") in ("kannel", "smpp"):
        try:
            messaging.build(config["SMS_GATEWAY"], config.get("SMS_SETTINGS") or {})
        except (LookupError, ValueError) as err:
            raise ConfigError(f"SMS_GATEWAY={config['SMS_GATEWAY']}: {err}") from None
    hours = config.get("SMS_SURVEY_HOURS")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 720:
        raise ConfigError(f"SMS_SURVEY_HOURS must be a number of hours from 1 to 720, got {hours!r}")
    if config.get("VOICE_GATEWAY") not in ("", "telephony"):
        raise ConfigError(f"VOICE_GATEWAY must be 'telephony' or empty, got {config.get('VOICE_GATEWAY')!r}")
    attempts = config.get("MESSAGE_MAX_ATTEMPTS")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 50:
        raise ConfigError(f"MESSAGE_MAX_ATTEMPTS must be a number from 1 to 50, got {attempts!r}")
    quiet = config.get("PROGRESS_QUIET_WORKING_DAYS")
    if not isinstance(quiet, int) or isinstance(quiet, bool) or not 1 <= quiet <= 60:
        raise ConfigError(f"PROGRESS_QUIET_WORKING_DAYS must be a number of working days from 1 to 60, got {quiet!r}")
    floor = config.get("REPORT_RATE_FLOOR")
    if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 <= floor <= 1:
        raise ConfigError(f"REPORT_RATE_FLOOR must be a share from 0 to 1 (0.9 for 90 %), got {floor!r}")
    for name, low, high in (("DATABASE_REPORT_WORKERS", 0, 64),
                            ("CALL_SERVICE_LEVEL_SECONDS", 1, 3600), ("CALL_SHORT_ABANDON_SECONDS", 0, 600),
                            ("CALL_REPEAT_DAYS", 1, 90), ("KNOWLEDGE_EXPIRY_NOTICE_DAYS", 0, 365)):
        value = config.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    target = config.get("CALL_SERVICE_LEVEL_TARGET")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target < 1:
        raise ConfigError(f"CALL_SERVICE_LEVEL_TARGET must be a share between 0 and 1 (0.8 for 80 %), got {target!r}")
    if config.get("LIVE_BACKEND") not in ("local", "redis"):
        raise ConfigError(f"LIVE_BACKEND must be 'local' or 'redis', got {config.get('LIVE_BACKEND')!r}")
    if config.get("LIVE_BACKEND") == "redis" and not config.get("LIVE_REDIS_URL"):
        raise ConfigError("LIVE_BACKEND=redis needs a Redis URL: set REDIS_URL (or LIVE_REDIS_URL)")
    if config.get("HOTLINE_ENV") == "production" and url.startswith("sqlite"):
        raise ConfigError("production (HOTLINE_ENV=production) needs PostgreSQL: set DATABASE_URL")
    if config.get("HOTLINE_ENV") == "production" and not config.get("REDIS_URL"):
        raise ConfigError("production (HOTLINE_ENV=production) needs Redis: set REDIS_URL")
