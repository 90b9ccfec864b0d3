"""After login: straight to the user's main workspace."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template
from flask_login import current_user, login_required

from hotline.web.pages import nav_items

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    items = nav_items(current_user)
    if items:
        return redirect(items[0]["href"])
    return render_template("home/index.html", user=current_user)
