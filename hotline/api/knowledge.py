"""The knowledge base over the API: search (citizens' scripts see public articles without a token),
read, write and review articles (administrators and the owning departments)."""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _

from hotline.api.blueprint import bp
from hotline.api.common import api_user, json_body, pagination, writes
from hotline.core import files
from hotline.core.errors import NotFound
from hotline.extensions import db, limiter
from hotline.knowledge import operations, permissions, queries, schemas
from hotline.knowledge.models import KnowledgeAttachment
from hotline.tickets.operations import get_visible_ticket


def _readable(article_id: int, user):
    """The article if the caller may read it; 404 otherwise (what one may not see does not exist)."""
    article = operations.get_article(article_id)
    today = operations.today()
    if user is None:
        if not permissions.citizens_see(article, today):
            raise NotFound(_("There is no such article."))
    elif not permissions.can_view(user, article, today):
        raise NotFound(_("There is no such article."))
    return article


@bp.get("/knowledge")
@limiter.limit(permissions.public_rate_limit, exempt_when=lambda: g.get("api_user") is not None)
def knowledge_search():
    """Articles in force answering `q`, best first, each with a snippet (<mark> around the words found)."""
    user = g.get("api_user")
    page, per_page = pagination()
    results = queries.search(request.args.get("q"), today=operations.today(), public_only=user is None,
                             page=page, per_page=per_page)
    return jsonify({"query": results.query, "words": results.words, "synonyms_added": results.added,
                    "items": [schemas.hit_json(h) for h in results.hits], "page": page, "per_page": per_page,
                    "total": results.total})


@bp.get("/knowledge/<int(max=2147483647):article_id>")
@limiter.limit(permissions.public_rate_limit, exempt_when=lambda: g.get("api_user") is not None)
def knowledge_get(article_id: int):
    return jsonify(schemas.article_json(_readable(article_id, g.get("api_user")), full=True))


@bp.post("/knowledge")
@writes
def knowledge_create():
    """A new article (a draft until a reviewer publishes it)."""
    article = operations.create_article(api_user(), json_body())
    return (jsonify(schemas.article_json(article, full=True)), 201,
            {"Location": url_for("api.knowledge_get", article_id=article.id)})


@bp.put("/knowledge/<int(max=2147483647):article_id>")
@writes
def knowledge_update(article_id: int):
    user = api_user()
    article = _readable(article_id, user)
    operations.update_article(article, user, json_body())
    return jsonify(schemas.article_json(article, full=True))


@bp.post("/knowledge/<int(max=2147483647):article_id>/publish")
@writes
def knowledge_publish(article_id: int):
    user = api_user()
    article = _readable(article_id, user)
    note = json_body().get("note")
    operations.publish_article(article, user, note if isinstance(note, str) else None)
    return jsonify(schemas.article_json(article, full=True))


@bp.post("/knowledge/<int(max=2147483647):article_id>/uses")
@writes
def knowledge_use(article_id: int):
    """The article answered a caller (optionally: on order `ticket`, a number the caller may see)."""
    user = api_user()
    article = _readable(article_id, user)
    number = json_body().get("ticket")
    ticket_id = get_visible_ticket(user, str(number)).id if number else None
    operations.record_use(article, user, ticket_id=ticket_id)
    return jsonify(schemas.article_json(article)), 201


# -- files -----------------------------------------------------------------------------------------

def _attachment(article, file_id: int) -> KnowledgeAttachment:
    row = db.session.get(KnowledgeAttachment, file_id)
    if row is None or row.article_id != article.id:
        raise NotFound(_("No such file on this article."))
    return row


@bp.get("/knowledge/<int(max=2147483647):article_id>/attachments")
@limiter.limit(permissions.public_rate_limit, exempt_when=lambda: g.get("api_user") is not None)
def knowledge_attachments(article_id: int):
    """The article's files, oldest first, for whoever may read the article."""
    article = _readable(article_id, g.get("api_user"))
    return jsonify({"items": [schemas.attachment_json(a) for a in article.attachments]})


@bp.post("/knowledge/<int(max=2147483647):article_id>/attachments")
@writes
def knowledge_attachments_add(article_id: int):
    """Files added (multipart fields `files`, or `file`), all or none: a new version of the article."""
    user = api_user()
    article = _readable(article_id, user)
    rows = operations.add_attachments(article, user, request.files.getlist("files") + request.files.getlist("file"))
    return jsonify({"items": [schemas.attachment_json(a) for a in rows],
                    "article": schemas.article_json(article)}), 201


@bp.get("/knowledge/<int(max=2147483647):article_id>/attachments/<int(max=2147483647):file_id>")
@limiter.limit(permissions.public_rate_limit, exempt_when=lambda: g.get("api_user") is not None)
def knowledge_attachment_get(article_id: int, file_id: int):
    """One file, as a download."""
    row = _attachment(_readable(article_id, g.get("api_user")), file_id)
    return files.download(row.sha256, row.filename, row.content_type)


@bp.delete("/knowledge/<int(max=2147483647):article_id>/attachments/<int(max=2147483647):file_id>")
@writes
def knowledge_attachment_delete(article_id: int, file_id: int):
    """A file taken off the article: a new version of it."""
    user = api_user()
    article = _readable(article_id, user)
    operations.remove_attachment(article, user, _attachment(article, file_id))
    return jsonify(schemas.article_json(article))
