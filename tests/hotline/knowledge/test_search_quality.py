"""Search quality over the demo city's 220 articles: recall@5 and MRR of fifty callers' questions.

Run with -s to see the figures of each backend.
"""
from __future__ import annotations

import sqlalchemy as sa

from hotline.auth.operations import create_user
from hotline.extensions import db
from hotline.knowledge import queries
from hotline.knowledge.models import ArticleVersion
from hotline.knowledge.operations import today
from hotline.seed.demo import _build_categories, _build_departments
from hotline.seed.knowledge import article_keys, seed_knowledge
from tests.hotline.knowledge.queries import QUERIES


def test_callers_questions_find_their_answers_in_the_top_five(app, db_session):
    _build_categories(_build_departments())
    admin = create_user("kb-admin", "admin", "password-123", display_name="kb")
    assert seed_knowledge(admin, echo=lambda _m: None) >= 200
    db.session.commit()
    keys = dict(db.session.execute(sa.select(ArticleVersion.article_id, ArticleVersion.note)
                                   .where(ArticleVersion.number == 1)).all())
    keys = {article_id: note.removeprefix("demo:") for article_id, note in keys.items()}
    assert len(QUERIES) == 50 and all(k in article_keys() for _q, expected in QUERIES for k in expected)

    found, reciprocal, misses = 0, 0.0, []
    for question, expected in QUERIES:
        ranked = [keys[hit.article.id] for hit in queries.search(question, today=today(), per_page=10).hits]
        rank = next((i for i, key in enumerate(ranked, 1) if key in expected), None)
        found += rank is not None and rank <= 5
        reciprocal += 1 / rank if rank else 0.0
        if rank is None or rank > 5:
            misses.append(f"{question} -> {ranked[:5]} (expected {expected})")
    recall, mrr = found / len(QUERIES), reciprocal / len(QUERIES)
    print(f"\nknowledge search on {app.config['BACKEND']}: {len(keys)} articles, {len(QUERIES)} questions, "
          f"recall@5 {recall:.2f}, MRR {mrr:.3f}" + "".join(f"\n  miss: {m}" for m in misses))
    assert recall >= 0.9, misses
