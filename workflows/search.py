"""Keyword search over orders' text: the letter pairs an index keeps, so that a search reads candidates
instead of every order.

A list's keyword (`q`) matches an order whose subject or content holds it anywhere ("噪声", "幸福路 12号"),
case aside for Latin letters. Chinese has no spaces, so words cannot be told apart by the text alone; every
pair of adjacent letters or digits can be kept instead, and a text that holds a fragment holds each of the
fragment's pairs. The index answers "which orders hold all these pairs" (a few more than the answer), and
the fragment itself decides among them: the same orders as reading every one.

Pure: no database.
"""
from __future__ import annotations

#: A long fragment asks for this many of its pairs, spread over it (every one narrows less than the last).
MAX_ASKED = 12


def _folded(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch  # a letter whose lower case is two letters stays itself


def grams(text: str | None) -> list[str]:
    """Each distinct pair of adjacent letters or digits in `text`, lower-cased, in order of first occurrence.
    Anything else (spaces, punctuation, the wildcards % and _) separates: no pair spans it."""
    seen: dict[str, None] = {}
    previous = ""
    for ch in text or "":
        ch = _folded(ch)
        if ch.isalnum():
            if previous:
                seen.setdefault(previous + ch, None)
            previous = ch
        else:
            previous = ""
    return list(seen)


def asked(fragment: str) -> list[str]:
    """The pairs every text holding `fragment` holds: at most MAX_ASKED, spread over the fragment; [] for a
    fragment without two adjacent letters or digits (a single character: nothing narrows it)."""
    pairs = grams(fragment)
    if len(pairs) <= MAX_ASKED:
        return pairs
    step = len(pairs) / MAX_ASKED
    return [pairs[int(i * step)] for i in range(MAX_ASKED)]


def indexed_text(subject: str | None, content: str | None) -> str:
    """What the index keeps of an order: its subject's and content's pairs, separated by spaces."""
    return " ".join(grams(f"{subject or ''}\n{content or ''}"))
