"""The ACD's shared state: who is offered which caller, across workers, on both databases."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.telephony.operations import agents as agent_ops
from hotline.telephony.operations import queue as queue_ops
from hotline.telephony.operations import workers as worker_ops
from hotline.telephony.models import (Agent, Call, CallLeg, CallQueue, QueueEntry, QueueEvent, QueueLogEntry,
                                      QueueMember, TelephonyWorker)
from workflows.acd import AgentState, CallerPriority, Strategy


def make_queue(world, strategy=Strategy.LONGEST_IDLE, agents=(("call_taker", 1), ("expert", 1)), wrap=30):
    queue = CallQueue(code="general", name="综合", strategy=strategy, wrap_up_seconds=wrap)
    db.session.add(queue)
    db.session.flush()
    start = utcnow() - timedelta(minutes=30)
    for n, (key, level) in enumerate(agents):
        user = db.session.get(User, world.users[key].id)
        user.extension = f"80{n:02d}"
        db.session.add(Agent(user_id=user.id, state=AgentState.READY, idle_since=start + timedelta(minutes=n)))
        db.session.add(QueueMember(queue_id=queue.id, user_id=user.id, level=level))
    db.session.commit()
    return queue


def new_call(n: int, worker: str = "w1") -> Call:
    call = Call(sip_call_id=f"call-{n}", leg=CallLeg.INBOUND, caller=f"1380000{n:04d}", callee="12345",
                worker=worker)
    db.session.add(call)
    db.session.flush()
    return call


def queued(queue, n, priority=CallerPriority.NORMAL, worker="w1"):
    call = new_call(n, worker)
    entry = queue_ops.enqueue(call, queue, priority, worker)
    db.session.commit()
    return call, entry


def test_vip_and_important_callers_go_first_then_first_come(world):
    queue = make_queue(world, agents=())
    _, first = queued(queue, 1)
    _, second = queued(queue, 2)
    _, important = queued(queue, 3, CallerPriority.IMPORTANT)
    _, vip = queued(queue, 4, CallerPriority.VIP)
    assert [queue_ops.position(e) for e in (vip, important, first, second)] == [1, 2, 3, 4]


def test_only_the_head_of_the_queue_is_offered_an_agent(world):
    queue = make_queue(world)
    first_call, first = queued(queue, 1)
    second_call, second = queued(queue, 2)
    assert agent_ops.claim_agents(second, second_call) == []  # not at the head yet
    offers = agent_ops.claim_agents(first, first_call)
    db.session.commit()
    # longest idle: call_taker became idle first
    assert [o.user_id for o in offers] == [world.users["call_taker"].id]
    agent = db.session.get(Agent, world.users["call_taker"].id)
    assert (agent.state, agent.current_call_id) == (AgentState.RINGING, "call-1")
    # the first caller is being offered: the second is now the head and gets the other agent
    offers = agent_ops.claim_agents(second, second_call)
    assert [o.user_id for o in offers] == [world.users["expert"].id]


def test_an_agent_who_lets_it_ring_out_becomes_not_ready_and_the_caller_waits_again(world):
    queue = make_queue(world, agents=(("call_taker", 1),))
    call, entry = queued(queue, 1)
    [offer] = agent_ops.claim_agents(entry, call)
    agent_ops.release_agent(offer.user_id, call.sip_call_id, missed=True)
    queue_ops.unoffer(entry)
    db.session.commit()
    agent = db.session.get(Agent, offer.user_id)
    assert (agent.state, agent.reason, agent.current_call_id) == (AgentState.NOT_READY, agent_ops.MISSED_REASON, None)
    assert agent_ops.claim_agents(entry, call) == []  # nobody ready: the caller keeps waiting


def test_answer_talk_and_after_call_work_are_logged_then_the_agent_is_ready_again(world):
    queue = make_queue(world, agents=(("call_taker", 1),), wrap=30)
    call, entry = queued(queue, 1)
    [offer] = agent_ops.claim_agents(entry, call)
    agent_ops.agent_answered(entry, call, offer.user_id)
    db.session.commit()
    assert db.session.get(QueueEntry, call.id) is None
    agent = db.session.get(Agent, offer.user_id)
    assert agent.state is AgentState.ON_CALL and agent.calls_today == 1
    agent_ops.call_completed(call, offer.user_id, talk_seconds=95.0)
    db.session.commit()
    db.session.refresh(agent)
    assert agent.state is AgentState.AFTER_CALL_WORK
    assert agent_ops.end_after_call_work(utcnow() + timedelta(seconds=10)) == 0
    assert agent_ops.end_after_call_work(utcnow() + timedelta(seconds=31)) == 1
    db.session.commit()
    db.session.refresh(agent)
    assert agent.state is AgentState.READY
    events = [e.event for e in db.session.scalars(sa.select(QueueLogEntry).order_by(QueueLogEntry.id))]
    assert events == [QueueEvent.ENTERED, QueueEvent.OFFERED, QueueEvent.ANSWERED, QueueEvent.COMPLETED,
                      QueueEvent.ACW_ENDED]
    completed = db.session.scalar(sa.select(QueueLogEntry).where(QueueLogEntry.event == QueueEvent.COMPLETED))
    assert completed.talk_seconds == 95.0


def test_ring_all_rings_every_ready_agent_of_the_first_skill_level(world):
    queue = make_queue(world, Strategy.RING_ALL,
                       agents=(("call_taker", 1), ("expert", 1), ("supervisor", 2)))
    call, entry = queued(queue, 1)
    offers = agent_ops.claim_agents(entry, call)
    assert {o.user_id for o in offers} == {world.users["call_taker"].id, world.users["expert"].id}
    backup = db.session.get(Agent, world.users["supervisor"].id)
    assert backup.state is AgentState.READY


def test_a_worker_that_stopped_beating_leaves_no_caller_queued_and_no_agent_held(world):
    queue = make_queue(world, agents=(("call_taker", 1),))
    call, entry = queued(queue, 1, worker="dead")
    agent_ops.claim_agents(entry, call)
    db.session.add(TelephonyWorker(name="dead", host="h", pid=1, heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert worker_ops.reap() == 1
    db.session.commit()
    assert db.session.get(QueueEntry, call.id) is None
    assert db.session.get(Agent, world.users["call_taker"].id).state is AgentState.READY
    assert db.session.get(Call, call.id).end_reason == "worker_lost"


def test_a_call_a_dead_worker_was_placing_is_queued_again(world):
    from hotline.telephony.models import OutboundKind, OutboundRequest, OutboundStatus
    db.session.add(OutboundRequest(kind=OutboundKind.SURVEY, phone="13800000000", status=OutboundStatus.DIALLING,
                                   claimed_by="dead", attempts=1))
    db.session.add(TelephonyWorker(name="dead", host="h", pid=1, heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    worker_ops.reap()
    db.session.commit()
    request = db.session.scalar(sa.select(OutboundRequest))
    assert (request.status, request.claimed_by, request.attempts) == (OutboundStatus.QUEUED, None, 1)


@pytest.mark.slow
def test_two_workers_racing_never_offer_one_agent_two_calls(app, world):
    """Two workers (threads with their own sessions) claim for 40 callers against 3 agents."""
    queue = make_queue(world, Strategy.ROUND_ROBIN,
                       agents=(("call_taker", 1), ("expert", 1), ("supervisor", 1)), wrap=0)
    for n in range(40):
        queued(queue, n, worker=f"w{n % 2}")
    db.session.remove()
    holding: dict[int, str] = {}
    guard = threading.Lock()
    problems: list[str] = []
    answered: list[str] = []

    def worker(name: str) -> None:
        with app.app_context():
            while True:
                mine = list(db.session.scalars(sa.select(QueueEntry).where(QueueEntry.worker == name)))
                db.session.commit()
                if not mine:
                    return
                for entry in mine:
                    call = db.session.get(Call, entry.call_id)
                    try:
                        offers = agent_ops.claim_agents(entry, call)
                        db.session.commit()
                    except sa.exc.OperationalError:  # SQLite: the other writer holds the lock; retry
                        db.session.rollback()
                        continue
                    for offer in offers:
                        with guard:
                            if offer.user_id in holding:
                                problems.append(f"{offer.user_id} offered {call.sip_call_id} while on "
                                                f"{holding[offer.user_id]}")
                            holding[offer.user_id] = call.sip_call_id
                        agent_ops.agent_answered(entry, call, offer.user_id)
                        agent_ops.call_completed(call, offer.user_id, 1.0)
                        with guard:  # free in our books just before the database frees the agent
                            holding.pop(offer.user_id)
                        db.session.commit()
                        answered.append(call.sip_call_id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not problems
    assert sorted(answered) == sorted(f"call-{n}" for n in range(40))
    offered = db.session.scalars(sa.select(QueueLogEntry).where(QueueLogEntry.event == QueueEvent.OFFERED)).all()
    assert len(offered) == 40


def test_an_agent_placing_a_call_is_offered_no_queue_call_and_goes_back_to_their_state(world):
    queue = make_queue(world, agents=(("call_taker", 1),))
    agent_id = world.users["call_taker"].id
    before = agent_ops.hold_for_outbound(agent_id, "outbound-1")
    db.session.commit()
    assert before == (AgentState.READY, None)
    call, entry = queued(queue, 1)
    assert agent_ops.claim_agents(entry, call) == []  # busy dialling a citizen
    assert agent_ops.hold_for_outbound(agent_id, "outbound-2") is None  # and no second outbound call either
    agent_ops.release_after_outbound(agent_id, "outbound-1", *before)
    db.session.commit()
    assert [o.user_id for o in agent_ops.claim_agents(entry, call)] == [agent_id]
