"""The JSON shapes of knowledge articles (the API) and of search hits."""
from __future__ import annotations

from flask import url_for

from hotline.knowledge.models import Article, KnowledgeAttachment


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def article_json(article: Article, *, full: bool = False) -> dict:
    out = {
        "id": article.id, "title": article.title, "state": article.state.value, "is_public": article.is_public,
        "category": ({"code": article.category.code, "name": article.category.name}
                     if article.category is not None else None),
        "owner_department": {"id": article.owner_department_id,
                             "name": article.owner_department.name if article.owner_department else None},
        "source_document": article.source_document, "source_office": article.source_office,
        "valid_from": _iso(article.valid_from), "valid_until": _iso(article.valid_until),
        "use_count": article.use_count, "version": article.version, "updated_at": _iso(article.updated_at),
        "reviewed_at": _iso(article.reviewed_at),
        "reviewed_by": article.reviewed_by.display_name if article.reviewed_by is not None else None,
    }
    if full:
        out["body"] = article.body
        out["attachments"] = [attachment_json(a) for a in article.attachments]
    return out


def attachment_json(row: KnowledgeAttachment) -> dict:
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type, "size": row.size,
            "sha256": row.sha256, "uploaded_at": _iso(row.uploaded_at),
            "url": url_for("api.knowledge_attachment_get", article_id=row.article_id, file_id=row.id)}


def hit_json(hit) -> dict:
    return {**article_json(hit.article), "score": round(hit.score, 4), "snippet": hit.snippet}
