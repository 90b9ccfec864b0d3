"""Reads of the knowledge base: the search (ranked, with snippets), lists for editors, synonyms.

The database finds the candidates through its own full-text index (SQLite: FTS5 MATCH; PostgreSQL:
tsvector @@ tsquery, GIN), both over the tokens `text.tokens` made; Python then ranks them with
one BM25 and the use count, so both backends rank alike.
"""
from __future__ import annotations

import threading
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
#: Candidates the index hands over for ranking.
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


# -- the statistics BM25 needs, per process --------------------------------------------------------

_stats_lock = threading.Lock()
_stats: dict = {"key": None, "value": None}


def corpus_stats() -> text.CorpusStats:
    """Document frequencies over the published articles; renewed when they change."""
    summary = db.session.execute(sa.select(sa.func.count(Article.id), sa.func.max(Article.id),
                                           sa.func.max(Article.updated_at), sa.func.sum(Article.version))
                                 .where(Article.state == ArticleState.PUBLISHED)).one()
    key = (str(db.engine.url), operations.generation, *summary)
    with _stats_lock:
        if _stats["key"] != key:
            rows = db.session.execute(sa.select(Article.title_tokens, Article.body_tokens)
                                      .where(Article.state == ArticleState.PUBLISHED)).all()
            _stats.update(key=key, value=text.CorpusStats([tuple(r) for r in rows]))
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


def _candidates(words: list[str], where) -> list[int]:
    """Ids of the articles whose index holds any of the words, best first by the database's own rank."""
    if db.engine.dialect.name == "sqlite":
        fts = sa.table("knowledge_fts", sa.column("rowid"))
        match = " OR ".join(f'"{w}"' for w in words)
        query = (sa.select(Article.id).join(fts, fts.c.rowid == Article.id)
                 .where(sa.text("knowledge_fts MATCH :match").bindparams(match=match), where)
                 .order_by(sa.text("bm25(knowledge_fts, 3.0, 1.0)")))
    else:
        tsquery = sa.func.to_tsquery("simple", " | ".join(f"'{w}'" for w in words))
        vector = sa.literal_column("knowledge_articles.search_vector")
        query = (sa.select(Article.id).where(vector.op("@@")(tsquery), where)
                 .order_by(sa.func.ts_rank(vector, tsquery).desc()))
    return list(db.session.scalars(query.limit(CANDIDATES)))


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
    stats = corpus_stats()
    weights, results.added = query_words(q, synonym_groups(), stats)
    results.words = list(weights)
    if not weights:
        return results
    ids = _candidates(list(weights), where)
    articles = db.session.scalars(sa.select(Article).where(Article.id.in_(ids))
                                  .options(selectinload(Article.category))).all() if ids else []
    scored = sorted(((text.bm25(weights, a.title_tokens, a.body_tokens, stats) * text.use_boost(a.use_count), a)
                     for a in articles), key=lambda pair: (-pair[0], pair[1].id))
    results.total = len(scored)
    marks = sorted(set(weights) | set(results.added), key=len, reverse=True)
    for score, article in scored[(page - 1) * per_page: page * per_page]:
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
    first = sa.func.min(ArticleUse.id)
    rows = db.session.execute(sa.select(ArticleUse.article_id, first).where(ArticleUse.ticket_id == ticket_id)
                              .group_by(ArticleUse.article_id).order_by(first)).all()
    found = {a.id: a for a in db.session.scalars(sa.select(Article).where(Article.id.in_([r[0] for r in rows])))}
    return [found[r[0]] for r in rows if r[0] in found]
