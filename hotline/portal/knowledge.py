"""The portal's questions and answers: published public articles of the knowledge base, searchable."""
from __future__ import annotations

from flask import abort, render_template, request, url_for

from hotline.core.errors import Invalid
from hotline.core.fields import MAX_INT
from hotline.extensions import db, limiter
from hotline.knowledge import operations, permissions, queries
from hotline.knowledge.models import Article
from hotline.portal.blueprint import _track_limit, bp

PER_PAGE = 10


@bp.get("/answers")
@limiter.limit(_track_limit)
def answers():
    q = request.args.get("q", "")
    raw = request.args.get("page", "1")
    page = min(int(raw), 100) if raw.isdigit() and int(raw) > 0 else 1
    error, results = None, None
    try:
        results = queries.search(q, today=operations.today(), public_only=True, page=page, per_page=PER_PAGE)
    except Invalid as err:
        error = err
    pages = max(1, -(-results.total // PER_PAGE)) if results else 1
    return render_template("portal/answers.html", q=q, results=results, error=error, page=page, pages=pages,
                           page_url=lambda n: url_for("portal.answers", q=q, page=n)), 422 if error else 200


@bp.get("/answers/<int(max=2147483647):article_id>")
def answer(article_id: int):
    article = db.session.get(Article, article_id) if 0 < article_id <= MAX_INT else None
    if article is None or not permissions.citizens_see(article, operations.today()):
        abort(404)
    return render_template("portal/answer.html", article=article)
