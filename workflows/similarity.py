"""Why two orders look like one case (并单候选): shared words, the same address, the same caller.

Pure: the caller gives the words (jieba tokens), the folded addresses and the citizens.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

TEXT = "text"          # 相似内容
ADDRESS = "address"    # 同一地址
CALLER = "caller"      # 同一来电人

#: Below this share of words two texts are not called similar.
TEXT_THRESHOLD = 0.25
#: At most this many of an order's words are asked of the index (the rarest: the most telling).
QUERY_WORDS = 10
#: A word of fewer characters tells nothing (一, 的, 车 ...).
TELLING_LENGTH = 2
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_TAIL = re.compile(r"(附近|旁边|对面|门口|路口|周边|一带)$")


def address_key(address: str | None) -> str | None:
    """An address folded for comparison: full-width, spaces and punctuation, "附近/门口…" dropped."""
    if not address:
        return None
    key = _NOISE.sub("", unicodedata.normalize("NFKC", address).lower())
    key = _TAIL.sub("", key)
    return key[:255] or None


def telling(words: list[str]) -> list[str]:
    """The words worth comparing: TELLING_LENGTH characters or more, each once."""
    return list(dict.fromkeys(w for w in words if len(w) >= TELLING_LENGTH))


def query_words(words: list[str], counts: dict[str, int] | None = None, budget: int | None = None) -> list[str]:
    """The words an order asks the index for: its rarest telling words by `counts` (word -> open orders holding
    it; a word not counted is rare), the longest first among equally rare, at most QUERY_WORDS of them, and
    only while the orders holding them add up to `budget`: the index reads each asked word's list of orders,
    so the budget bounds a search however many orders are open. Two words are asked in any case."""
    counts = counts or {}
    asked, postings = [], 0
    for word in sorted(telling(words), key=lambda w: (counts.get(w, 0), -len(w), w))[:QUERY_WORDS]:
        held = counts.get(word, 0)
        if budget is not None and len(asked) >= 2 and postings + held > budget:
            break
        asked.append(word)
        postings += held
    return asked


def word_pairs(words: list[str]) -> list[tuple[str, str]]:
    """Every pair of the asked words: a candidate must share at least two of them."""
    return [(a, b) for i, a in enumerate(words) for b in words[i + 1:]]


def text_score(a: list[str] | frozenset[str], b: list[str]) -> float:
    """Dice's coefficient over the two texts' telling words (0 … 1); `a` may be given as its telling words
    already (a frozenset), when one text is compared with many."""
    sa = a if isinstance(a, frozenset) else set(telling(a))
    sb = {w for w in b if len(w) >= TELLING_LENGTH}  # telling(b) as a set: no order kept (hundreds are judged)
    if not sa or not sb:
        return 0.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


@dataclass
class Match:
    ticket_id: int
    score: float = 0.0
    reasons: dict[str, float] = field(default_factory=dict)


def judge(ticket_id: int, *, words_a: list[str] | frozenset[str], words_b: list[str], same_address: bool,
          same_caller: bool) -> Match | None:
    """Whether order `ticket_id` (words_b) is a merge candidate for the order being read (words_a), and why.

    The score is the text's similarity raised by a shared address (+0.3) and a shared caller (+0.2),
    capped at 1; an order that shares nothing is no candidate.
    """
    match = Match(ticket_id)
    text = text_score(words_a, words_b)
    if text >= TEXT_THRESHOLD:
        match.reasons[TEXT] = round(text, 2)
    if same_address:
        match.reasons[ADDRESS] = 1.0
    if same_caller:
        match.reasons[CALLER] = 1.0
    if not match.reasons:
        return None
    match.score = round(min(1.0, text + (0.3 if same_address else 0) + (0.2 if same_caller else 0)), 2)
    return match


def rank(matches: list[Match], limit: int) -> list[Match]:
    return sorted(matches, key=lambda m: (-m.score, -m.ticket_id))[:limit]
