"""Call-centre statistics (BCMS): the figures of callers' visits to queues and of agents' time.

The raw material is the queue log (one line per event, never changed) and the agents' state
changes; the application reads them for a period and hands them here as plain rows.

A caller's **visit** to a queue starts when they enter it; it belongs to the period (and the
half hour) in which they entered, even when it ends after. It ends answered by an agent,
abandoned (the caller hung up while waiting) or overflowed to voicemail; an answered visit
then completes (talk time) and the agent's after-call work ends (ACW time).

| figure | definition |
|---|---|
| offered | visits (callers who entered a queue) |
| answered, abandoned, overflow | visits that ended so |
| short abandons | abandoned after waiting less than the short-abandon threshold (misdials, changed minds) |
| answer rate 接通率 | answered / offered (DOMAIN.md) |
| abandon rate 呼损率 | (abandoned − short abandons) / (offered − short abandons) |
| service level | answered within the threshold / (answered + abandoned + overflow − short abandons) |
| ASA | average wait of the answered |
| longest wait | the longest wait of any visit that ended |
| average abandon wait | average wait of the abandoned (short ones included) |
| average talk time | talk seconds / completed calls |
| ACW | after-call work seconds / completed calls (0 for a call with no after-call work) |
| AHT | (talk + after-call work) / completed calls |

Pure Python: no Flask, no database.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Callable, Iterable

ANSWERED, ABANDONED, OVERFLOW = "answered", "abandoned", "overflow"
#: Half-hour intervals of a day: 0 is 00:00–00:30, 47 is 23:30–24:00.
SLOTS = 48
SLOT_SECONDS = 1800


@dataclass(frozen=True)
class LogRow:
    """One line of the queue log (event is the QueueEvent's value)."""

    call_id: int
    queue_id: int
    event: str
    at: datetime
    agent_id: int | None = None
    wait: float | None = None
    talk: float | None = None
    acw: float | None = None


@dataclass
class Visit:
    call_id: int
    queue_id: int
    entered_at: datetime
    outcome: str | None = None
    wait: float | None = None
    agent_id: int | None = None
    talk: float | None = None
    acw: float | None = None
    #: Agents whose phone rang for this caller, in order.
    offered_to: list[int] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.outcome == ANSWERED and self.talk is not None


def visits(rows: Iterable[LogRow]) -> list[Visit]:
    """The visits of the log's rows (in any order); rows of a visit whose entry is missing are left out."""
    open_: dict[tuple[int, int], Visit] = {}
    out: list[Visit] = []
    for row in sorted(rows, key=lambda r: (r.at, _ORDER.get(r.event, 9))):
        key = (row.call_id, row.queue_id)
        if row.event == "entered":
            open_[key] = Visit(row.call_id, row.queue_id, row.at)
            out.append(open_[key])
            continue
        visit = open_.get(key)
        if visit is None:
            continue
        if row.event == "offered" and row.agent_id is not None:
            visit.offered_to.append(row.agent_id)
        elif row.event in (ANSWERED, ABANDONED, OVERFLOW) and visit.outcome is None:
            visit.outcome, visit.wait = row.event, row.wait
            if row.event == ANSWERED:
                visit.agent_id = row.agent_id
        elif row.event == "completed" and visit.outcome == ANSWERED:
            visit.talk = (visit.talk or 0.0) + (row.talk or 0.0)
        elif row.event == "acw_ended" and visit.outcome == ANSWERED:
            visit.acw = (visit.acw or 0.0) + (row.acw or 0.0)
    return out


#: Events logged at the same instant happen in this order.
_ORDER = {"entered": 0, "offered": 1, "answered": 2, "abandoned": 2, "overflow": 2, "completed": 3, "acw_ended": 4}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def figures(group: list[Visit], threshold: float, short: float) -> dict:
    """The BCMS figures of a group of visits (see the table above); seconds as floats, rates 0–1."""
    answered = [v for v in group if v.outcome == ANSWERED]
    abandoned = [v for v in group if v.outcome == ABANDONED]
    overflow = [v for v in group if v.outcome == OVERFLOW]
    short_ = [v for v in abandoned if v.wait is not None and v.wait < short]
    within = [v for v in answered if v.wait is not None and v.wait <= threshold]
    ended = answered + abandoned + overflow
    done = [v for v in answered if v.completed]
    talk = sum(v.talk or 0.0 for v in done)
    acw = sum(v.acw or 0.0 for v in done)
    waits = [v.wait for v in ended if v.wait is not None]
    return {
        "offered": len(group), "answered": len(answered), "abandoned": len(abandoned),
        "short_abandoned": len(short_), "overflow": len(overflow), "within": len(within),
        "answer_rate": _share(len(answered), len(group)),
        "abandon_rate": _share(len(abandoned) - len(short_), len(group) - len(short_)),
        "service_level": _share(len(within), len(ended) - len(short_)),
        "asa": _mean([v.wait for v in answered if v.wait is not None]),
        "longest_wait": max(waits) if waits else None,
        "abandon_wait": _mean([v.wait for v in abandoned if v.wait is not None]),
        "completed": len(done), "talk_seconds": talk, "acw_seconds": acw,
        "talk": talk / len(done) if done else None,
        "acw": acw / len(done) if done else None,
        "aht": (talk + acw) / len(done) if done else None,
    }


def by(group: list[Visit], key: Callable[[Visit], object], threshold: float, short: float) -> dict:
    """The figures of each bucket of `key` (only buckets with visits)."""
    buckets: dict[object, list[Visit]] = defaultdict(list)
    for v in group:
        buckets[key(v)].append(v)
    return {k: figures(vs, threshold, short) for k, vs in buckets.items()}


def slot_of(at: datetime, tz: tzinfo) -> int:
    """The half hour of the local day `at` falls in (0–47)."""
    local = at.astimezone(tz)
    return local.hour * 2 + (1 if local.minute >= 30 else 0)


def slot_label(slot: int) -> str:
    start = slot * 30
    end = start + 30
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


def agent_figures(group: list[Visit]) -> dict[int, dict]:
    """Per agent: calls answered and completed, talk and after-call work, and offers not taken
    (the phone rang for a caller the agent did not answer)."""
    out: dict[int, dict] = defaultdict(lambda: {"answered": 0, "completed": 0, "talk_seconds": 0.0,
                                                 "acw_seconds": 0.0, "missed": 0})
    for v in group:
        if v.outcome == ANSWERED and v.agent_id is not None:
            row = out[v.agent_id]
            row["answered"] += 1
            if v.completed:
                row["completed"] += 1
                row["talk_seconds"] += v.talk or 0.0
                row["acw_seconds"] += v.acw or 0.0
        for agent in set(v.offered_to):
            if agent != v.agent_id:
                out[agent]["missed"] += 1
    for row in out.values():
        n = row["completed"]
        row["talk"] = row["talk_seconds"] / n if n else None
        row["acw"] = row["acw_seconds"] / n if n else None
        row["aht"] = (row["talk_seconds"] + row["acw_seconds"]) / n if n else None
    return dict(out)


# -- agents' time -----------------------------------------------------------------------------

@dataclass(frozen=True)
class StateChange:
    """An agent entered `state` (an AgentState value) at `at`, with a reason when not ready."""

    user_id: int
    state: str
    at: datetime
    reason: str | None = None


def intervals(changes: Iterable[StateChange], lo: datetime, hi: datetime):
    """(user, state, reason, start, end) of each stretch of an agent's time within [lo, hi).

    `changes` holds each agent's changes in [lo, hi) and the last one before `lo` (the state
    the period starts in); the last stretch runs to `hi` (pass now when the period is not over).
    """
    per_user: dict[int, list[StateChange]] = defaultdict(list)
    for c in changes:
        per_user[c.user_id].append(c)
    for user, items in per_user.items():
        items.sort(key=lambda c: c.at)
        for i, c in enumerate(items):
            end = items[i + 1].at if i + 1 < len(items) else hi
            start, end = max(c.at, lo), min(end, hi)
            if end > start:
                yield user, c.state, c.reason, start, end


def state_seconds(changes: Iterable[StateChange], lo: datetime, hi: datetime) -> dict[int, dict]:
    """Per agent: seconds in each state ({state: seconds}) and, when not ready, per reason
    ({"not_ready_reasons": {reason: seconds}})."""
    out: dict[int, dict] = defaultdict(lambda: {"not_ready_reasons": defaultdict(float)})
    for user, state, reason, start, end in intervals(changes, lo, hi):
        seconds = (end - start).total_seconds()
        row = out[user]
        row[state] = row.get(state, 0.0) + seconds
        if state == "not_ready":
            row["not_ready_reasons"][reason or ""] += seconds
    return {u: {**r, "not_ready_reasons": dict(r["not_ready_reasons"])} for u, r in out.items()}


def presence_by_slot(changes: Iterable[StateChange], lo: datetime, hi: datetime, tz: tzinfo,
                     states: frozenset[str]) -> list[float]:
    """Agent-seconds spent in `states` in each half hour of the local day, added over the days of
    [lo, hi): divided by the number of days × 1800 it is the average number of such agents."""
    out = [0.0] * SLOTS
    for _user, state, _reason, start, end in intervals(changes, lo, hi):
        if state not in states:
            continue
        t = start
        while t < end:
            local = t.astimezone(tz)
            boundary = local.replace(minute=0 if local.minute < 30 else 30, second=0, microsecond=0) \
                + timedelta(minutes=30)
            piece_end = min(end, boundary)
            out[slot_of(t, tz)] += (piece_end - t).total_seconds()
            t = piece_end
    return out


# -- first-call resolution --------------------------------------------------------------------

def repeat_callers(answers: Iterable[tuple[object, str | None, datetime]],
                   calls_by_phone: dict[str, list[datetime]], days: int) -> set:
    """The answers (key, phone, answered at) whose caller called again within `days` days after it."""
    window = timedelta(days=days)
    repeated = set()
    for key, phone, at in answers:
        if not phone:
            continue
        if any(at < started <= at + window for started in calls_by_phone.get(phone, ())):
            repeated.add(key)
    return repeated
