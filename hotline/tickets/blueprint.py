"""Work-order pages: the list with filters, and one order with its timeline and actions."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
