"""Centre supervision board."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("board", __name__, url_prefix="/board")
