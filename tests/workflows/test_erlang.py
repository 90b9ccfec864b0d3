"""Erlang C against published worked examples.

The classic one is Call Centre Helper's "Erlang C Formula – Made Simple With an Easy Worked
Example": 100 calls in 30 minutes, an average handle time of 180 seconds, a target of 80 % of
calls answered within 20 seconds. It gives a traffic of 10 erlangs; with 11 agents a probability
of waiting of 68.21 % and a service level of 39 %; 14 agents are the fewest that reach the target
(service level 88.84 %, 82.6 % answered at once, ASA 7.8 s, occupancy 71.4 %), and 20 agents to
schedule with 30 % shrinkage.
"""
import math

import pytest

from workflows import erlang


def test_the_worked_example_100_calls_in_half_an_hour_at_180_seconds():
    a = erlang.traffic(100, 180, 1800)
    assert a == 10
    assert erlang.wait_probability(11, a) == pytest.approx(0.6821, abs=5e-5)
    assert erlang.service_level(11, a, 180, 20) == pytest.approx(0.3896, abs=5e-4)
    assert erlang.service_level(13, a, 180, 20) == pytest.approx(0.7956, abs=5e-4)  # just short of 80 %
    staffing = erlang.agents_needed(100, 180, 1800, 20, 0.8)
    assert staffing.agents == 14
    assert staffing.service_level == pytest.approx(0.8884, abs=5e-4)
    assert 1 - staffing.wait_probability == pytest.approx(0.826, abs=5e-4)
    assert staffing.asa == pytest.approx(7.8, abs=0.05)
    assert staffing.occupancy == pytest.approx(0.714, abs=5e-4)
    assert erlang.with_shrinkage(staffing.agents, 0.3) == 20


def test_small_cases_worked_by_hand():
    # two erlangs on three agents: A^N/N! · N/(N−A) = 8/6 · 3 = 4, Σ A^k/k! (k < 3) = 1 + 2 + 2 = 5, C = 4/9
    assert erlang.wait_probability(3, 2.0) == pytest.approx(4 / 9)
    # one agent: the agent is busy (and a caller waits) a share A of the time
    assert erlang.wait_probability(1, 0.25) == pytest.approx(0.25)
    assert erlang.average_speed_of_answer(1, 0.25, 120) == pytest.approx(0.25 * 120 / 0.75)


def test_too_few_agents_never_keep_up_and_no_calls_need_nobody():
    assert erlang.wait_probability(10, 10.0) == 1.0
    assert erlang.service_level(9, 10.0, 180, 20) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(10, 10.0, 180))
    assert erlang.agents_needed(0, 180, 1800, 20, 0.8).agents == 0


def test_a_ceiling_on_occupancy_can_ask_for_more_agents():
    # 14 agents reach the service level at 71.4 % occupancy; a 70 % ceiling needs 15
    assert erlang.agents_needed(100, 180, 1800, 20, 0.8, max_occupancy=0.7).agents == 15


def test_large_centres_do_not_overflow():
    # 1,000 erlangs: the factorials of the textbook form would overflow a float
    staffing = erlang.agents_needed(10000, 180, 1800, 20, 0.8)
    assert 1000 < staffing.agents < 1060 and staffing.service_level >= 0.8


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2])
def test_the_target_is_a_share(bad):
    with pytest.raises(ValueError):
        erlang.agents_needed(100, 180, 1800, 20, bad)
