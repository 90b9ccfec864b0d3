"""The portal's questions and answers: published public articles of the knowledge base, searchable."""
from __future__ import annotations

from flask import abort, render_template, request, url_for

from hotline.core import files
from hotline.core.errors import Invalid, NotFound
from hotline.core.fields import MAX_INT
from hotline.extensions import db, limiter
from hotline.knowledge import operations, permissions, queries
from hotline.knowledge.models import Article, KnowledgeAttachment
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


def _public_article(article_id: int) -> Article:
    article = db.session.get(Article, article_id) if 0 < article_id <= MAX_INT else None
    if article is None or not permissions.citizens_see(article, operations.today()):
        abort(404)
    return article


@bp.get("/answers/<int(max=2147483647):article_id>")
def answer(article_id: int):
    return render_template("portal/answer.html", article=_public_article(article_id))


@bp.get("/answers/<int(max=2147483647):article_id>/files/<int(max=2147483647):file_id>")
@limiter.limit(permissions.public_rate_limit)
def answer_file(article_id: int, file_id: int):
    """A file of a published public article in force, for anyone."""
    article = _public_article(article_id)
    row = db.session.get(KnowledgeAttachment, file_id)
    if row is None or row.article_id != article.id:
        abort(404)
    try:
        return files.download(row.sha256, row.filename, row.content_type)
    except NotFound:
        abort(404)
