"""The hotspot test (workflows/hotspots.py) against values worked out by hand."""
import math

import pytest

from workflows import hotspots as hs


@pytest.mark.parametrize("k, mean, expected", [
    # 1 - e^-2 (1 + 2 + 2 + 4/3 + 2/3 + 4/15) = 1 - 0.135335 × 7.266667
    (6, 2.0, 0.016564),
    # 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24)
    (5, 1.0, 0.003660),
    # 1 - e^-0.5 (1 + 0.5 + 0.125 + 0.020833 + 0.002604)
    (5, 0.5, 0.000172),
    # P(X >= 1) = 1 - e^-3
    (1, 3.0, 0.950213),
    (0, 3.0, 1.0),
    (3, 0.0, 0.0),
])
def test_poisson_upper_tail_matches_hand_computed_values(k, mean, expected):
    assert hs.poisson_upper_tail(k, mean) == pytest.approx(expected, abs=5e-7)


@pytest.mark.parametrize("mean", [4.0, 250.0, 3000.0])
def test_both_ways_of_summing_agree_around_the_mean(mean):
    # P(X >= k) - P(X >= k+1) is the probability of k itself, on either side of the mean
    for k in (int(mean) - 2, int(mean), int(mean) + 1, int(mean) + 3):
        pmf = math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))
        assert hs.poisson_upper_tail(k, mean) - hs.poisson_upper_tail(k + 1, mean) == pytest.approx(pmf, rel=1e-6)


@pytest.mark.parametrize("mean", [0.3, 7.5, 120.0, 4321.0])
def test_the_tail_equals_the_sum_of_its_terms_each_in_log_space(mean):
    # the terms from their neighbours add up to what each term computed on its own adds up to
    def term(i):
        return math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1))
    for k in sorted({1, 2, int(mean / 2) + 1, int(mean), int(mean) + 1, int(mean * 1.2) + 2, int(mean * 2) + 5}):
        if k > mean:
            expected = math.fsum(term(i) for i in range(k, k + 20 * int(math.sqrt(mean) + 10)))
        else:
            expected = 1 - math.fsum(term(i) for i in range(k))
        assert hs.poisson_upper_tail(k, mean) == pytest.approx(expected, rel=1e-9, abs=1e-15), k


def test_a_week_is_a_hotspot_only_past_the_threshold():
    # 16 orders in the 8 weeks (56 days) before: 2 expected in a week
    six = hs.judge(6, 16, 56, 7)
    assert six.expected == 2.0 and six.p_value == pytest.approx(0.016564, abs=5e-7) and not six.is_hotspot
    # P(X >= 7 | 2) = 0.016564 - e^-2 × 2^6/6! = 0.016564 - 0.012030
    seven = hs.judge(7, 16, 56, 7)
    assert seven.p_value == pytest.approx(0.004534, abs=5e-7) and seven.is_hotspot and seven.ratio == 3.5


def test_a_week_cut_short_is_compared_with_as_many_days_of_history():
    # 56 orders in 56 days: 2 expected in the two days of the week so far
    result = hs.judge(7, 56, 56, 2)
    assert result.expected == 2.0 and result.is_hotspot


def test_something_new_needs_the_minimum_count():
    # never seen before: expected taken as 0.5; 4 orders are unlikely (p 0.00175) but too few to act on
    four = hs.judge(4, 0, 56, 7)
    assert four.expected == 0.5 and four.p_value == pytest.approx(0.001752, abs=5e-6) and not four.is_hotspot
    assert hs.judge(5, 0, 56, 7).is_hotspot


def test_without_history_nothing_is_judged():
    assert hs.judge(50, 0, 0, 7) is None


def test_hotspots_are_listed_most_significant_first():
    current = {"a": 7, "b": 30, "c": 3, "d": 9}
    history = {"a": 16, "b": 200, "c": 0, "d": 8}
    found = hs.hotspots(current, history, 56, 7)
    # a: 7 against 2 (p 0.0045); b: 30 against 25 (p 0.19, steady); c: too few; d: 9 against 1 (p 1.1e-6)
    assert [key for key, _r in found] == ["d", "a"]
