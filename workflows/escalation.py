"""What a neglected deadline is owed now: reminders, urges (催办) and escalations (督办).

Pure rules on plain data. The caller describes each open deadline of an order as a `Watch`
(an assignment's sign-for or reply, or the order's own reply deadline) and passes the keys of
the steps already recorded; `owed` answers what must be recorded now and `next_threshold`
when to look again, so a sweep only reads orders whose next threshold has passed.

The defaults are DOMAIN.md's: a reminder to the handler at yellow (75% of the allowed time),
an urge the day after the deadline, escalation to supervision with the department head told
5 working days past it. Clock-time orders (urgent, utilities) are urged at once when overdue
and escalated within hours. Sign-for deadlines are reminded and urged, not escalated.
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
    Step.ESCALATE: ("department_head", "centre"),
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
class StepRule:
    """When one step falls due for one deadline kind and urgency.

    REMIND: at `ratio` of the allowed time; URGE and ESCALATE: `after` the deadline.
    """

    step: Step
    kind: str
    urgency: str | None            # None: any urgency
    ratio: float | None = None
    after: Rule | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", Step(self.step))
        if (self.ratio is None) == (self.after is None):
            raise ValueError("a step rule has either a ratio of the allowed time or a delay after the deadline")
        if self.ratio is not None and not 0.0 < self.ratio < 1.0:
            raise ValueError(f"ratio must be within (0, 1), got {self.ratio}")

    def matches(self, kind: str, urgency: str) -> bool:
        return self.kind == kind and self.urgency in (None, urgency)


#: DOMAIN.md's defaults, as rows an administrator may change.
DEFAULT_RULES: tuple[StepRule, ...] = (
    StepRule(Step.REMIND, "reply", None, ratio=0.75),
    StepRule(Step.URGE, "reply", "general", after=Rule.working_days(1)),
    StepRule(Step.URGE, "reply", "utilities", after=Rule.minutes(0)),
    StepRule(Step.URGE, "reply", "urgent", after=Rule.minutes(0)),
    StepRule(Step.ESCALATE, "reply", "general", after=Rule.working_days(5)),
    StepRule(Step.ESCALATE, "reply", "utilities", after=Rule.hours(4)),
    StepRule(Step.ESCALATE, "reply", "urgent", after=Rule.hours(1)),
    StepRule(Step.REMIND, "sign", None, ratio=0.75),
    StepRule(Step.URGE, "sign", None, after=Rule.minutes(0)),
)


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


def _rules_for(rules: tuple[StepRule, ...], kind: str, urgency: str) -> dict[Step, StepRule]:
    """Per step, the most specific matching rule (an urgency beats any urgency; among equals, the later row)."""
    chosen: dict[Step, StepRule] = {}
    for rule in rules:
        if rule.matches(kind, urgency):
            current = chosen.get(rule.step)
            if current is None or current.urgency is None or rule.urgency is not None:
                chosen[rule.step] = rule
    return chosen


def thresholds(watch: Watch, urgency: str, cal: WorkCalendar, *, rules: tuple[StepRule, ...] = DEFAULT_RULES,
               tz: ZoneInfo = DEFAULT_TZ) -> dict[Step, datetime]:
    """The instant each step falls due for this deadline (in UTC)."""
    out: dict[Step, datetime] = {}
    for step, rule in _rules_for(rules, watch.kind, urgency).items():
        if rule.ratio is not None:
            out[step] = watch.started_at + (watch.due_at - watch.started_at) * rule.ratio
        else:
            assert rule.after is not None
            out[step] = due_at(watch.due_at, rule.after, cal, tz)
    return out


def owed(watches: list[Watch], urgency: str, now: datetime, recorded: set[str], cal: WorkCalendar, *,
         rules: tuple[StepRule, ...] = DEFAULT_RULES, tz: ZoneInfo = DEFAULT_TZ) -> list[Owed]:
    """The steps owed at `now` and not yet `recorded` (by key), at most one per deadline.

    Where several steps of one deadline have passed unrecorded (the order was late before the
    sweep first saw it, or the sweep was down), only the most severe is owed: nobody needs a
    yellow reminder about an order that is being escalated.
    """
    found = []
    for watch in watches:
        passed = [(step, at) for step, at in thresholds(watch, urgency, cal, rules=rules, tz=tz).items() if at <= now]
        if not passed:
            continue
        step, at = max(passed, key=lambda item: list(Step).index(item[0]))
        if any(step_key(s, watch) in recorded for s in list(Step)[list(Step).index(step):]):
            continue
        found.append(Owed(step, watch, at, AUDIENCE[step]))
    return found


def next_threshold(watches: list[Watch], urgency: str, now: datetime, cal: WorkCalendar, *,
                   rules: tuple[StepRule, ...] = DEFAULT_RULES, tz: ZoneInfo = DEFAULT_TZ) -> datetime | None:
    """The first instant after `now` at which a step falls due; None when nothing more ever will."""
    upcoming = [at for watch in watches
                for at in thresholds(watch, urgency, cal, rules=rules, tz=tz).values() if at > now]
    return min(upcoming, default=None)
