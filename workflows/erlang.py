"""Erlang C: how many agents a queue needs for a service level, from calls and handle time.

The M/M/N queue: calls arrive at random (Poisson), handle times are exponential, nobody hangs
up while waiting. With A = calls × handle time / interval (the traffic, in erlangs) and N agents:

- the probability that a call waits, Pw = C(N, A) (Erlang's C formula),
- the share answered within t seconds, SL = 1 − Pw · e^(−(N − A) · t / AHT),
- the average speed of answer, ASA = Pw · AHT / (N − A).

C is computed from Erlang B's recurrence (B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)),
C = N·B / (N − A·(1 − B))), which stays exact for hundreds of agents where the factorials of
the textbook form overflow. Pure Python: no Flask, no database.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def traffic(calls: float, aht_seconds: float, interval_seconds: float) -> float:
    """The work offered in an interval, in erlangs (agents kept busy the whole interval)."""
    if interval_seconds <= 0:
        raise ValueError("the interval must be longer than 0 seconds")
    return max(calls, 0) * max(aht_seconds, 0) / interval_seconds


def erlang_b(agents: int, a: float) -> float:
    """The probability that a call finds every agent busy when busy callers are lost (Erlang B)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = a * b / (n + a * b)
    return b


def wait_probability(agents: int, a: float) -> float:
    """Erlang C: the probability that a call has to wait. 1 when the agents cannot keep up (N ≤ A)."""
    if a <= 0:
        return 0.0
    if agents <= a:
        return 1.0
    b = erlang_b(agents, a)
    return agents * b / (agents - a * (1 - b))


def service_level(agents: int, a: float, aht_seconds: float, target_seconds: float) -> float:
    """The share of calls answered within `target_seconds`."""
    if a <= 0:
        return 1.0
    if agents <= a:
        return 0.0
    pw = wait_probability(agents, a)
    return max(0.0, 1 - pw * math.exp(-(agents - a) * target_seconds / aht_seconds))


def average_speed_of_answer(agents: int, a: float, aht_seconds: float) -> float:
    """The average wait of all calls (those answered at once count 0 seconds); infinite when N ≤ A."""
    if a <= 0:
        return 0.0
    if agents <= a:
        return math.inf
    return wait_probability(agents, a) * aht_seconds / (agents - a)


@dataclass(frozen=True)
class Staffing:
    """The fewest agents that reach the target, and what they achieve."""

    agents: int
    traffic: float
    wait_probability: float
    service_level: float
    asa: float
    occupancy: float


def agents_needed(calls: float, aht_seconds: float, interval_seconds: float, target_seconds: float,
                  target_level: float, *, max_occupancy: float | None = None) -> Staffing:
    """The fewest agents answering `target_level` (0.8 for 80 %) of `calls` within `target_seconds`,
    and, when given, keeping each agent busy at most `max_occupancy` of the time."""
    if not 0 < target_level < 1:
        raise ValueError("the target service level is a share between 0 and 1 (0.8 for 80 %)")
    a = traffic(calls, aht_seconds, interval_seconds)
    if a <= 0:
        return Staffing(0, 0.0, 0.0, 1.0, 0.0, 0.0)
    n = max(1, math.floor(a) + 1)
    while True:
        level = service_level(n, a, aht_seconds, target_seconds)
        if level >= target_level and (max_occupancy is None or a / n <= max_occupancy):
            return Staffing(n, a, wait_probability(n, a), level, average_speed_of_answer(n, a, aht_seconds), a / n)
        n += 1


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` are at their phones when a share `shrinkage` of paid
    time goes to breaks, meetings, training and absence (0.3 for 30 %)."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage is a share from 0 up to (not including) 1")
    return math.ceil(agents / (1 - shrinkage) - 1e-9)
