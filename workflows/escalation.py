"""What a neglected deadline is owed now: reminders, urges (催办) and escalations (督办).

Pure rules on plain data. The caller describes each open deadline of an order as a `Watch`
(an assignment's sign-for or reply, or the order's own reply deadline) and passes the keys of
the steps already recorded; `owed` answers what must be recorded now and `next_threshold`
when to look again, so a sweep only reads orders whose next threshold has passed.

DOMAIN.md's defaults: a reminder to the handler at yellow (75% of the allowed time), an urge
the day after the deadline, escalation to supervision with the department head told 5 working
days past it (the SLA policy table holds the delays, per urgency: clock-time orders are urged
the moment they are overdue and escalated within hours). Sign-for deadlines are reminded and
urged, not escalated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from workflows.deadlines import DEFAULT_TZ, Rule, WorkCalendar, due_at


class Step(str, Enum):
    """An owed step, mildest first."""

    REMIND = "remind"        # 提醒: the handler, at yellow
    URGE = "urge"            # 催办: the department, once overdue
    ESCALATE = "escalate"    # 督办: supervision, with the department head told

    def __str__(self) -> str:
        return self.value


#: Who hears of each step.
AUDIENCE = {
    Step.REMIND: ("handler",),
    Step.URGE: ("handler", "department_admin"),
    Step.ESCALATE: ("department_head",),     # the centre sees escalated orders on its board
}


@dataclass(frozen=True)
class Watch:
    """One open deadline: `kind` "sign" or "reply", of an assignment (or of the order when None)."""

    kind: str
    started_at: datetime
    due_at: datetime
    assignment_id: int | None = None
    department_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("sign", "reply"):
            raise ValueError(f"a watch is on a sign-for or a reply deadline, not {self.kind!r}")
        for name in ("started_at", "due_at"):
            value = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


@dataclass(frozen=True)
class Policy:
    """How one order is chased: the urge and escalation delays after its reply deadline.

    They come from the SLA policy table (steps "urge" and "escalate"), so an administrator
    edits them beside the deadlines. None: never done automatically. A sign-for deadline is
    reminded at the same ratio and urged the moment it passes.
    """

    urge_after: Rule | None
    escalate_after: Rule | None
    remind_ratio: float = 0.75

    def __post_init__(self) -> None:
        if not 0.0 < self.remind_ratio < 1.0:
            raise ValueError(f"remind_ratio must be within (0, 1), got {self.remind_ratio}")


#: DOMAIN.md's general case: urged the working day after the deadline, escalated 5 working days past it.
GENERAL = Policy(urge_after=Rule.working_days(1), escalate_after=Rule.working_days(5))


@dataclass(frozen=True)
class Owed:
    """A step to record now, once: `key` is the same however often or wherever it is computed."""

    step: Step
    watch: Watch
    at: datetime                   # the instant it fell due
    audience: tuple[str, ...]

    @property
    def key(self) -> str:
        return step_key(self.step, self.watch)


def step_key(step: Step, watch: Watch) -> str:
    """Idempotency key of one step on one deadline; a new deadline (extension, reopen) has new keys."""
    subject = f"a{watch.assignment_id}" if watch.assignment_id is not None else "order"
    return f"{step.value}:{watch.kind}:{subject}:{watch.due_at.astimezone(DEFAULT_TZ).isoformat()}"


def thresholds(watch: Watch, policy: Policy, cal: WorkCalendar, tz: ZoneInfo = DEFAULT_TZ) -> dict[Step, datetime]:
    """The instant each step falls due for this deadline (in UTC)."""
    out = {Step.REMIND: watch.started_at + (watch.due_at - watch.started_at) * policy.remind_ratio}
    if watch.kind == "sign":
        out[Step.URGE] = watch.due_at
        return out
    if policy.urge_after is not None:
        out[Step.URGE] = due_at(watch.due_at, policy.urge_after, cal, tz)
    if policy.escalate_after is not None:
        out[Step.ESCALATE] = due_at(watch.due_at, policy.escalate_after, cal, tz)
    return out


#: Steps from mildest to most severe, and each one's rank.
ORDER = list(Step)
RANK = {step: n for n, step in enumerate(ORDER)}


def assess(watches: list[Watch], policy: Policy, now: datetime, recorded: set[str], cal: WorkCalendar,
           tz: ZoneInfo = DEFAULT_TZ) -> tuple[list[Owed], datetime | None]:
    """What is owed at `now` (see `owed`) and when to look again (see `next_threshold`), in one go."""
    found: list[Owed] = []
    upcoming: datetime | None = None
    for watch in watches:
        passed = []
        for step, at in thresholds(watch, policy, cal, tz).items():
            if at <= now:
                passed.append((step, at))
            elif upcoming is None or at < upcoming:
                upcoming = at
        if not passed:
            continue
        step, at = max(passed, key=lambda item: RANK[item[0]])
        if any(step_key(s, watch) in recorded for s in ORDER[RANK[step]:]):
            continue
        found.append(Owed(step, watch, at, AUDIENCE[step]))
    return found, upcoming


def owed(watches: list[Watch], policy: Policy, now: datetime, recorded: set[str], cal: WorkCalendar,
         tz: ZoneInfo = DEFAULT_TZ) -> list[Owed]:
    """The steps owed at `now` and not yet `recorded` (by key), at most one per deadline.

    Where several steps of one deadline have passed unrecorded (the order was late before the
    sweep first saw it, or the sweep was down), only the most severe is owed: nobody needs a
    yellow reminder about an order that is being escalated.
    """
    return assess(watches, policy, now, recorded, cal, tz)[0]


def next_threshold(watches: list[Watch], policy: Policy, now: datetime, cal: WorkCalendar,
                   tz: ZoneInfo = DEFAULT_TZ) -> datetime | None:
    """The first instant after `now` at which a step falls due; None when nothing more ever will."""
    return assess(watches, policy, now, set(), cal, tz)[1]
