"""Which of an order's words the similar-order search asks the index for (workflows.similarity.query_words)."""
from __future__ import annotations

from workflows import similarity

WORDS = ["建设路", "工地", "夜间", "施工", "噪音", "扰民", "居民", "打桩", "和平小区", "睡不着"]


def test_without_counts_the_longest_telling_words_are_asked_each_once():
    asked = similarity.query_words(WORDS + ["工地", "的", "噪"])
    assert asked[:3] == ["和平小区", "建设路", "睡不着"]       # the longest first, then by the words themselves
    assert sorted(asked) == sorted(WORDS)                      # each once; one-character words never


def test_the_rarest_words_are_asked_first():
    counts = {"建设路": 40, "工地": 3000, "夜间": 2500, "施工": 2800, "噪音": 1900, "扰民": 1700, "居民": 2600,
              "打桩": 90, "和平小区": 12, "睡不着": 300}
    asked = similarity.query_words(WORDS, counts)
    assert asked[:4] == ["和平小区", "建设路", "打桩", "睡不着"]
    assert asked[-1] == "工地"   # the most common last


def test_the_budget_stops_the_words_once_their_orders_add_up_to_it():
    counts = {w: 5000 for w in WORDS}
    counts.update({"和平小区": 0, "打桩": 100})
    # 0 + 100 + 5,000 + 5,000 = 10,100 fits 12,000; a fifth word would not
    assert similarity.query_words(WORDS, counts, budget=12_000) == ["和平小区", "打桩", "建设路", "睡不着"]
    # two words are asked however common they are
    assert len(similarity.query_words(["工地", "施工", "夜间"], {"工地": 9000, "施工": 9000, "夜间": 9000},
                                      budget=100)) == 2
    # and never more than QUERY_WORDS
    many = [f"词{i:02d}" for i in range(30)]
    assert len(similarity.query_words(many, {}, budget=10**9)) == similarity.QUERY_WORDS
