"""Tests for workflows.acd: agent states, who is offered the next call, who waits first."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.acd import (
    BUSY_STATES,
    CHOSEN_STATES,
    AgentSnapshot,
    AgentState,
    CallerPriority,
    Strategy,
    may_choose,
    order_agents,
    queue_order,
)

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 15, 9, 0, tzinfo=TZ)

FAST = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def agent(user_id: int, *, level: int = 1, idle_minutes: int = 0, calls: int = 0) -> AgentSnapshot:
    """An agent idle for `idle_minutes` before T0 + 1h."""
    return AgentSnapshot(user_id=user_id, level=level, idle_since=T0 + timedelta(hours=1, minutes=-idle_minutes),
                         calls_today=calls)


def ids(agents: list[AgentSnapshot]) -> list[int]:
    return [a.user_id for a in agents]


# --------------------------------------------------------------------------
# Agent states
# --------------------------------------------------------------------------


@pytest.mark.parametrize("current,wanted,allowed", [
    (AgentState.OFFLINE, AgentState.READY, True),
    (AgentState.READY, AgentState.NOT_READY, True),
    (AgentState.NOT_READY, AgentState.READY, True),
    (AgentState.READY, AgentState.OFFLINE, True),
    (AgentState.AFTER_CALL_WORK, AgentState.READY, True),
    (AgentState.AFTER_CALL_WORK, AgentState.NOT_READY, True),
    (AgentState.AFTER_CALL_WORK, AgentState.OFFLINE, True),
    (AgentState.RINGING, AgentState.READY, False),
    (AgentState.RINGING, AgentState.NOT_READY, False),
    (AgentState.RINGING, AgentState.OFFLINE, False),
    (AgentState.ON_CALL, AgentState.READY, False),
    (AgentState.ON_CALL, AgentState.NOT_READY, False),
    (AgentState.ON_CALL, AgentState.OFFLINE, False),
    # states set by calls are never chosen by hand
    (AgentState.READY, AgentState.RINGING, False),
    (AgentState.READY, AgentState.ON_CALL, False),
    (AgentState.ON_CALL, AgentState.AFTER_CALL_WORK, False),
    (AgentState.READY, AgentState.AFTER_CALL_WORK, False),
])
def test_may_choose(current, wanted, allowed):
    assert may_choose(current, wanted) is allowed
    assert may_choose(current.value, wanted.value) is allowed  # as a form or a JSON body sends them


def test_may_choose_whole_table():
    for current, wanted in product(AgentState, AgentState):
        expected = wanted in {AgentState.OFFLINE, AgentState.READY, AgentState.NOT_READY} and current not in {
            AgentState.RINGING, AgentState.ON_CALL}
        assert may_choose(current, wanted) is expected, (current, wanted)
    assert CHOSEN_STATES == {AgentState.OFFLINE, AgentState.READY, AgentState.NOT_READY}
    assert BUSY_STATES == {AgentState.RINGING, AgentState.ON_CALL}


def test_states_have_titles():
    assert AgentState.AFTER_CALL_WORK.title_for("zh") == "话后处理"
    assert AgentState.AFTER_CALL_WORK.title_for("en") == "After-call work"
    assert Strategy.RING_ALL.title_for("en") == "Ring all"
    assert CallerPriority.VIP.title_for("zh") == "VIP"


# --------------------------------------------------------------------------
# Who is offered the next call
# --------------------------------------------------------------------------


def test_no_ready_agents():
    for strategy in Strategy:
        assert order_agents(strategy, [], 3) == []


def test_longest_idle_first_within_a_level():
    agents = [agent(1, idle_minutes=5), agent(2, idle_minutes=30), agent(3, idle_minutes=15),
              agent(4, level=2, idle_minutes=120)]
    assert ids(order_agents(Strategy.LONGEST_IDLE, agents, None)) == [2, 3, 1, 4]


def test_longest_idle_tie_goes_to_the_lower_user_id():
    agents = [agent(9, idle_minutes=10), agent(4, idle_minutes=10)]
    assert ids(order_agents(Strategy.LONGEST_IDLE, agents, None)) == [4, 9]


def test_fewest_calls_first_then_longest_idle():
    agents = [agent(1, calls=12, idle_minutes=60), agent(2, calls=3, idle_minutes=1),
              agent(3, calls=3, idle_minutes=20), agent(4, calls=0, level=2)]
    assert ids(order_agents(Strategy.FEWEST_CALLS, agents, None)) == [3, 2, 1, 4]


def test_round_robin_goes_on_after_the_last_user():
    agents = [agent(7), agent(3), agent(9), agent(5)]
    assert ids(order_agents(Strategy.ROUND_ROBIN, agents, 5)) == [7, 9, 3, 5]
    assert ids(order_agents(Strategy.ROUND_ROBIN, agents, 6)) == [7, 9, 3, 5]  # the last one went offline
    assert ids(order_agents(Strategy.ROUND_ROBIN, agents, None)) == [3, 5, 7, 9]


def test_round_robin_wraps_after_the_last_user():
    agents = [agent(7), agent(3), agent(9), agent(5)]
    assert ids(order_agents(Strategy.ROUND_ROBIN, agents, 9)) == [3, 5, 7, 9]
    assert ids(order_agents(Strategy.ROUND_ROBIN, agents, 100)) == [3, 5, 7, 9]


def test_round_robin_keeps_the_primary_group_first():
    agents = [agent(2, level=2), agent(8, level=2), agent(3), agent(6)]
    assert ids(order_agents(Strategy.ROUND_ROBIN, agents, 4)) == [6, 3, 8, 2]


def test_backups_come_after_the_primary_group_whatever_the_strategy():
    primary = agent(5, idle_minutes=1, calls=40)
    backup = agent(1, level=2, idle_minutes=500, calls=0)
    for strategy in (Strategy.LONGEST_IDLE, Strategy.FEWEST_CALLS, Strategy.ROUND_ROBIN):
        assert ids(order_agents(strategy, [backup, primary], None)) == [5, 1]


def test_ring_all_rings_the_whole_first_level():
    agents = [agent(4, level=2), agent(7), agent(2), agent(9, level=3)]
    assert sorted(ids(order_agents(Strategy.RING_ALL, agents, None))) == [2, 7]
    # no primary agent ready: the backups all ring
    assert sorted(ids(order_agents(Strategy.RING_ALL, [agent(4, level=2), agent(1, level=2),
                                                       agent(9, level=3)], None))) == [1, 4]


def test_strategy_given_as_its_stored_value():
    agents = [agent(1, idle_minutes=1, calls=9), agent(2, idle_minutes=50, calls=5)]
    for strategy in Strategy:
        assert order_agents(strategy.value, agents, 1) == order_agents(strategy, agents, 1)
    assert ids(order_agents("longest_idle", agents, 1)) == [2, 1]
    with pytest.raises(ValueError):
        order_agents("random", agents, None)


LEVEL_AGENTS = st.lists(
    st.builds(AgentSnapshot, user_id=st.integers(1, 60), level=st.integers(1, 3),
              idle_since=st.datetimes(min_value=datetime(2026, 6, 15, 8), max_value=datetime(2026, 6, 15, 18)),
              calls_today=st.integers(0, 40)),
    max_size=12,
    unique_by=lambda a: a.user_id,
)


@FAST
@given(st.sampled_from([Strategy.LONGEST_IDLE, Strategy.FEWEST_CALLS, Strategy.ROUND_ROBIN]), LEVEL_AGENTS,
       st.none() | st.integers(0, 70))
def test_order_is_a_permutation_honouring_levels(strategy, agents, last):
    ordered = order_agents(strategy, agents, last)
    assert sorted(ids(ordered)) == sorted(ids(agents))
    assert [a.level for a in ordered] == sorted(a.level for a in agents)
    for level in {a.level for a in agents}:
        group = [a for a in ordered if a.level == level]
        if strategy is Strategy.LONGEST_IDLE:
            assert [a.idle_since for a in group] == sorted(a.idle_since for a in group)
        elif strategy is Strategy.FEWEST_CALLS:
            assert [(a.calls_today, a.idle_since) for a in group] == sorted(
                (a.calls_today, a.idle_since) for a in group)
        else:
            # a rotation of the ids in ascending order, starting after the last user offered
            after = sorted(a.user_id for a in group if a.user_id > (last or 0))
            before = sorted(a.user_id for a in group if a.user_id <= (last or 0))
            assert ids(group) == after + before


@FAST
@given(LEVEL_AGENTS, st.none() | st.integers(0, 70))
def test_ring_all_returns_only_the_first_level(agents, last):
    ringing = order_agents(Strategy.RING_ALL, agents, last)
    if not agents:
        assert ringing == []
        return
    first = min(a.level for a in agents)
    assert sorted(ids(ringing)) == sorted(a.user_id for a in agents if a.level == first)


# --------------------------------------------------------------------------
# Who waits first
# --------------------------------------------------------------------------


def test_vip_before_important_before_normal_then_first_come():
    callers = [
        ("normal early", CallerPriority.NORMAL, T0),
        ("important late", CallerPriority.IMPORTANT, T0 + timedelta(minutes=9)),
        ("vip latest", CallerPriority.VIP, T0 + timedelta(minutes=10)),
        ("normal late", CallerPriority.NORMAL, T0 + timedelta(minutes=3)),
        ("important early", CallerPriority.IMPORTANT, T0 + timedelta(minutes=1)),
        ("vip early", CallerPriority.VIP, T0 + timedelta(minutes=2)),
    ]
    ordered = sorted(callers, key=lambda c: queue_order(c[1], c[2]))
    assert [c[0] for c in ordered] == ["vip early", "vip latest", "important early", "important late",
                                       "normal early", "normal late"]


def test_queue_order_takes_the_stored_value():
    assert queue_order("vip", T0) == queue_order(CallerPriority.VIP, T0)
    assert queue_order("vip", T0 + timedelta(hours=1)) < queue_order("normal", T0)


@FAST
@given(st.lists(st.tuples(st.sampled_from(CallerPriority), st.datetimes(min_value=datetime(2026, 1, 1),
                                                                        max_value=datetime(2026, 12, 31)))))
def test_queue_order_property(callers):
    ordered = sorted(callers, key=lambda c: queue_order(*c))
    for (p1, t1), (p2, t2) in zip(ordered, ordered[1:]):
        assert p1.rank >= p2.rank
        assert p1.rank > p2.rank or t1 <= t2
