"""Work orders and everything that hangs off them."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.citizens.models import Citizen
from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.departments.models import Department
from hotline.extensions import db
from workflows import search
from workflows.states import AssignmentRole, AssignmentStatus, TicketStatus
from workflows.vocabulary import (Channel, ExtensionStatus, ReplyStatus, Satisfaction, TicketType,
                                  Urgency)


#: Orders waiting on a department (workflows.states.WITH_DEPARTMENT), for partial indexes.
WITH_DEPARTMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned')"


class Ticket(db.Model):
    """A work order (工单)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_citizen_created", "citizen_id", "created_at"),
        Index("ix_tickets_status_due", "status", "due_at"),
        Index("ix_tickets_lead_status_due", "lead_department_id", "status", "due_at"),
        # lists filtered by status, newest first (the board's replies to review, a status-filtered list)
        Index("ix_tickets_status_created", "status", "created_at"),
        # orders with a department, in deadline order: the board's red and yellow lists read the first
        # rows of this index instead of sorting every overdue order
        Index("ix_tickets_with_department_due", "due_at", "id",
              postgresql_where=text(WITH_DEPARTMENT_SQL), sqlite_where=text(WITH_DEPARTMENT_SQL)),
        # orders with a department, newest first, their deadlines beside them: the centre's overdue (red) list
        # passes over the open orders not yet due, not over every order registered lately (migration 0040)
        Index("ix_tickets_in_hand_created", "created_at", "id", postgresql_include=["due_at", "sla_started_at"],
              postgresql_where=text(WITH_DEPARTMENT_SQL), sqlite_where=text(WITH_DEPARTMENT_SQL)),
        # any list in deadline order, either way (a department's: its orders' share of the walk, migration 0037),
        # its filters on registration time, category and type (and a department's visibility: status, closing)
        # tested in the index on PostgreSQL (migration 0043)
        Index("ix_tickets_due", "due_at", "id",
              postgresql_include=["created_at", "category_id", "type", "status", "closed_at"]),
        # lists of the rarer channels and urgencies, newest first: without them a channel or urgency few orders
        # have read every order to fill a page (the phone and general ones are most orders: the registration
        # order's walk finds them at once, and they are left out of these on PostgreSQL; SQLite cannot tell that a
        # channel asked for is not 'phone', so its indexes hold every order, migration 0039)
        Index("ix_tickets_rare_channel_created", "channel", "created_at", "id",
              postgresql_where=text("channel <> 'phone'")),
        Index("ix_tickets_rare_urgency_created", "urgency", "created_at", "id",
              postgresql_where=text("urgency <> 'general'")),
        # lists of one type, newest first: a type few orders have read every order without it (migration 0041)
        Index("ix_tickets_type_created", "type", "created_at", "id"),
        # lists of one category, newest first (a category of many asks each of its ids, migration 0042)
        Index("ix_tickets_category_created", "category_id", "created_at", "id"),
        # any range of registration times; the reports' intake by category and lead department
        # (hotspots over weeks or months of history) is counted from this index alone
        Index("ix_tickets_created_category_lead", "created_at", "category_id", "lead_department_id"),
        # the centre's to-do: orders waiting in a status, the longest-waiting first (set by the write path)
        Index("ix_tickets_status_changed", "status", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Human-readable number: local date plus a daily sequence, 20261122000123.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, "ticket_status"))
    type: Mapped[TicketType] = mapped_column(enum_column(TicketType, "ticket_type"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "ticket_channel"))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, "ticket_urgency"))
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    address: Mapped[str | None] = mapped_column(String(255))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    #: Reporter's identity hidden from departments (always true for reports, 举报).
    is_confidential: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the order moved into its current status (the trail's newest step that changed it;
    #: kept by record_event): how long it has waited in the centre's to-do queue.
    status_changed_at: Mapped[datetime | None]
    #: The current lead department (denormalised from the lead assignment for listing).
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: When the current deadline clock started (the lead's dispatch).
    sla_started_at: Mapped[datetime | None]
    #: The order's current deadline: the lead's reply due, or the visit due.
    due_at: Mapped[datetime | None]
    #: The direct answer when the call taker answered without dispatch.
    answer: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction, "ticket_satisfaction"))
    is_resolved: Mapped[bool | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    reopen_count: Mapped[int] = mapped_column(default=0)
    urge_count: Mapped[int] = mapped_column(default=0)
    #: 督办 level: 0 none, 1 supervised, 2+ escalated further.
    supervision_level: Mapped[int] = mapped_column(default=0)

    citizen: Mapped[Citizen | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    lead_department: Mapped[Department | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    merged_into: Mapped["Ticket | None"] = relationship(remote_side=[id])
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="ticket", order_by="Assignment.id", cascade="all, delete-orphan")

    @property
    def lead(self) -> "Assignment | None":
        """The current top-level lead: the newest not withdrawn (a reopened order keeps its done ones)."""
        leads = [a for a in self.assignments
                 if a.role == AssignmentRole.LEAD and a.parent_id is None and a.status != AssignmentStatus.WITHDRAWN]
        return leads[-1] if leads else None


class TicketSearch(db.Model):
    """An order's letter pairs for the lists' keyword search (workflows.search.indexed_text of its subject and
    content), written with the order (`_search_text_on_insert`, `_search_text_on_update`). SQLite's FTS5
    `ticket_search_fts` and PostgreSQL's GIN index of them as a tsvector (migration 0038) index them: a search
    asks for the orders holding the keyword's pairs and reads only those (tickets.search, tickets.queries)."""

    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    grams: Mapped[str] = mapped_column(Text)


class TicketSequence(db.Model):
    """The last number handed out per local day; a row lock makes numbers unique."""

    __tablename__ = "ticket_sequences"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


#: Assignments a department still has to act on (the same list as queries.OVERDUE_ASSIGNMENT).
OPEN_ASSIGNMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned')"
#: A top-level assignment the department handed to the centre: its return or its reply under review.
WAITING_ASSIGNMENT_SQL = "parent_id IS NULL AND status IN ('returned', 'replied')"


#: Live assignments (not withdrawn, not done: states.ASSIGNMENT_LIVE): what a department's inbox sorts into groups.
LIVE_ASSIGNMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned', 'replied')"


#: The inbox's groups of a department's own open work (inbox.queries): what the centre sent back, apart
#: from the rest waiting to be signed for and the rest in hand.
INBOX_SENT_BACK_SQL = "status IN ('awaiting_sign', 'in_progress') AND sent_back_at IS NOT NULL"
INBOX_TO_SIGN_SQL = "status = 'awaiting_sign' AND sent_back_at IS NULL"
INBOX_TO_HANDLE_SQL = "status = 'in_progress' AND sent_back_at IS NULL"


#: Assignments a department signed for and has not answered: the ones that can go quiet.
QUIET_ASSIGNMENT_SQL = "status = 'in_progress'"


class Assignment(db.Model):
    """One department's part in an order: lead or assisting, with its own deadlines."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_dept_status_due", "department_id", "status", "reply_due_at"),
        Index("ix_assignments_dept_ticket", "department_id", "ticket_id"),
        # a department's list, newest orders first: a unit's own assignments in their orders' registration
        # order (with what the visibility check asks of the assignment, migration 0031)
        Index("ix_assignments_dept_ticket_created", "department_id", "ticket_created_at", "ticket_id",
              postgresql_include=["status", "withdrawn_at"]),
        # ... filtered by the order's status: a unit's assignments of orders in one status, newest first, so
        # that a rare status reads its page without walking the rest (the order's status is kept on each of its
        # assignments, migration 0036)
        Index("ix_assignments_dept_ticket_status", "department_id", "ticket_status", "ticket_created_at", "ticket_id",
              postgresql_include=["status", "withdrawn_at"]),
        # ... and a department with sub-units: every assignment newest first, its units' kept
        Index("ix_assignments_ticket_created", "ticket_created_at", "ticket_id",
              postgresql_include=["department_id", "status", "withdrawn_at"]),
        # the reports place assignments in a period by when they were dispatched or fall due
        Index("ix_assignments_dispatched_at", "dispatched_at"),
        Index("ix_assignments_reply_due_at", "reply_due_at"),
        # whether an order was sent to a department at all (the measures' direct and dispatched orders)
        Index("ix_assignments_top_level_ticket", "ticket_id",
              postgresql_where=text("parent_id IS NULL"), sqlite_where=text("parent_id IS NULL")),
        # a department's open work in deadline order: its overdue list reads this index and stops at a page,
        # and counts its exact total from the index alone (the order id is carried in it, migration 0028)
        Index("ix_assignments_open_dept_due", "department_id", "reply_due_at", "id",
              postgresql_include=["ticket_id"],
              postgresql_where=text(OPEN_ASSIGNMENT_SQL), sqlite_where=text(OPEN_ASSIGNMENT_SQL)),
        # the inbox's "with the centre" group, in deadline order: its first cards without walking the rest
        Index("ix_assignments_waiting_dept_due", "department_id", "reply_due_at", "id",
              postgresql_where=text(WAITING_ASSIGNMENT_SQL), sqlite_where=text(WAITING_ASSIGNMENT_SQL)),
        # the inbox's groups, each read in deadline order and counted from its own index, so that the first
        # cards and the capped counts cost the same however much live work a department has (migration 0033)
        Index("ix_assignments_inbox_to_sign", "department_id", "sign_due_at", "id",
              postgresql_where=text(INBOX_TO_SIGN_SQL), sqlite_where=text(INBOX_TO_SIGN_SQL)),
        Index("ix_assignments_inbox_to_handle", "department_id", "reply_due_at", "id",
              postgresql_where=text(INBOX_TO_HANDLE_SQL), sqlite_where=text(INBOX_TO_HANDLE_SQL)),
        Index("ix_assignments_inbox_sent_back", "department_id", "id",
              postgresql_where=text(INBOX_SENT_BACK_SQL), sqlite_where=text(INBOX_SENT_BACK_SQL)),
        # ... and a department admin's sub-units' live work, unit by unit
        Index("ix_assignments_live_dept_due", "department_id", "reply_due_at", "id",
              postgresql_where=text(LIVE_ASSIGNMENT_SQL), sqlite_where=text(LIVE_ASSIGNMENT_SQL)),
        # the escalation sweep's work list: what is due for a look, nothing else
        Index("ix_assignments_next_check", "next_check_at", "id",
              postgresql_where=text("next_check_at IS NOT NULL"), sqlite_where=text("next_check_at IS NOT NULL")),
        # the board's "no progress for N working days": signed-for work by how long it has been quiet
        Index("ix_assignments_quiet", "last_progress_at",
              postgresql_where=text(QUIET_ASSIGNMENT_SQL), sqlite_where=text(QUIET_ASSIGNMENT_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    #: The order's registration instant (it never changes): a department's list reads its assignments in this order.
    ticket_created_at: Mapped[datetime]
    #: The order's status, kept in step with it by the ORM (`_order_status_to_assignments`): a department's
    #: list filtered by status reads its own assignments of orders in that status.
    ticket_status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, "ticket_status"))
    role: Mapped[AssignmentRole] = mapped_column(enum_column(AssignmentRole, "assignment_role"))
    status: Mapped[AssignmentStatus] = mapped_column(enum_column(AssignmentStatus, "assignment_status"))
    #: Set for a sub-dispatch: the department assignment this one reports up to.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    dispatched_at: Mapped[datetime]
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sign_due_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reply_due_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    #: Returns (退单) are accepted until then.
    return_due_at: Mapped[datetime | None]
    #: Working days added by approved extensions.
    extended_days: Mapped[int] = mapped_column(default=0)
    #: True when the department contacted the citizen in time (response rate).
    contacted_citizen: Mapped[bool | None]
    return_reason: Mapped[str | None] = mapped_column(Text)
    #: When the centre last sent this assignment back: rejected its reply or refused its return. Set by
    #: those two steps only (the one write path) and never cleared: an open assignment once sent back
    #: stays in the inbox's "sent back" group.
    sent_back_at: Mapped[datetime | None]
    #: When the assignment was withdrawn (an approved return, a merge, a cancellation).
    withdrawn_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    urge_count: Mapped[int] = mapped_column(default=0)
    #: The department's last word on its work: its sign-for, its latest progress note (过程回复) or
    #: reply, or a sub-unit's below it. None until signed for.
    last_progress_at: Mapped[datetime | None]
    #: When the escalation sweep looks at this assignment next (its next reminder, urge or
    #: escalation); None once nothing more can fall due. Any change to its deadlines or state
    #: sets it to now, so the sweep reads only what crossed a threshold or changed.
    next_check_at: Mapped[datetime | None] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship(lazy="joined")
    parent: Mapped["Assignment | None"] = relationship(remote_side=[id])


def _look_again(target: Assignment, value, oldvalue, initiator) -> None:
    """A deadline or state of an assignment changed: the escalation sweep looks at it next time."""
    if value is not oldvalue and value != oldvalue:
        target.next_check_at = utcnow()


def _order_status_on_insert(mapper, connection, target: Assignment) -> None:
    """A new assignment carries its order's status as the flush writes it (the order is flushed first)."""
    ticket = target.__dict__.get("ticket")
    if ticket is not None:
        target.ticket_status = ticket.status
    else:
        tickets = Ticket.__table__
        target.ticket_status = connection.scalar(
            sa.select(tickets.c.status).where(tickets.c.id == target.ticket_id))


def _order_status_to_assignments(mapper, connection, target: Ticket) -> None:
    """An order's status changed: its assignments carry the new one (in the same flush and transaction)."""
    if not sa.inspect(target).attrs.status.history.has_changes():
        return
    table = Assignment.__table__
    connection.execute(sa.update(table).where(table.c.ticket_id == target.id, table.c.ticket_status != target.status)
                       .values(ticket_status=target.status))
    for assignment in target.__dict__.get("assignments", ()):  # those already loaded say so too
        set_committed_value(assignment, "ticket_status", target.status)


def _search_text_on_insert(mapper, connection, target: Ticket) -> None:
    connection.execute(sa.insert(TicketSearch.__table__).values(
        ticket_id=target.id, grams=search.indexed_text(target.subject, target.content)))


def _search_text_on_update(mapper, connection, target: Ticket) -> None:
    """The order's subject or content was edited: the search keeps its new pairs."""
    state = sa.inspect(target)
    if state.attrs.subject.history.has_changes() or state.attrs.content.history.has_changes():
        table = TicketSearch.__table__
        grams = search.indexed_text(target.subject, target.content)
        if not connection.execute(sa.update(table).where(table.c.ticket_id == target.id)
                                  .values(grams=grams)).rowcount:
            connection.execute(sa.insert(table).values(ticket_id=target.id, grams=grams))


event.listen(Ticket, "after_insert", _search_text_on_insert)
event.listen(Ticket, "after_update", _search_text_on_update)
event.listen(Assignment, "before_insert", _order_status_on_insert)
event.listen(Ticket, "after_update", _order_status_to_assignments)

for _watched in (Assignment.status, Assignment.sign_due_at, Assignment.signed_at, Assignment.reply_due_at,
                 Assignment.replied_at):
    event.listen(_watched, "set", _look_again)


class TicketEvent(db.Model):
    """The append-only trail: every change to an order, who, when, from where to where."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket_at", "ticket_id", "id"),
        # the reports' reopens of a period
        Index("ix_ticket_events_action_at", "action", "at"),
        # the escalation sweep's look at what the system already recorded on an assignment
        Index("ix_ticket_events_system_assignment", "assignment_id",
              postgresql_where=text("actor_id IS NULL"), sqlite_where=text("actor_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    note: Mapped[str | None] = mapped_column(Text)
    #: Structured details (fields of the action, old and new deadlines ...).
    data: Mapped[dict | None] = mapped_column(JSON)
    #: Only centre staff see internal events (e.g. identity grants).
    is_internal: Mapped[bool] = mapped_column(default=False)

    actor: Mapped[User | None] = relationship(lazy="joined")
    ticket: Mapped[Ticket] = relationship()


class Reply(db.Model):
    """A department's answer to its assignment."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    contacted_citizen: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReplyStatus] = mapped_column(enum_column(ReplyStatus, "reply_status"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)

    assignment: Mapped[Assignment] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class ExtensionRequest(db.Model):
    __tablename__ = "extension_requests"
    __table_args__ = (
        CheckConstraint("days > 0", name="days_positive"),
        # the requests waiting on the centre (the board, the to-do), the oldest first
        Index("ix_extension_requests_pending", "requested_at", "id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(enum_column(ExtensionStatus, "extension_status"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    old_due_at: Mapped[datetime | None]
    new_due_at: Mapped[datetime | None]

    assignment: Mapped[Assignment] = relationship()


class ReturnVisit(db.Model):
    """The centre's call back to the citizen (回访)."""

    __tablename__ = "return_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    satisfaction: Mapped[Satisfaction] = mapped_column(enum_column(Satisfaction, "visit_satisfaction"))
    is_resolved: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(Text)
    visited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visited_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: The lead department the visit judges (for department rates).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    #: Internal comments are for staff only; public ones the citizen sees on the portal.
    is_internal: Mapped[bool] = mapped_column(default=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class Attachment(db.Model):
    """A file kept outside the database, addressed by its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Hidden from departments (e.g. a reporter's own evidence naming them).
    is_confidential: Mapped[bool] = mapped_column(default=False)


class IdentityGrant(db.Model):
    """The centre lets one department see a confidential reporter's identity."""

    __tablename__ = "identity_grants"
    __table_args__ = (UniqueConstraint("ticket_id", "department_id", name="ticket_department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
