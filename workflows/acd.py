"""Automatic call distribution: agent states, caller priority, and who gets the next call.

Pure rules; the telephony worker and the agent pages apply them to shared state.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.enums import TitledEnum


class AgentState(TitledEnum):
    OFFLINE = "offline", "离线", "Offline"
    READY = "ready", "示闲", "Ready"
    NOT_READY = "not_ready", "示忙", "Not ready"
    RINGING = "ringing", "振铃", "Ringing"
    ON_CALL = "on_call", "通话中", "On a call"
    AFTER_CALL_WORK = "after_call_work", "话后处理", "After-call work"


class Strategy(TitledEnum):
    LONGEST_IDLE = "longest_idle", "最长空闲优先", "Longest idle"
    FEWEST_CALLS = "fewest_calls", "接听最少优先", "Fewest calls"
    ROUND_ROBIN = "round_robin", "轮询", "Round robin"
    RING_ALL = "ring_all", "同时振铃", "Ring all"


class CallerPriority(TitledEnum):
    """Queue priority of a caller; higher goes first, then the longest waiting."""

    NORMAL = "normal", "普通", "Normal"
    IMPORTANT = "important", "重点", "Important"
    VIP = "vip", "VIP", "VIP"

    @property
    def rank(self) -> int:
        return {CallerPriority.NORMAL: 0, CallerPriority.IMPORTANT: 1, CallerPriority.VIP: 2}[self]


#: States an agent may choose in the page; the others are set by calls.
CHOSEN_STATES = frozenset({AgentState.OFFLINE, AgentState.READY, AgentState.NOT_READY})

#: States in which an agent is on a call (or being offered one) and cannot change it by hand.
BUSY_STATES = frozenset({AgentState.RINGING, AgentState.ON_CALL})

#: Common reasons for "not ready", offered in the page (free text is allowed too).
NOT_READY_REASONS = ("break", "meal", "meeting", "training", "outbound")


def may_choose(current: AgentState, wanted: AgentState) -> bool:
    """Whether an agent may switch from `current` to `wanted` by hand.

    A call in progress (or ringing) decides the state until it ends; after-call work ends
    when the agent says so (Ready / Not ready) or when its time runs out.
    """
    return AgentState(wanted) in CHOSEN_STATES and AgentState(current) not in BUSY_STATES


@dataclass(frozen=True)
class AgentSnapshot:
    user_id: int
    #: Skill level in the queue: 1 is the primary group, larger numbers are backups.
    level: int
    idle_since: datetime
    calls_today: int


def order_agents(strategy: Strategy, agents: list[AgentSnapshot], last_user_id: int | None) -> list[AgentSnapshot]:
    """Ready agents in the order the queue's strategy offers them a call.

    The primary skill group always comes before the backups; the strategy orders within
    a level.  Ring-all returns the whole first level (all of them ring at once).
    """
    # a plain string ("longest_idle") must not fall through to round robin; unknown ones raise
    strategy = Strategy(strategy)
    if not agents:
        return []
    if strategy is Strategy.LONGEST_IDLE:
        key = lambda a: (a.level, a.idle_since, a.user_id)  # noqa: E731
    elif strategy is Strategy.FEWEST_CALLS:
        key = lambda a: (a.level, a.calls_today, a.idle_since, a.user_id)  # noqa: E731
    else:
        # round robin (and ring-all's level order): the next user id after the last one offered
        pivot = last_user_id or 0
        key = lambda a: (a.level, a.user_id <= pivot, a.user_id)  # noqa: E731
    ordered = sorted(agents, key=key)
    if strategy is Strategy.RING_ALL:
        first = ordered[0].level
        return [a for a in ordered if a.level == first]
    return ordered


def queue_order(priority: CallerPriority, entered_at: datetime) -> tuple[int, datetime]:
    """Sort key of a waiting caller: higher priority first, then first come."""
    return (-CallerPriority(priority).rank, entered_at)
