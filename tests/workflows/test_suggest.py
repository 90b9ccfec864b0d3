"""The department suggestion learned from history, measured on held-out cases against the category default."""
from __future__ import annotations

from hotline.knowledge.text import tokens
from tests.workflows.suggest_corpus import DEFAULT, DEPTS, generate
from workflows import suggest as nb


def _samples(n, seed):
    return [nb.Sample(tokens(text), cat, address, dept) for text, cat, address, dept in generate(n, seed)]


def test_learning_from_history_beats_the_category_default_on_held_out_cases():
    train, held_out = _samples(3000, seed=1), _samples(800, seed=2)
    model = nb.NaiveBayes.train(train)
    result = nb.evaluate(model, held_out, DEFAULT)
    print("suggestion accuracy:", result)
    assert result["top1"] > result["baseline_top1"] + 0.2
    assert result["top3"] >= 0.9
    # stored and read back as JSON, it answers the same
    again = nb.NaiveBayes.from_json(model.to_json())
    assert nb.evaluate(again, held_out, DEFAULT) == result


def test_construction_noise_goes_to_construction_and_unsure_cases_to_the_default():
    model = nb.NaiveBayes.train(_samples(2000, seed=3))
    ranked, fallback = nb.suggest(model, tokens("建设路工地半夜打桩，吵得睡不着"), "noise", "东城区建设路18号",
                                  DEFAULT["noise"], threshold=0.5)
    assert ranked[0][0] == DEPTS["zjj"] and not fallback and len(ranked) == 3
    ranked, fallback = nb.suggest(None, tokens("噪音"), "noise", None, DEFAULT["noise"], threshold=0.5)
    assert fallback and ranked[0][0] == DEFAULT["noise"]
    assert nb.district("西城区和平街3号") == "西城区" and nb.district("和平街3号") is None
