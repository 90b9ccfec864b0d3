"""10,000 knowledge articles for the search bench, grown from the demo city's 220.

Each generated article is one of the demo articles moved to another district, street and office
hours, with a paragraph of a second article appended, so the vocabulary and the document
frequencies look like a larger city's knowledge base rather than 45 copies of the same text.
The demo articles themselves are loaded first (through the knowledge operations), so the
callers' questions of tests/hotline/knowledge/queries.py still have their answers among them.
"""
from __future__ import annotations

import random
import time

import sqlalchemy as sa

DISTRICTS = ["东城区", "西城区", "高新区", "南湖区", "北山区", "滨江区", "临港区", "青山区", "白云区", "长安区"]
STREETS = ["幸福路", "和平大道", "建设路", "人民路", "解放路", "中山路", "长江路", "黄河路", "文化路", "团结路",
           "胜利街", "光明街", "育才路", "科技路", "迎宾大道", "滨河路", "工业路", "朝阳路", "新华路", "民主路"]
KINDS = ["办事指南", "常见问答", "政策解读", "服务网点", "温馨提示"]


def _vary(text: str, rng: random.Random) -> str:
    for district in ("东城区", "西城区", "高新区"):
        text = text.replace(district, rng.choice(DISTRICTS))
    for street in ("幸福路", "和平大道", "创新路", "金融大街"):
        text = text.replace(street, rng.choice(STREETS))
    return text


def load(count: int, *, log=print) -> int:
    """The demo articles, then generated ones up to `count` published articles (inside an app context)."""
    from hotline.auth.models import User
    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.knowledge import text
    from hotline.knowledge.models import Article, ArticleState
    from hotline.seed.knowledge import seed_knowledge
    from hotline.seed.knowledge_articles import ARTICLES
    from hotline.seed.knowledge_more import ARTICLES_MORE, directory

    started = time.perf_counter()
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    if not db.session.scalar(sa.select(sa.func.count(Article.id))):
        seed_knowledge(admin, echo=lambda _m: None)
        db.session.commit()
    have = db.session.scalar(sa.select(sa.func.count(Article.id)))
    demo = [*ARTICLES, *ARTICLES_MORE, *directory()]
    departments = dict(db.session.execute(sa.select(Article.category_id, Article.owner_department_id)).all())
    owners = list(set(departments.values()))
    rng = random.Random(20261206)
    now = utcnow()
    rows = []
    for n in range(have, count):
        _key, _category, _owner, title, body, source = demo[n % len(demo)]
        _k2, _c2, _o2, _t2, other, _s2 = demo[rng.randrange(len(demo))]
        district = rng.choice(DISTRICTS)
        title = f"{district}{_vary(title, rng)}（{rng.choice(KINDS)}{n}）"[:200]
        plain = _vary(body, rng) + "\n" + rng.choice(_vary(other, rng).splitlines())
        plain += f"\n{district}{rng.choice(STREETS)}{rng.randrange(1, 300)}号服务窗口，工作日9:00-17:00。"
        body_html = text.paragraphs_html(plain)
        document, _sep, office = source.partition("|")
        rows.append({"title": title, "body": body_html, "owner_department_id": rng.choice(owners),
                     "source_document": document or None, "source_office": office or None,
                     "state": ArticleState.PUBLISHED, "is_public": True, "use_count": rng.randrange(0, 50),
                     "version": 1, "title_tokens": text.index_text(title),
                     "body_tokens": text.index_text(text.plain_text(body_html) + "\n" + (office or "")),
                     "created_at": now, "updated_at": now, "created_by_id": admin.id, "updated_by_id": admin.id,
                     "reviewed_by_id": admin.id, "reviewed_at": now})
        if len(rows) == 1000:
            db.session.execute(sa.insert(Article), rows)
            db.session.commit()
            rows = []
            log(f"  articles {n + 1:,}/{count:,} ({time.perf_counter() - started:.0f} s)")
    if rows:
        db.session.execute(sa.insert(Article), rows)
        db.session.commit()
    return db.session.scalar(sa.select(sa.func.count(Article.id)))
