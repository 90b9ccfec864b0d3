"""Similar orders (并单候选): open orders of the last SIMILAR_DAYS days with the same words, address or caller."""
from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.core import sqlite
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.knowledge.text import tokens
from hotline.similar.models import TicketText, WordCounts
from hotline.tickets.models import Ticket
from workflows import similarity
from workflows.states import OPEN, TicketStatus

#: How many orders each way of being alike may hand over for comparison, and how many are shown; the best
#: CANDIDATES by text (ranked as they are then judged) are picked from the newest RANKED matches found. 50
#: showed the same ten orders as 200 did before texts were so ranked, for 150 recent open orders of
#: scripts/bench/pages' 1,000,000 orders and 300 of its 100,000 (PostgreSQL), at about half the time.
CANDIDATES = 50
SHOWN = 10
RANKED = 500
#: A word in more than this share of the open orders tells nothing about which case an order is: it is not
#: asked of the index (below COMMON_FROM open orders every word counts).
COMMON_SHARE, COMMON_FROM = 0.05, 2000
#: The index is asked for an order's rarest words only while the open orders holding them add up to this
#: (workflows.similarity.query_words): the search reads each asked word's list of orders, so however many
#: orders are open it reads about this many entries. Words in fewer than COUNTED_FROM open orders count as rare.
POSTINGS_BUDGET, COUNTED_FROM = 20_000, 20
#: The worker counts the words this often (similar.count_words); a count older than COUNTS_STALE is not
#: trusted (no worker counted lately) and the page counts for itself, as it does before the first count.
COUNTS_SECONDS = 600
COUNTS_STALE = 3 * COUNTS_SECONDS
#: Seconds a process keeps the count it read.
READ_SECONDS = 60

_counts_lock = threading.Lock()
_counts: dict = {"key": None, "at": 0.0, "open": 0, "counts": {}, "common": frozenset()}


@dataclass
class Similar:
    """An order that may be the same case: what the order page shows of it, its score and why."""

    ticket_id: int
    number: str
    subject: str
    status: TicketStatus
    created_at: datetime
    score: float
    reasons: dict[str, float]


def _words(ticket: Ticket) -> list[str]:
    return tokens(f"{ticket.subject or ''} {ticket.content or ''}")


def count_words() -> tuple[int, dict[str, int]]:
    """(open orders, word -> open orders holding it), the words counted from COUNTED_FROM orders (and every
    common one) and only from COMMON_FROM open orders (PostgreSQL: ts_stat over the open rows' vectors;
    SQLite: the fts5vocab table over the open-only FTS5 index). Reads every open order's words: the worker's
    job (operations.store_word_counts), a page's only when no worker counted lately."""
    table = TicketText.__table__
    open_orders = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(table.c.is_open)) or 0
    counts: dict[str, int] = {}
    if open_orders >= COMMON_FROM:
        least = min(COUNTED_FROM, int(open_orders * COMMON_SHARE) + 1)
        if db.engine.dialect.name == "sqlite":
            query = sa.text("SELECT term, doc FROM ticket_texts_fts_vocab WHERE doc >= :least")
        else:
            query = sa.text("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM ticket_texts WHERE is_open') "
                            "WHERE ndoc >= :least")
        counts = dict(db.session.execute(query.bindparams(least=least)).all())
    return open_orders, counts


def _word_counts() -> tuple[int, dict[str, int], frozenset[str]]:
    """`count_words` as the worker last stored it, with its common words (both kept READ_SECONDS per process,
    not worked out again per search); counted here when it is missing or older than COUNTS_STALE."""
    key = str(db.engine.url)
    with _counts_lock:
        if _counts["key"] == key and time.monotonic() - _counts["at"] < READ_SECONDS:
            return _counts["open"], _counts["counts"], _counts["common"]
    stored = db.session.execute(sa.select(WordCounts.counted_at, WordCounts.open_orders, WordCounts.counts)
                                .order_by(WordCounts.id.desc()).limit(1)).first()
    if stored is not None and utcnow() - stored.counted_at < timedelta(seconds=COUNTS_STALE):
        open_orders, counts = stored.open_orders, json.loads(stored.counts)
    else:
        open_orders, counts = count_words()
    # words in more than COMMON_SHARE of the open orders (none below COMMON_FROM open orders)
    least = int(open_orders * COMMON_SHARE)
    common = frozenset(w for w, held in counts.items() if held > least) if open_orders >= COMMON_FROM else frozenset()
    with _counts_lock:
        _counts.update(key=key, at=time.monotonic(), open=open_orders, counts=counts, common=common)
    return open_orders, counts, common


def word_counts() -> dict[str, int]:
    """Word -> open orders holding it, for the words in COUNTED_FROM or more (`_word_counts`)."""
    return _word_counts()[1]


def common_words() -> frozenset[str]:
    """Words in more than COMMON_SHARE of the open orders (none below COMMON_FROM open orders)."""
    return _word_counts()[2]


def forget_common_words() -> None:
    with _counts_lock:
        _counts.update(key=None, at=0.0, open=0, counts={}, common=frozenset())


def _by_text(words: list[str], since: datetime, *, other_than: int | None = None) -> sa.Select | None:
    """The open orders since `since` (but `other_than`) sharing two of `words`' telling words, best match first
    (a query)."""
    common, counts = common_words(), word_counts()
    asked = similarity.query_words([w for w in words if w not in common], counts, POSTINGS_BUDGET)
    if len(asked) < 2:  # an order of common words only: its rarest common words then, or it finds nothing
        asked += [w for w in similarity.query_words(words, counts) if w not in asked][:2 - len(asked)]
    if not asked:
        return None
    # two of the order's telling words together: far fewer rows to rank than any one word (see the bench)
    pairs = similarity.word_pairs(asked) or [(asked[0],)]
    table = TicketText.__table__
    # the newest RANKED matches are ranked: thousands of open orders of one popular complaint (or of a mass
    # incident) would otherwise each be ranked to hand over CANDIDATES of them (ranking, not finding, is what
    # costs: it reads every matching text's words); a mass incident's newest reports are the ones a new report
    # most likely repeats. They are ranked as similar_orders then judges them (workflows.similarity.text_score:
    # the words two texts share over the words of both); the asked pairs' own rank, about the same for every
    # text that holds them, would hand over an arbitrary CANDIDATES.
    mine = similarity.telling(words)
    if db.engine.dialect.name == "sqlite":
        fts = sa.table("ticket_texts_fts", sa.column("rowid"))
        match = " OR ".join("(" + " AND ".join('"' + w.replace('"', "") + '"' for w in pair) + ")" for pair in pairs)
        matches = (sa.select(table.c.ticket_id, table.c.tokens).join(fts, fts.c.rowid == table.c.ticket_id)
                   .where(sa.text("ticket_texts_fts MATCH :match").bindparams(match=match), table.c.is_open,
                          table.c.created_at >= since, table.c.ticket_id != other_than)
                   .order_by(table.c.created_at.desc()).limit(RANKED).subquery())
        rank = sa.func.hotline_text_score(matches.c.tokens, " ".join(mine))  # text_score itself (below)
    else:
        def quoted(word: str) -> str:
            return "'" + word.replace("'", "").replace("\\", "") + "'"
        tsquery = sa.func.to_tsquery("simple", " | ".join(
            "(" + " & ".join(quoted(w) for w in pair) + ")" for pair in pairs))
        # Any one of the words first: the same rows, but a cheap test that rejects most texts at once (the
        # pairs' query, tens of terms, is tested only on what passes) and that the GIN index can answer.
        anyword = sa.func.to_tsquery("simple", " | ".join(quoted(w) for w in asked))
        vector = sa.literal_column("ticket_texts.search_vector")
        matches = (sa.select(table.c.ticket_id, vector.label("vector"))
                   .where(vector.op("@@")(anyword), vector.op("@@")(tsquery), table.c.is_open,
                          table.c.created_at >= since, table.c.ticket_id != other_than)
                   .order_by(table.c.created_at.desc()).limit(RANKED).subquery())
        # text_score in PostgreSQL's words: ts_rank over all the order's telling words, by the words of both
        everyword = sa.func.to_tsquery("simple", " | ".join(quoted(w) for w in mine))
        rank = sa.func.ts_rank(matches.c.vector, everyword) / (len(mine) + sa.func.length(matches.c.vector))
    return sa.select(matches.c.ticket_id).order_by(rank.desc())


@functools.lru_cache(maxsize=64)
def _telling_set(mine: str) -> frozenset[str]:
    return frozenset(mine.split())


def _sqlite_text_score(tokens: str | None, mine: str) -> float:
    """SQLite's hotline_text_score(tokens, mine): text_score of an indexed text and the order's telling words
    (`mine`, joined by spaces; the same for every row of a search, so read once)."""
    return similarity.text_score(_telling_set(mine), (tokens or "").split())


sqlite.define("hotline_text_score", 2, _sqlite_text_score)


def similar_orders(ticket: Ticket, *, now: datetime, days: int | None = None, limit: int = SHOWN) -> list[Similar]:
    """Open orders (not `ticket` itself) of the last `days` days that may be the same case, best first."""
    days = days if days is not None else current_app.config.get("SIMILAR_DAYS", 30)
    since = now - timedelta(days=days)
    words = _words(ticket)
    key = similarity.address_key(ticket.address)
    # each way of being alike hands over at most CANDIDATES orders; one statement reads them all
    # (open ones other than this one only, the newest first: closed orders at a busy address or of a frequent
    # caller, or the order itself, would otherwise take the places of open ones among the CANDIDATES)
    branches = [q for q in (
        _by_text(words, since, other_than=ticket.id),
        sa.select(TicketText.ticket_id).where(TicketText.address_key == key, TicketText.created_at >= since,
                                              TicketText.is_open, TicketText.ticket_id != ticket.id)
        .order_by(TicketText.created_at.desc()) if key else None,
        sa.select(Ticket.id).where(Ticket.citizen_id == ticket.citizen_id, Ticket.created_at >= since,
                                   Ticket.status.in_(OPEN), Ticket.id != ticket.id)
        .order_by(Ticket.created_at.desc()) if ticket.citizen_id else None) if q is not None]
    if not branches:
        return []
    candidates = sa.union(*(sa.select(q.limit(CANDIDATES).subquery().c[0]) for q in branches)).subquery()
    # judged on the few columns that say why two orders are alike, with what the page shows of them: plain
    # rows, not orders loaded whole (a mass incident hands over hundreds of candidates)
    rows = db.session.execute(
        sa.select(Ticket.id, Ticket.citizen_id, TicketText.tokens, TicketText.address_key, Ticket.number,
                  Ticket.subject, Ticket.status, Ticket.created_at)
        .join(TicketText, TicketText.ticket_id == Ticket.id)
        .where(Ticket.id.in_(sa.select(candidates.c[0])), Ticket.status.in_(OPEN))).all()
    mine = frozenset(similarity.telling(words))
    found = {}
    for row in rows:
        match = similarity.judge(row.id, words_a=mine, words_b=row.tokens.split(),
                                 same_address=bool(key) and key == row.address_key,
                                 same_caller=bool(ticket.citizen_id) and ticket.citizen_id == row.citizen_id)
        if match:
            found[row.id] = (row, match)
    shown = []
    for m in similarity.rank([m for _, m in found.values()], limit):
        row = found[m.ticket_id][0]
        shown.append(Similar(m.ticket_id, row.number, row.subject, row.status, row.created_at, m.score, m.reasons))
    return shown


def orders_of(items: list[Similar]) -> dict[int, Ticket]:
    """The similar orders loaded whole (for their summaries over the API), by id: one statement."""
    if not items:
        return {}
    return {t.id: t for t in db.session.scalars(sa.select(Ticket).where(Ticket.id.in_([i.ticket_id for i in items])))}
