"""Reads of the knowledge base: the search (ranked, with snippets), lists for editors, synonyms.

Both databases store each article's words as `text.tokens` made them (and index them: SQLite FTS5,
PostgreSQL tsvector with GIN). A search reads postings each process builds from those words
(text.CorpusStats: which published articles hold each word, with its BM25 share), renewed whenever an
article changes, and ranks with one BM25 and the use count, so both backends find and rank alike,
without reading 10,000 articles' rows per query; the database then gives the page's articles, still
published and in force.
"""
from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from hotline.core.errors import Invalid
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.knowledge import operations, text
from hotline.knowledge.models import Article, ArticleState, ArticleUse, ArticleVersion, Synonym
from workflows.states import Role

#: Query length in characters: below this nothing sensible can be looked for; above, it is not a question.
MIN_QUERY, MAX_QUERY = 2, 2000
#: Words of a long query kept for the search (the rarest ones: they say the most).
MAX_WORDS = 32
#: At most this many articles are found for one query (the best ranked).
CANDIDATES = 400
#: What a synonym's words weigh against the caller's own.
SYNONYM_WEIGHT = 0.8


@dataclass
class Hit:
    article: Article
    score: float
    snippet: str


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    words: list[str] = field(default_factory=list)
    #: Words a synonym added (shown so a call taker sees why an article came up).
    added: list[str] = field(default_factory=list)


def in_force(today: date):
    """The condition of articles that answer callers."""
    return sa.and_(Article.state == ArticleState.PUBLISHED,
                   sa.or_(Article.valid_from.is_(None), Article.valid_from <= today),
                   sa.or_(Article.valid_until.is_(None), Article.valid_until >= today))


# -- what the search reads, per process ------------------------------------------------------------

#: Seconds an article's use count may lag in the ranking (a use does not renew the postings), and after
#: which the postings are built again whatever happened (`hotline knowledge reindex` in another process
#: changes the words without moving updated_at).
USE_SECONDS, REBUILD_SECONDS = 60, 600


@dataclass
class Published:
    """The published articles as the search reads them: BM25's statistics and postings, and what decides
    whether each answers callers today (validity, public) and how often it did (its use count)."""
    stats: text.CorpusStats
    #: id -> (valid_from, valid_until, is_public)
    terms: dict[int, tuple]
    uses: dict[int, int]
    uses_at: float
    built_at: float
    _answering: dict = field(default_factory=dict)

    def answering(self, today: date, public_only: bool) -> frozenset[int]:
        """Ids of the articles in force on `today` (and public, with `public_only`)."""
        if self._answering.get("day") != today:
            self._answering = {"day": today}
        if public_only not in self._answering:
            self._answering[public_only] = frozenset(
                article_id for article_id, (valid_from, valid_until, is_public) in self.terms.items()
                if (valid_from is None or valid_from <= today) and (valid_until is None or valid_until >= today)
                and (is_public or not public_only))
        return self._answering[public_only]


_stats_lock = threading.Lock()
_stats: dict = {"key": None, "value": None}


def _published() -> Published:
    rows = db.session.execute(sa.select(Article.id, Article.title_tokens, Article.body_tokens, Article.valid_from,
                                        Article.valid_until, Article.is_public, Article.use_count)
                              .where(Article.state == ArticleState.PUBLISHED)).all()
    return Published(stats=text.CorpusStats([(r[1], r[2]) for r in rows], [r[0] for r in rows]),
                     terms={r[0]: (r[3], r[4], r[5]) for r in rows}, uses={r[0]: r[6] for r in rows},
                     uses_at=time.monotonic(), built_at=time.monotonic())


def published() -> Published:
    """What the search reads; renewed when any article changes (and every REBUILD_SECONDS), the use counts
    every USE_SECONDS.

    Every change of an article's text, validity or state moves its updated_at (hotline.knowledge.operations),
    so the newest updated_at and the highest id (two index reads, not a scan) tell whether what this process
    holds is still the database's.
    """
    summary = db.session.execute(sa.select(sa.func.max(Article.updated_at), sa.func.max(Article.id))).one()
    key = (str(db.engine.url), operations.generation, *summary)
    with _stats_lock:
        if _stats["key"] != key or time.monotonic() - _stats["value"].built_at > REBUILD_SECONDS:
            _stats.update(key=key, value=_published())
        elif time.monotonic() - _stats["value"].uses_at > USE_SECONDS:
            _stats["value"].uses = dict(db.session.execute(sa.select(Article.id, Article.use_count).where(
                Article.state == ArticleState.PUBLISHED)).all())
            _stats["value"].uses_at = time.monotonic()
        return _stats["value"]


# -- the query ---------------------------------------------------------------------------------------

def check_query(q: str | None) -> str:
    """The query as searched, or Invalid saying why it cannot be (an empty one lists articles)."""
    q = " ".join((q or "").split())
    if q and len(q) < MIN_QUERY:
        raise Invalid(_("Type at least %(n)d characters to search.", n=MIN_QUERY),
                      fields={"q": _("At least %(n)d characters.", n=MIN_QUERY)})
    if len(q) > MAX_QUERY:
        raise Invalid(_("A search is at most %(n)d characters; shorten it to the caller's question.", n=MAX_QUERY),
                      fields={"q": _("At most %(n)d characters (got %(got)d).", n=MAX_QUERY, got=len(q))})
    return q


def synonym_groups() -> list[list[str]]:
    return [s.word_list for s in db.session.scalars(sa.select(Synonym).order_by(Synonym.id))]


def query_words(q: str, groups: list[list[str]], stats: text.CorpusStats) -> tuple[dict[str, float], list[str]]:
    """The weighted words of a query: its own (weight 1) and its synonyms' (SYNONYM_WEIGHT)."""
    own = text.tokens(q)
    weights = {w: 1.0 for w in own}
    lowered = text.normalize(q)
    added = []
    for group in groups:
        if any(word in lowered for word in group):
            for word in group:
                if word in lowered:
                    continue
                added.append(word)
                for token in text.tokens(word) or text.tokens(word, keep_stopwords=True):
                    weights.setdefault(token, SYNONYM_WEIGHT)
    if len(weights) > MAX_WORDS:
        kept = sorted(weights, key=lambda w: (-weights[w], -stats.idf(w)))[:MAX_WORDS]
        weights = {w: weights[w] for w in kept}
    return weights, added


def search(q: str | None, *, today: date, public_only: bool = False, page: int = 1,
           per_page: int = 20) -> Results:
    """Articles in force answering `q`, best first; an empty `q` lists the most used."""
    q = check_query(q)
    where = in_force(today)
    if public_only:
        where = sa.and_(where, Article.is_public.is_(True))
    results = Results(query=q)
    if not q:
        results.total = db.session.scalar(sa.select(sa.func.count(Article.id)).where(where))
        rows = db.session.scalars(sa.select(Article).where(where).options(selectinload(Article.category))
                                  .order_by(Article.use_count.desc(), Article.updated_at.desc(), Article.id)
                                  .offset((page - 1) * per_page).limit(per_page))
        results.hits = [Hit(a, 0.0, text.snippet(text.plain_text(a.body), [])) for a in rows]
        return results
    index = published()
    weights, results.added = query_words(q, synonym_groups(), index.stats)
    results.words = list(weights)
    if not weights:
        return results
    answering = index.answering(today, public_only)
    best = heapq.nlargest(CANDIDATES, ((score, article_id) for article_id, score in index.stats.rank(weights).items()
                                       if article_id in answering))
    scored = sorted(((score * text.use_boost(index.uses.get(article_id, 0)), article_id) for score, article_id in best),
                    key=lambda pair: (-pair[0], pair[1]))
    shown = scored[(page - 1) * per_page: page * per_page]
    articles = {a.id: a for a in db.session.scalars(
        sa.select(Article).where(Article.id.in_([article_id for _s, article_id in shown]), where)
        .options(selectinload(Article.category)))} if shown else {}
    results.total = len(scored) - sum(1 for _s, article_id in shown if article_id not in articles)
    marks = sorted(set(weights) | set(results.added), key=len, reverse=True)
    for score, article_id in shown:
        article = articles.get(article_id)  # None: withdrawn or edited a moment ago, in another process
        if article is not None:
            results.hits.append(Hit(article, score, text.snippet(text.plain_text(article.body), marks)))
    return results


# -- lists for editors and readers -------------------------------------------------------------------

def editor_articles(user, *, state: ArticleState | None = None, needs_care: bool = False, today: date,
                    limit: int = 200) -> list[Article]:
    """Articles this user may edit (administrators: all), newest first; `needs_care`: out of force
    or ending within 30 days while published."""
    query = sa.select(Article).options(selectinload(Article.owner_department), selectinload(Article.category))
    if user.role is not Role.ADMIN:
        department = db.session.get(Department, user.department_id) if user.department_id else None
        if department is None:
            return []
        query = query.join(Department, Department.id == Article.owner_department_id).where(
            Department.path.startswith(department.path))
    if state is not None:
        query = query.where(Article.state == state)
    if needs_care:
        query = query.where(Article.state == ArticleState.PUBLISHED,
                            sa.or_(Article.valid_until < today + timedelta(days=30), Article.valid_from > today))
    return list(db.session.scalars(query.order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit)))


def versions_of(article: Article) -> list[ArticleVersion]:
    return list(db.session.scalars(sa.select(ArticleVersion).where(ArticleVersion.article_id == article.id)
                                   .options(selectinload(ArticleVersion.edited_by))
                                   .order_by(ArticleVersion.number.desc())))


def synonyms() -> list[Synonym]:
    return list(db.session.scalars(sa.select(Synonym).order_by(Synonym.id)))


def articles_used_on(ticket_id: int) -> list[Article]:
    """The articles that answered this order, first used first."""
    uses = (sa.select(ArticleUse.article_id, sa.func.min(ArticleUse.id).label("first"))
            .where(ArticleUse.ticket_id == ticket_id).group_by(ArticleUse.article_id).subquery())
    return list(db.session.scalars(sa.select(Article).join(uses, uses.c.article_id == Article.id)
                                   .order_by(uses.c.first)))
