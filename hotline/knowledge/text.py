"""Reading Chinese text for the knowledge base: words (jieba), safe HTML, snippets, BM25.

`tokens()` is the one function that decides the words of a text: the indexes of both databases
(SQLite FTS5, PostgreSQL tsvector) store what it returns, space-joined, and every query is cut
by it too, so both backends see the same words.
"""
from __future__ import annotations

import html
import logging
import math
import re
import threading
import unicodedata
import warnings
from array import array
from collections import Counter

import nh3

from hotline.knowledge.words import STOPWORDS, USER_WORDS

#: Tags and attributes an article's body may keep; everything else (scripts, styles, handlers) goes.
ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "h3", "h4", "table", "thead",
                "tbody", "tr", "th", "td", "a", "blockquote", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
#: A token is a run of letters or digits (Chinese characters included); punctuation is no word.
_WORD = re.compile(r"\w", re.UNICODE)
_BLOCK_END = re.compile(r"</(p|li|h3|h4|tr|blockquote)>|<br\s*/?>", re.I)

_tokenizer = None
_lock = threading.Lock()


def _segmenter():
    """jieba's tokenizer with the city's words, loaded once per process (about a second)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # jieba imports pkg_resources
                    import jieba
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in USER_WORDS:
                    tokenizer.add_word(word, freq=20000)
                _tokenizer = tokenizer
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width forms folded (ＡＢＣ１２ → abc12), lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def tokens(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """The words of `text` as the indexes store them: jieba's search mode (a long word and its parts)."""
    out = []
    for word in _segmenter().cut_for_search(normalize(text)):
        word = word.strip()
        if not word or not _WORD.search(word):
            continue
        if not keep_stopwords and word in STOPWORDS:
            continue
        out.append(word)
    return out


def index_text(text: str) -> str:
    """What a search column stores: the tokens, space-joined."""
    return " ".join(tokens(text))


# -- rich text ---------------------------------------------------------------------------------

def clean_html(body: str) -> str:
    """An article's body as safe HTML: only the allowed tags, links without scripts."""
    return nh3.clean(body or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True).strip()


def plain_text(body_html: str) -> str:
    """The words of safe HTML without its tags (one line per paragraph)."""
    marked = _BLOCK_END.sub("\n", body_html or "")
    text = html.unescape(nh3.clean(marked, tags=set()))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def paragraphs_html(text: str) -> str:
    """Plain text (one paragraph a line) as safe HTML paragraphs."""
    return "".join(f"<p>{html.escape(line.strip())}</p>" for line in (text or "").splitlines() if line.strip())


# -- snippets ------------------------------------------------------------------------------------

def snippet(text: str, words: list[str], *, width: int = 90) -> str:
    """The part of `text` where the query's words are densest, escaped, with them in <mark>."""
    text = " ".join((text or "").split())
    lowered = text.lower() if len(text.lower()) == len(text) else text
    words = sorted({w for w in words if w}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None
    hits = [m.start() for m in pattern.finditer(lowered)][:200] if pattern else []
    start = 0
    if hits:
        best = max(hits, key=lambda h: sum(1 for x in hits if h <= x < h + width))
        start = max(0, best - width // 5)
    end = start + width
    out, last = [], start
    for m in pattern.finditer(lowered, start, end) if pattern else ():
        out.append(html.escape(text[last:m.start()]))
        out.append(f"<mark>{html.escape(text[m.start():m.end()])}</mark>")
        last = m.end()
    out.append(html.escape(text[last:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


# -- ranking -------------------------------------------------------------------------------------

#: BM25's usual constants; the title counts as much as TITLE_WEIGHT repetitions of the body.
K1, B, TITLE_WEIGHT = 1.2, 0.75, 3


class CorpusStats:
    """Document frequencies and the mean length of what is searchable, for BM25; with `ids`, also each word's
    postings (the articles holding it, sorted, with the word's BM25 share in each), so a query is ranked
    without reading the articles' words back from the database.

    A posting keeps an int and a float: about 10 MB at 10,000 articles.
    """

    def __init__(self, documents: list[tuple[str, str]], ids: list[int] | None = None):
        self.count = len(documents)
        self.df: Counter = Counter()
        total = 0
        for title, body in documents:
            words = (title or "").split() + (body or "").split()
            total += len(words)
            self.df.update(set(words))
        self.mean_length = total / self.count if self.count else 1.0
        self.postings: dict[str, tuple[array, array]] = {}
        # one article's words at a time, straight into arrays: no Python object per posting, even while building
        for article_id, (title, body) in sorted(zip(ids or (), documents), key=lambda pair: pair[0]):
            title_words, body_words = (title or "").split(), (body or "").split()
            counts = Counter(body_words)
            for word in title_words:
                counts[word] += TITLE_WEIGHT
            norm = K1 * (1 - B + B * (len(title_words) + len(body_words)) / (self.mean_length or 1.0))
            for word, tf in counts.items():
                posting = self.postings.get(word)
                if posting is None:
                    posting = self.postings[word] = (array("l"), array("d"))
                posting[0].append(article_id)
                posting[1].append(tf * (K1 + 1) / (tf + norm))

    def idf(self, word: str) -> float:
        n = self.df.get(word, 0)
        return math.log(1 + (self.count - n + 0.5) / (n + 0.5))

    def rank(self, query: dict[str, float]) -> dict[int, float]:
        """BM25 (as bm25() reckons it) of every article holding a word of the query, from the postings."""
        out: dict[int, float] = {}
        get = out.get
        for word, weight in query.items():
            posting = self.postings.get(word)
            if posting is None:
                continue
            factor = weight * self.idf(word)
            for article_id, share in zip(*posting):
                out[article_id] = get(article_id, 0.0) + factor * share
        return out


def bm25(query: dict[str, float], title_tokens: str, body_tokens: str, stats: CorpusStats) -> float:
    """The relevance of one article to a query of weighted words (a synonym's words weigh less)."""
    title, body = (title_tokens or "").split(), (body_tokens or "").split()
    counts = Counter(body)
    for word in title:
        counts[word] += TITLE_WEIGHT
    length = len(body) + len(title)
    norm = K1 * (1 - B + B * length / (stats.mean_length or 1.0))
    score = 0.0
    for word, weight in query.items():
        tf = counts.get(word, 0)
        if tf:
            score += weight * stats.idf(word) * tf * (K1 + 1) / (tf + norm)
    return score


def use_boost(use_count: int) -> float:
    """Articles that answered many callers rise a little: at most about a third for thousands of uses."""
    return 1.0 + 0.04 * math.log1p(max(use_count, 0))
