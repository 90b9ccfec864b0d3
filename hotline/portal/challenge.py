"""A small arithmetic question against automated submissions, with no outside service.

The form carries a signed, expiring token: a random nonce and an HMAC of the answer (so
the answer cannot be read from the page). Each token is accepted once; a form that failed
on other fields comes back with a "passed" token so the citizen is not asked again.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hotline.extensions import limiter

SALT = "portal-challenge"
#: Seconds a question stays valid.
DEFAULT_TTL = 30 * 60


@dataclass
class Challenge:
    token: str
    question: str | None  # None: already passed, nothing to ask


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _ttl() -> int:
    return int(current_app.config.get("PORTAL_CHALLENGE_TTL", DEFAULT_TTL))


def _digest(nonce: str, answer: int) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"{SALT}:{nonce}:{answer}".encode(), hashlib.sha256).hexdigest()[:32]


def new_challenge() -> Challenge:
    """A fresh question, e.g. "7 + 5" (asked as "7 + 5 = ?")."""
    rng = secrets.SystemRandom()
    a, b = rng.randint(2, 9), rng.randint(1, 9)
    if rng.random() < 0.5 and a > b:
        question, answer = f"{a} − {b}", a - b
    else:
        question, answer = f"{a} + {b}", a + b
    nonce = secrets.token_hex(8)
    return Challenge(_serializer().dumps({"n": nonce, "d": _digest(nonce, answer)}), question)


def passed_challenge() -> Challenge:
    """A token saying the citizen has answered correctly (for a form sent back for other fixes)."""
    return Challenge(_serializer().dumps({"n": secrets.token_hex(8), "ok": 1}), None)


def _first_use(nonce: str) -> bool:
    """True the first time a nonce is seen; a replayed token is refused."""
    try:
        return limiter.storage.incr(f"{SALT}:{nonce}", _ttl()) == 1
    except Exception:  # the limiter's storage is down: the rate limit still bounds replays
        return True


def verify(token: str | None, answer: str | None) -> str | None:
    """None when the answer is right; otherwise what to tell the citizen."""
    if not token:
        return _("Answer the security question.")
    try:
        payload = _serializer().loads(token, max_age=_ttl())
    except SignatureExpired:
        return _("The question has expired; answer the new one.")
    except BadSignature:
        return _("Answer the security question.")
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        return _("Answer the security question.")
    if not _first_use(payload["n"]):
        return _("This question has already been used; answer the new one.")
    if payload.get("ok") == 1:
        return None
    text = (answer or "").strip()
    if not text:
        return _("Answer the security question.")
    try:
        number = int(text)
    except ValueError:
        return _("Enter the answer as a number, e.g. 12.")
    if not hmac.compare_digest(_digest(payload["n"], number), str(payload.get("d", ""))):
        return _("That answer is not right; try the new question.")
    return None
