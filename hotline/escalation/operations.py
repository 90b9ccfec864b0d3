"""The escalation sweep: record, once each, the reminders, urges and escalations open deadlines owe.

It reads only assignments whose next threshold has passed (or whose deadlines changed), in
batches of plain rows; for each it asks workflows/escalation what is owed, records it on the
order as the system (tickets.operations.record_chases), queues the notices in the same
transaction, and stores the next instant to look again: a few statements per batch.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.auth.models import User
from hotline.departments.models import Department
from hotline.core.base import utcnow
from hotline.core.bulk import update_each
from hotline.escalation.models import PeriodicLock
from hotline.extensions import db
from hotline.messaging import operations as messages
from hotline.sla import service as sla
from hotline.sla.models import CalendarYear, SlaPolicy
from hotline.tickets import operations as tickets
from hotline.tickets.models import Assignment, Ticket, TicketEvent
from workflows import deadlines as dl
from workflows import escalation
from workflows.states import ASSIGNMENT_ACTIVE, FINAL, REVIEW, AssignmentStatus, Role, TicketStatus

log = logging.getLogger(__name__)

BATCH = 1000
#: The template of the notice each step sends.
TEMPLATES = {(escalation.Step.REMIND, "reply"): "reminder", (escalation.Step.URGE, "reply"): "urge",
             (escalation.Step.ESCALATE, "reply"): "escalation", (escalation.Step.REMIND, "sign"): "sign_reminder",
             (escalation.Step.URGE, "sign"): "sign_urge"}
#: Who each audience of workflows/escalation.AUDIENCE is, as roles of the assignment's department or the centre.
DEPARTMENT_ROLES = {"handler": {Role.DEPARTMENT_HANDLER}, "department_admin": {Role.DEPARTMENT_ADMIN},
                    "department_head": {Role.DEPARTMENT_ADMIN}}
CENTRE_ROLES = REVIEW      # the centre sees escalated orders on the board; it is told only where an audience says so


@dataclass
class SweepResult:
    looked_at: int = 0
    recorded: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in escalation.Step})
    notices: int = 0
    #: where the next batch starts: (next_check_at, id) of the last assignment looked at
    last: tuple[datetime, int] | None = None

    def add(self, other: SweepResult) -> None:
        self.looked_at += other.looked_at
        self.notices += other.notices
        for step, n in other.recorded.items():
            self.recorded[step] += n


@dataclass(frozen=True)
class Looked:
    """What the sweep reads of one assignment and its order (plain columns, no ORM objects)."""

    id: int
    ticket_id: int
    department_id: int
    parent_id: int | None
    department: str
    duty_phone: str | None
    status: AssignmentStatus
    dispatched_at: datetime
    sign_due_at: datetime | None
    signed_at: datetime | None
    reply_due_at: datetime | None
    replied_at: datetime | None
    ticket_status: TicketStatus
    number: str
    subject: str
    urgency: str
    type: str


COLUMNS = (Assignment.id, Assignment.ticket_id, Assignment.department_id, Assignment.parent_id, Department.name,
           Department.duty_phone, Assignment.status,
           Assignment.dispatched_at, Assignment.sign_due_at, Assignment.signed_at, Assignment.reply_due_at,
           Assignment.replied_at, Ticket.status, Ticket.number, Ticket.subject, Ticket.urgency, Ticket.type)


def watches_of(a: Looked) -> list[escalation.Watch]:
    """The deadlines of one assignment that can still be neglected."""
    if a.status not in ASSIGNMENT_ACTIVE or a.ticket_status in FINAL:
        return []
    found = []
    if a.status is AssignmentStatus.AWAITING_SIGN and a.sign_due_at and a.signed_at is None:
        found.append(escalation.Watch("sign", a.dispatched_at, a.sign_due_at, a.id, a.department_id))
    if a.reply_due_at and a.replied_at is None:
        found.append(escalation.Watch("reply", a.dispatched_at, a.reply_due_at, a.id, a.department_id))
    return found


class _Sweep:
    """One batch's caches: policies per kind of order, recipients per department."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.cal = sla.calendar()
        self.tz = sla.local_tz()
        self.policies: dict[tuple[str, str], escalation.Policy] = {}
        self.people: dict[tuple[int | None, frozenset], list[User]] = {}
        self.told: dict[tuple[int, tuple[str, ...]], list[User]] = {}

    def policy(self, a: Looked) -> escalation.Policy:
        """The order's chasing policy; a sub-unit is reminded and urged, its parent is what escalates."""
        kind = (a.urgency, a.type, a.parent_id is None)
        if kind not in self.policies:
            self.policies[kind] = escalation.Policy(
                urge_after=sla.rule_or_none("urge", a.urgency, a.type),
                escalate_after=sla.rule_or_none("escalate", a.urgency, a.type) if a.parent_id is None else None)
        return self.policies[kind]

    def recipients(self, department_id: int, audience: tuple[str, ...]) -> list[User]:
        key = (department_id, audience)
        if key not in self.told:
            self.told[key] = self._recipients(department_id, audience)
        return self.told[key]

    def _recipients(self, department_id: int, audience: tuple[str, ...]) -> list[User]:
        dept_roles = frozenset(r for a in audience for r in DEPARTMENT_ROLES.get(a, ()))
        found: dict[int, User] = {}
        for dept, roles in ((department_id, dept_roles), (None, frozenset(CENTRE_ROLES) if "centre" in audience
                                                           else frozenset())):
            if not roles:
                continue
            key = (dept, roles)
            if key not in self.people:
                query = sa.select(User).where(User.is_active.is_(True), User.role.in_(roles))
                query = query.where(User.department_id == dept) if dept else query
                self.people[key] = list(db.session.scalars(query.order_by(User.id)))
            found.update((u.id, u) for u in self.people[key])
        return list(found.values())


def _recorded(ids: list[int]) -> dict[int, set[str]]:
    """The keys of the steps already recorded on these assignments."""
    rows = db.session.execute(sa.select(TicketEvent.assignment_id, TicketEvent.data).where(
        TicketEvent.assignment_id.in_(ids), TicketEvent.actor_id.is_(None),
        TicketEvent.action.in_(set(tickets.CHASE_EVENTS.values()))))
    found: dict[int, set[str]] = {}
    for assignment_id, data in rows:
        if data and data.get("key"):
            found.setdefault(assignment_id, set()).add(data["key"])
    return found


def _notices(run: _Sweep, item: escalation.Owed, a: Looked) -> list[dict]:
    """The notices one owed step sends (rows for messaging.queue_messages)."""
    recipients = run.recipients(a.department_id, item.audience)
    params = {"number": a.number, "title": a.subject, "department": a.department,
              "due": sla.format_local(item.watch.due_at)}
    # queued at the real now (not a simulated `--at`), so that they go out at once
    return messages.department_notice_rows(intent=item.key, template=TEMPLATES[(item.step, item.watch.kind)],
                                           params=params, recipients=recipients, duty_phone=a.duty_phone,
                                           ticket_id=a.ticket_id, urgent=a.urgency == "urgent")


def sweep_batch(now: datetime | None = None, *, after: tuple[datetime, int] | None = None,
                limit: int = BATCH) -> SweepResult:
    """Look at up to `limit` assignments due for a look, in the order they fell due (after the key
    `after`, the previous batch's last); the caller commits."""
    now = now or utcnow()
    run = _Sweep(now)
    result = SweepResult()
    # Walked in (next_check_at, id) order, the order of the ix_assignments_next_check index: the scan
    # starts after the previous batch and stops at the batch's limit or at `now`, whatever the backlog
    # (ordered by id, PostgreSQL walked the primary key and filtered a million rows to find the
    # hundred due; ordered by next_check_at alone, 190,000 orders falling due at one instant were
    # sorted again for every batch).
    # Rows a person is changing right now are skipped (PostgreSQL: locked in the order the lifecycle
    # actions lock, order then assignment) and looked at next pass; those read stay locked until the
    # caller commits, so nothing read here changes before it is written. On SQLite the caller's
    # write to the lock row (renew_lock) holds the database's write lock for the same purpose.
    due = Assignment.next_check_at <= now
    if after is not None:      # a row comparison the (next_check_at, id) index answers by itself
        due = sa.and_(due, sa.tuple_(Assignment.next_check_at, Assignment.id) > sa.tuple_(*after))
    batch = [(Looked(*row[:15], row[15].value, row[16].value), row[17]) for row in db.session.execute(
        sa.select(*COLUMNS, Assignment.next_check_at).join(Ticket, Ticket.id == Assignment.ticket_id)
        .join(Department, Department.id == Assignment.department_id)
        .where(due).order_by(Assignment.next_check_at, Assignment.id).limit(limit)
        .with_for_update(of=[Ticket.__table__, Assignment.__table__], skip_locked=True))]
    if not batch:
        return result
    result.last = (batch[-1][1], batch[-1][0].id)
    batch = [a for a, _next_check in batch]
    recorded = _recorded([a.id for a in batch])
    chases: list[dict] = []
    notices: list[dict] = []
    next_checks: list[dict] = []
    for a in batch:
        result.looked_at += 1
        watches = watches_of(a)
        policy = run.policy(a)
        try:
            owed, next_check = escalation.assess(watches, policy, now, recorded.get(a.id, set()), run.cal, run.tz)
        except dl.CalendarMissing as err:
            log.error("assignment %s of order %s: %s; looked at again in an hour", a.id, a.number, err)
            owed, next_check = [], now + timedelta(hours=1)
        next_checks.append({"id": a.id, "next": next_check})
        for item in owed:
            chases.append({"ticket_id": a.ticket_id, "assignment_id": a.id, "step": item.step.value, "data": {
                "key": item.key, "step": item.step.value, "deadline": item.watch.kind,
                "due_at": item.watch.due_at.isoformat(), "automatic": True}})
            result.recorded[item.step.value] += 1
            notices.extend(_notices(run, item, a))
    assignments = Assignment.__table__
    update_each(assignments, next_checks, {"id": sa.Integer(), "next": assignments.c.next_check_at.type},
                lambda v: {"next_check_at": v.next})
    tickets.record_chases(chases, at=now)
    result.notices = messages.queue_messages(notices)
    return result


def acquire_lock(name: str, ttl: timedelta) -> str | None:
    """Take the lease `name` for `ttl` if nobody holds it; the holder's id, or None."""
    now = utcnow()
    holder = f"{socket.gethostname()}:{os.getpid()}:{id(now)}"
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(PeriodicLock).values(name=name, holder="", held_until=now - timedelta(seconds=1))
                       .on_conflict_do_nothing(index_elements=["name"]))
    won = db.session.execute(sa.update(PeriodicLock).where(PeriodicLock.name == name, PeriodicLock.held_until < now)
                             .values(holder=holder, held_until=now + ttl)).rowcount
    return holder if won else None


def renew_lock(name: str, holder: str, ttl: timedelta) -> bool:
    """Keep holding `name` for another `ttl`; False when it was lost (it ran out and another took it)."""
    return bool(db.session.execute(
        sa.update(PeriodicLock).where(PeriodicLock.name == name, PeriodicLock.holder == holder)
        .values(held_until=utcnow() + ttl)).rowcount)


def rules_fingerprint() -> str:
    """What the thresholds are computed from: the calendar's versions and every policy row."""
    versions = db.session.execute(sa.select(CalendarYear.year, CalendarYear.version).order_by(CalendarYear.year)).all()
    policies = db.session.execute(sa.select(SlaPolicy.step, SlaPolicy.urgency, SlaPolicy.ticket_type, SlaPolicy.amount,
                                            SlaPolicy.unit).order_by(SlaPolicy.id)).all()
    text = repr([tuple(map(str, v)) for v in versions]) + repr([tuple(map(str, p)) for p in policies])
    return hashlib.sha256(text.encode()).hexdigest()


def look_again_if_rules_changed(name: str, holder: str) -> int:
    """After an edit of the calendar or a policy, every open assignment is looked at again (its stored
    next threshold was computed under the old rules); returns how many were."""
    fingerprint = rules_fingerprint()
    lock = db.session.get(PeriodicLock, name)
    if lock is None or lock.holder != holder or lock.rules == fingerprint:
        return 0
    count = db.session.execute(
        sa.update(Assignment).where(Assignment.status.in_(ASSIGNMENT_ACTIVE))
        .values(next_check_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    previous, lock.rules = lock.rules, fingerprint
    db.session.flush()
    if previous is not None:
        log.info("calendar or deadline policies changed: %d open assignments looked at again", count)
    return count


def release_lock(name: str, holder: str) -> None:
    db.session.execute(sa.update(PeriodicLock).where(PeriodicLock.name == name, PeriodicLock.holder == holder)
                       .values(held_until=utcnow() - timedelta(seconds=1)))
