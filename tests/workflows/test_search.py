"""The letter pairs the keyword search keeps of an order and asks of a keyword (workflows.search): a text that
holds a keyword holds every pair asked of it, whatever the letters, digits, case and separators."""
from __future__ import annotations

import random

from workflows import search


def test_pairs_are_adjacent_letters_or_digits_lower_cased_once_each():
    assert search.grams("幸福路12号, ABC-ab 幸福") == ["幸福", "福路", "路1", "12", "2号", "ab", "bc"]
    assert search.grams("噪") == [] and search.grams("") == [] and search.grams(None) == []
    # the wildcards and every other separator end a run: no pair spans them
    assert search.grams("噪%声_扰 民") == []


def test_a_long_keyword_asks_for_a_dozen_of_its_pairs_spread_over_it():
    keyword = "市民反映幸福路口每天早上有摊贩占道经营影响通行"
    asked = search.asked(keyword)
    pairs = search.grams(keyword)
    assert len(pairs) > search.MAX_ASKED and len(asked) == search.MAX_ASKED
    assert asked[0] == pairs[0] and asked[-1] in pairs[-3:] and set(asked) <= set(pairs)
    assert search.asked("噪声") == ["噪声"] and search.asked("噪") == []


def test_every_text_that_holds_a_keyword_holds_the_pairs_asked_of_it():
    letters = "幸福路噪声扰民施工占道aAbBzZ0123 ,，。%_-İßΣσ"
    rng = random.Random(12345)
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(letters) for _ in range(rng.randint(1, 40)))
        start = rng.randrange(len(text))
        keyword = text[start:start + rng.randint(1, 12)]
        # a keyword as the list matches it: anywhere in the text, Latin letters' case aside
        other_case = "".join(c.swapcase() if c.isascii() else c for c in text)
        for holder in (text, other_case):
            assert set(search.asked(keyword)) <= set(search.grams(holder)), (holder, keyword)
        checked += bool(search.asked(keyword))
    assert checked > 2000  # most keywords asked for pairs: the property was put to the test
