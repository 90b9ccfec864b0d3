"""Which department should take a case: multinomial naive Bayes over the case's words, category and district.

Pure Python, stored as JSON: a few hundred departments × some thousands of words fit in a row of the
database, load in milliseconds and answer in well under a millisecond, with nothing to install and no
pickled code to trust. Features: jieba tokens of the text, "cat:<code>" (weighted up, the category is
the strongest single hint) and "dist:<district>" taken from the address.
"""
from __future__ import annotations

import json
import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

CATEGORY_WEIGHT = 3
DISTRICT_WEIGHT = 2
ALPHA = 0.1
_DISTRICT = re.compile(r"([\u4e00-\u9fff]{1,6}?(?:区|县|市))")


def district(address: str | None) -> str | None:
    """The district named at the start of an address (东城区幸福路12号 → 东城区), if any."""
    if not address:
        return None
    found = _DISTRICT.match(address.strip())
    return found.group(1) if found else None


def features(words: list[str], category: str | None, address: str | None) -> Counter:
    counts = Counter(w for w in words if len(w) >= 2)
    if category:
        counts[f"cat:{category}"] += CATEGORY_WEIGHT
    where = district(address)
    if where:
        counts[f"dist:{where}"] += DISTRICT_WEIGHT
    return counts


@dataclass
class Sample:
    words: list[str]
    category: str | None
    address: str | None
    department: int


class NaiveBayes:
    def __init__(self, priors: dict[int, float] | None = None, counts: dict[int, dict[str, int]] | None = None,
                 totals: dict[int, int] | None = None, vocabulary: int = 0):
        self.priors = priors or {}
        self.counts = counts or {}
        self.totals = totals or {}
        self.vocabulary = vocabulary

    @classmethod
    def train(cls, samples: list[Sample]) -> "NaiveBayes":
        docs = Counter(s.department for s in samples)
        counts: dict[int, Counter] = defaultdict(Counter)
        vocab = set()
        for s in samples:
            f = features(s.words, s.category, s.address)
            counts[s.department].update(f)
            vocab.update(f)
        n = sum(docs.values()) or 1
        return cls({d: math.log(c / n) for d, c in docs.items()},
                   {d: dict(c) for d, c in counts.items()},
                   {d: sum(c.values()) for d, c in counts.items()}, len(vocab))

    def predict(self, words: list[str], category: str | None, address: str | None, k: int = 3) -> list[tuple[int, float]]:
        """The k likeliest departments with their probability (softmax of the log-likelihoods)."""
        if not self.priors:
            return []
        f = features(words, category, address)
        scores = {}
        v = self.vocabulary + 1
        for dept, prior in self.priors.items():
            counts, total = self.counts.get(dept, {}), self.totals.get(dept, 0)
            denominator = math.log(total + ALPHA * v)
            scores[dept] = prior + sum(n * (math.log(counts.get(w, 0) + ALPHA) - denominator) for w, n in f.items())
        top = max(scores.values())
        exp = {d: math.exp(s - top) for d, s in scores.items()}
        z = sum(exp.values())
        ranked = sorted(exp.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [(d, e / z) for d, e in ranked]

    def to_json(self) -> str:
        return json.dumps({"priors": self.priors, "counts": self.counts, "totals": self.totals,
                           "vocabulary": self.vocabulary}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> "NaiveBayes":
        data = json.loads(raw)
        return cls({int(d): p for d, p in data["priors"].items()},
                   {int(d): c for d, c in data["counts"].items()},
                   {int(d): t for d, t in data["totals"].items()}, data["vocabulary"])


def split(samples: list[Sample], held_out: float = 0.2, seed: int = 7) -> tuple[list[Sample], list[Sample]]:
    shuffled = list(samples)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * (1 - held_out))
    return shuffled[:cut], shuffled[cut:]


def evaluate(model: NaiveBayes, test: list[Sample], default_for: dict[str, int]) -> dict:
    """Top-1/top-3 accuracy of the model and top-1 of the category's default department on `test`."""
    if not test:
        return {"held_out": 0, "top1": None, "top3": None, "baseline_top1": None}
    top1 = top3 = base = 0
    for s in test:
        ranked = [d for d, _ in model.predict(s.words, s.category, s.address)]
        top1 += bool(ranked) and ranked[0] == s.department
        top3 += s.department in ranked
        base += default_for.get(s.category or "") == s.department
    n = len(test)
    return {"held_out": n, "top1": round(top1 / n, 3), "top3": round(top3 / n, 3), "baseline_top1": round(base / n, 3)}


def suggest(model: NaiveBayes | None, words: list[str], category: str | None, address: str | None,
            default: int | None, threshold: float) -> tuple[list[tuple[int, float]], bool]:
    """Top three departments; when the model is absent or its best is below `threshold`, the category's
    default department leads (the second value says the default was used)."""
    ranked = model.predict(words, category, address) if model else []
    if default is not None and (not ranked or ranked[0][1] < threshold):
        rest = [(d, p) for d, p in ranked if d != default]
        share = next((p for d, p in ranked if d == default), None)
        return [(default, share if share is not None else 0.0)] + rest[:2], True
    return ranked, False
