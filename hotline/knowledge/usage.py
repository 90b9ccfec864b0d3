"""Reads for the knowledge team: which articles answer most callers, and which leave callers calling again.

A *repeat* is defined here, once: an order answered with article X (an ArticleUse naming the
order) is followed, within CALL_REPEAT_DAYS after that use, by another order from the same caller
(the same citizen) in the same category (both without a category counting as the same). The
call statistics count a repeat by the caller's telephone calls; this counts registered orders,
so it says "about the same" through the category.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.extensions import db
from hotline.knowledge.models import Article, ArticleUse
from hotline.tickets.models import Ticket

#: "This week": the hot list counts the uses of the last seven days.
HOT_DAYS = 7
#: Orders answered with an article within this many days are looked at for repeats.
REPEAT_WINDOW_DAYS = 30
LIST_LIMIT = 10


@dataclass
class Hot:
    article: Article
    uses: int


@dataclass
class Repeats:
    article: Article
    answered: int  # orders answered with the article in the window
    repeated: int  # of these, the ones whose caller came again about the same


def _articles(ids) -> dict[int, Article]:
    ids = list(ids)
    return {a.id: a for a in db.session.scalars(sa.select(Article).where(Article.id.in_(ids)))} if ids else {}


def hot_articles(now: datetime, *, days: int = HOT_DAYS, limit: int = LIST_LIMIT) -> list[Hot]:
    """The articles used most in the last `days` days, most used first."""
    uses = sa.func.count(ArticleUse.id)
    since = now - timedelta(days=days)
    rows = db.session.execute(sa.select(ArticleUse.article_id, uses).where(ArticleUse.used_at > since)
                              .group_by(ArticleUse.article_id).order_by(uses.desc(), ArticleUse.article_id)
                              .limit(limit)).all()
    found = _articles(r[0] for r in rows)
    return [Hot(found[i], n) for i, n in rows if i in found]


def repeat_articles(now: datetime, repeat_days: int, *, window_days: int = REPEAT_WINDOW_DAYS,
                    limit: int = LIST_LIMIT) -> list[Repeats]:
    """Articles whose answers were followed by a repeat order (see the module), most repeats first."""
    uses = db.session.execute(
        sa.select(ArticleUse.article_id, ArticleUse.used_at, Ticket.id, Ticket.citizen_id, Ticket.category_id)
        .join(Ticket, Ticket.id == ArticleUse.ticket_id)
        .where(ArticleUse.used_at > now - timedelta(days=window_days), Ticket.citizen_id.is_not(None))).all()
    later: dict[int, list[tuple]] = defaultdict(list)  # citizen -> (order id, category, registered at)
    if uses:
        citizens = {u.citizen_id for u in uses}
        since = min(u.used_at for u in uses)
        for row in db.session.execute(sa.select(Ticket.citizen_id, Ticket.id, Ticket.category_id, Ticket.created_at)
                                      .where(Ticket.citizen_id.in_(citizens), Ticket.created_at > since)):
            later[row.citizen_id].append((row.id, row.category_id, row.created_at))
    answered: dict[int, set] = defaultdict(set)
    repeated: dict[int, set] = defaultdict(set)
    for use in uses:
        answered[use.article_id].add(use.id)
        end = use.used_at + timedelta(days=repeat_days)
        if any(order != use.id and category == use.category_id and use.used_at < at <= end
               for order, category, at in later[use.citizen_id]):
            repeated[use.article_id].add(use.id)
    ranked = sorted(((a, len(answered[a]), len(r)) for a, r in repeated.items()), key=lambda x: (-x[2], -x[1], x[0]))
    found = _articles(a for a, _t, _r in ranked[:limit])
    return [Repeats(found[a], t, r) for a, t, r in ranked[:limit] if a in found]
