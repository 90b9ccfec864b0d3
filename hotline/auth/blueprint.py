"""Logging in and out of the web interface."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from hotline.auth.models import User
from hotline.auth.operations import authenticate, session_user, set_language
from hotline.extensions import limiter, login_manager
from hotline.web.pages import run_operation

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    user = session_user(uid)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=lambda: "account:" + (request.form.get("username") or "").strip().lower())
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        if not username or not password:
            error = _("Enter your user name and password.")
        else:
            user = authenticate(username, password)
            if user is None:
                error = _("The user name or password is wrong.")
            else:
                session.permanent = True
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language: saved on a signed-in user, in a cookie for an anonymous visitor."""
    from hotline import LANG_COOKIE, LOCALES
    chosen = request.form.get("language", "")
    target = _safe_next(request.form.get("next"))
    if chosen not in LOCALES:
        return redirect(target)
    session.pop("lang", None)
    if current_user.is_authenticated and not current_user.is_service_account:
        _user, error = run_operation(set_language, current_user._get_current_object(),
                                     current_user._get_current_object(), chosen)
        if error is not None:
            flash(error.message)
    response = redirect(target)
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=request.is_secure, httponly=True)
    return response
