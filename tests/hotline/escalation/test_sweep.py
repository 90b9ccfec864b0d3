"""The escalation sweep on a frozen clock: each reminder, urge and escalation recorded once, as the
system, with its notices; only what crossed a threshold is read; two sweeps never overlap."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.escalation import operations
from hotline.escalation.tasks import LOCK, LOCK_TTL, SweepBusy, run_sweep
from hotline.extensions import db
from hotline.messaging.models import Message, MessageChannel
from hotline.tickets.models import Assignment, Ticket, TicketEvent
from tests.conftest import TZ
from tests.hotline.tickets_pages.conftest import dispatched  # noqa: F401  (an order dispatched to cgj)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def order(number: str) -> Ticket:
    return db.session.scalar(sa.select(Ticket).where(Ticket.number == number))


def chases(number: str) -> list[tuple[str, str, str]]:
    """(local time, action, deadline) of the system's entries on the order's trail."""
    rows = db.session.scalars(sa.select(TicketEvent).join(Ticket).where(
        Ticket.number == number, TicketEvent.actor_id.is_(None), TicketEvent.data.is_not(None)).order_by(
        TicketEvent.id))
    return [(e.at.astimezone(TZ).strftime("%m-%d %H:%M"), e.action, e.data["deadline"]) for e in rows
            if (e.data or {}).get("automatic")]


def notices(number: str) -> dict[str, list[str]]:
    """template -> usernames told by the sweep, for the order's in-app notices (the dispatch's own left out)."""
    found: dict[str, list[str]] = {}
    for m in db.session.scalars(sa.select(Message).join(Ticket, Ticket.id == Message.ticket_id)
                                .where(Ticket.number == number).order_by(Message.id)):
        assert m.channel is MessageChannel.INAPP
        if m.template == "dispatched":
            continue
        found.setdefault(m.template, []).append(m.recipient.username)
    return found


@pytest.fixture
def complaint_before_national_day(clock, dispatched):
    """A general complaint dispatched on the eve of National Day 2026 (Oct 1–7 off, Sat Oct 10 worked)."""
    clock.set(local(2026, 9, 30, 9, 0))
    return dispatched(type="complaint")


def test_a_complaint_is_reminded_urged_and_escalated_across_national_day(
        world, clock, complaint_before_national_day):
    number = complaint_before_national_day
    a = order(number).lead
    assert (a.sign_due_at, a.reply_due_at) == (local(2026, 10, 8, 9, 0), local(2026, 10, 13, 9, 0))
    hours = [local(2026, 9, 30, 10, 0) + timedelta(hours=h) for h in range(0, 24 * 22, 1)]
    for at in hours:                                    # a sweep every hour for three weeks
        clock.set(at)
        run_sweep(at)
    assert chases(number) == [
        ("10-06 09:00", "remind", "sign"),
        ("10-08 09:00", "urge", "sign"),
        ("10-10 03:00", "remind", "reply"),                  # the make-up Saturday counts
        ("10-14 09:00", "urge", "reply"),
        ("10-20 09:00", "supervise", "reply"),
    ]
    ticket = order(number)
    assert ticket.urge_count == 2 and ticket.lead.urge_count == 2 and ticket.supervision_level == 1
    told = notices(number)
    assert told == {
        "sign_reminder": ["handler"],
        "sign_urge": ["handler", "cgj_admin"],
        "reminder": ["handler"],
        "urge": ["handler", "cgj_admin"],
        "escalation": ["cgj_admin"],               # the department head; the centre sees it on its board
    }
    urge = db.session.scalar(sa.select(Message.body).where(Message.template == "urge").limit(1))
    assert urge == f"催办：工单{number}（幸福路占道经营）已于2026-10-13 09:00到期，请立即办理。"
    sign_urge = db.session.scalar(sa.select(Message.body).where(Message.template == "sign_urge").limit(1))
    assert "签收" in sign_urge and "2026-10-08 09:00" in sign_urge


def test_a_second_sweep_records_nothing_and_reads_nothing(world, clock, complaint_before_national_day):
    at = local(2026, 10, 21, 10, 0)
    first = run_sweep(at)
    # first seen long overdue: only the most severe step of each deadline
    assert first.recorded == {"remind": 0, "urge": 1, "escalate": 1}
    again = run_sweep(at)
    assert again.looked_at == 0 and again.recorded == {"remind": 0, "urge": 0, "escalate": 0}
    assert db.session.scalar(sa.select(Assignment.next_check_at)) is None   # nothing more can fall due


def test_a_pass_in_small_batches_looks_at_every_order_once_in_the_order_they_fell_due(world, clock, dispatched):
    clock.set(local(2026, 9, 30, 9, 0))
    numbers = [dispatched(type="complaint") for _ in range(5)]
    clock.advance(hours=1)
    numbers += [dispatched(type="complaint") for _ in range(2)]      # fell due an hour after the others
    at = local(2026, 10, 21, 10, 0)
    seen = []
    result = run_sweep(at, batch=2, progress=lambda total: seen.append(total.looked_at))
    assert result.looked_at == 7 and result.recorded["urge"] == 7 and result.recorded["escalate"] == 7
    assert seen == [2, 4, 6, 7]                                      # four batches, nothing read twice
    assert all(len([c for c in chases(n) if c[1] == "supervise"]) == 1 for n in numbers)
    assert run_sweep(at, batch=2).looked_at == 0


def test_signing_and_replying_stop_the_chasing(api, world, clock, complaint_before_national_day):
    number = complaint_before_national_day
    assert api("handler").action(number, "sign").status_code == 200
    assert api("handler").action(number, "reply", {"content": "已处理", "contacted_citizen": True}).status_code == 200
    result = run_sweep(local(2026, 10, 30, 9, 0))
    assert result.looked_at == 1 and sum(result.recorded.values()) == 0
    assert chases(number) == [] and notices(number) == {}


def test_an_extension_moves_the_urge(api, world, clock, complaint_before_national_day):
    number = complaint_before_national_day
    assert api("handler").action(number, "sign").status_code == 200
    clock.set(local(2026, 10, 12, 10, 0))
    assert api("handler").action(number, "request-extension", {"days": 3, "reason": "需协调"}).status_code == 200
    assert api("reviewer").action(number, "review-extension", {"approve": True}).status_code == 200
    assert order(number).lead.reply_due_at == local(2026, 10, 16, 9, 0)
    run_sweep(local(2026, 10, 14, 9, 30))                                 # the old urge time: nothing owed
    assert [c[1] for c in chases(number)] == ["remind"]
    run_sweep(local(2026, 10, 19, 9, 0))                                  # the working day after the new deadline
    assert chases(number)[-1] == ("10-19 09:00", "urge", "reply")


def test_an_urgent_order_is_chased_on_clock_time_at_night(world, clock, dispatched):
    clock.set(local(2026, 10, 2, 23, 0))                                  # a holiday night
    number = dispatched(urgency="urgent")
    for minute in range(0, 200, 1):
        at = local(2026, 10, 2, 23, 0) + timedelta(minutes=minute)
        clock.set(at)
        run_sweep(at)
    assert chases(number) == [
        ("10-02 23:12", "remind", "sign"),
        ("10-02 23:15", "urge", "sign"),
        ("10-03 00:30", "remind", "reply"),
        ("10-03 01:00", "urge", "reply"),
        ("10-03 02:00", "supervise", "reply"),
    ]
    assert db.session.scalars(sa.select(Message.is_urgent).where(
        Message.template.in_(["urge", "sign_urge"]))).all() == [True] * 4


def test_two_sweeps_never_overlap(world, clock, complaint_before_national_day):
    holder = operations.acquire_lock(LOCK, LOCK_TTL)
    db.session.commit()
    assert holder is not None
    with pytest.raises(SweepBusy):
        run_sweep(local(2026, 10, 21, 10, 0))
    assert chases(complaint_before_national_day) == []
    clock.advance(minutes=11)                                             # a sweeper that died frees it in time
    assert sum(run_sweep(local(2026, 10, 21, 10, 0)).recorded.values()) == 2


def test_the_command_runs_one_pass_as_if_at_an_instant(app, world, clock, complaint_before_national_day):
    runner = app.test_cli_runner()
    future = runner.invoke(args=["sla", "sweep", "--at", "2026-10-14T09:00"])
    assert future.exit_code != 0 and "is in the future" in future.output and chases(complaint_before_national_day) == []
    out = runner.invoke(args=["sla", "sweep", "--at", "2026-10-14T09:00", "--allow-future"])
    assert out.exit_code == 0, out.output
    assert "recorded 0 remind, 2 urge, 0 escalate; queued 4 notices" in out.output
    assert chases(complaint_before_national_day) == [("10-14 09:00", "urge", "sign"), ("10-14 09:00", "urge", "reply")]
    bad = runner.invoke(args=["sla", "sweep", "--at", "next tuesday"])
    assert bad.exit_code != 0 and "is not a time like" in bad.output


def test_an_edited_policy_or_calendar_moves_thresholds_already_stored(api, world, clock,
                                                                     complaint_before_national_day):
    number = complaint_before_national_day
    assert api("handler").action(number, "sign").status_code == 200
    run_sweep(local(2026, 10, 14, 9, 0))                                  # urged; escalation stored for Oct 20
    assert order(number).lead.next_check_at == local(2026, 10, 20, 9, 0)
    from hotline.sla.models import SlaPolicy
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.step == "escalate", SlaPolicy.urgency == "general"))
    assert api("admin").put(f"/sla-policies/{policy.id}", {"amount": 2}).status_code == 200
    run_sweep(local(2026, 10, 15, 9, 0))                                  # 2 working days past Oct 13
    assert chases(number)[-1] == ("10-15 09:00", "supervise", "reply")


def test_a_rejected_reply_is_chased_again(api, world, clock, complaint_before_national_day):
    number = complaint_before_national_day
    assert api("handler").action(number, "sign").status_code == 200
    assert api("handler").action(number, "reply", {"content": "已处理", "contacted_citizen": True}).status_code == 200
    run_sweep(local(2026, 10, 12, 9, 0))
    assert order(number).lead.next_check_at is None                      # replied: nothing more can fall due
    clock.set(local(2026, 10, 12, 10, 0))
    assert api("reviewer").action(number, "review-reply", {"approve": False, "note": "未说明结果"}).status_code == 200
    run_sweep(local(2026, 10, 14, 9, 0))
    assert chases(number) == [("10-14 09:00", "urge", "reply")]


def test_a_sub_unit_is_urged_but_only_its_parent_is_escalated(api, world, clock, dispatched):
    clock.set(local(2026, 9, 30, 9, 0))
    number = dispatched(dept="dc")
    assert api("district_handler").action(number, "sign").status_code == 200
    assert api("district_admin").action(number, "sub-dispatch", {"department": world.dept("dc_s1").id}).status_code == 200
    run_sweep(local(2026, 10, 21, 10, 0))
    by_department = {}
    for e in db.session.scalars(sa.select(TicketEvent).where(TicketEvent.actor_id.is_(None),
                                                              TicketEvent.assignment_id.is_not(None))):
        dept = db.session.get(Assignment, e.assignment_id).department.code
        by_department.setdefault(dept, []).append((e.action, e.data["deadline"]))
    assert by_department == {"DC": [("supervise", "reply")], "DC_S1": [("urge", "sign"), ("urge", "reply")]}
    ticket = order(number)
    assert ticket.urge_count == 1 and ticket.supervision_level == 1       # one urge of the order in one pass


def all_messages(number: str) -> list[tuple[str, str, str, str]]:
    """(template, channel, to whom: username or phone, local time it goes) of every message of the order."""
    rows = db.session.scalars(sa.select(Message).join(Ticket, Ticket.id == Message.ticket_id)
                              .where(Ticket.number == number).order_by(Message.id))
    return [(m.template, m.channel.value, m.recipient.username if m.recipient else m.address,
             (m.next_attempt_at or m.created_at).astimezone(TZ).strftime("%m-%d %H:%M")) for m in rows]


@pytest.fixture
def on_duty(world):
    """The city management bureau has a duty phone; its handler wants nothing by text (urgent ones come anyway)."""
    from hotline.departments import operations as departments
    from hotline.departments.models import Department
    departments.set_duty_phone(db.session.get(Department, world.dept("cgj").id), {"duty_phone": "025-5234 5678"})
    handler = db.session.scalar(sa.select(User).where(User.username == "handler"))
    handler.mobile, handler.wants_sms = "13912345678", False
    db.session.commit()


def test_an_urgent_order_at_night_rings_the_duty_phone_first_and_the_texts_follow(world, clock, dispatched, on_duty):
    clock.set(local(2026, 10, 2, 23, 0))                                   # a holiday night
    number = dispatched(urgency="urgent")
    for minute in range(0, 200, 1):
        at = local(2026, 10, 2, 23, 0) + timedelta(minutes=minute)
        clock.set(at)
        run_sweep(at)
    duty = "02552345678"
    assert [m for m in all_messages(number) if m[1] != "inapp"] == [
        ("dispatched", "voice", duty, "10-02 23:00"),                     # the new order: the duty phone rings
        ("dispatched", "sms", "handler", "10-02 23:02"),                  # and the text follows the call
        ("sign_reminder", "sms", "handler", "10-02 23:12"),               # a reminder wakes no duty phone
        ("sign_urge", "voice", duty, "10-02 23:15"),
        ("sign_urge", "sms", "handler", "10-02 23:17"),
        ("reminder", "sms", "handler", "10-03 00:30"),
        ("urge", "voice", duty, "10-03 01:00"),
        ("urge", "sms", "handler", "10-03 01:02"),
        ("escalation", "voice", duty, "10-03 02:00"),                     # the head has no mobile: the call only
    ]
    voice = db.session.scalar(sa.select(Message).where(Message.channel == MessageChannel.VOICE,
                                                       Message.template == "urge"))
    assert voice.is_urgent and voice.recipient_user_id is None
    assert voice.body == f"催办：工单{number}（幸福路占道经营）已于2026-10-03 01:00到期，请立即办理。"


def test_by_day_or_for_a_routine_order_no_duty_phone_rings(world, clock, dispatched, on_duty):
    clock.set(local(2026, 10, 9, 10, 0))                                   # an urgent order by day
    by_day = dispatched(urgency="urgent")
    clock.set(local(2026, 10, 9, 23, 0))                                   # a routine order at night
    routine = dispatched()
    assert [m for m in all_messages(by_day) if m[1] != "inapp"] == [("dispatched", "sms", "handler", "10-09 10:00")]
    assert [m for m in all_messages(routine) if m[1] != "inapp"] == []    # the handler wants no texts
