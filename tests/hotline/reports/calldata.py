"""A known Monday of calls (8 June 2026, Asia/Shanghai), written as the telephony worker writes them,
whose figures are counted by hand in the tests.

Queues: 综合咨询 (Q1) and 投诉举报 (Q2). Agents: A = call_taker (8001), B = expert (8002).

| call | entered  | queue | what happened                                                      |
|------|----------|-------|--------------------------------------------------------------------|
| 1    | 09:00:00 | Q1    | answered by A after 10 s, talk 100 s, after-call work 20 s          |
| 2    | 09:10:00 | Q1    | rang A (not taken), answered by B after 30 s, talk 200 s, ACW 40 s  |
| 3    | 09:20:00 | Q1    | abandoned after 3 s (a short abandon)                               |
| 4    | 09:40:00 | Q1    | abandoned after 50 s                                                |
| 5    | 10:05:00 | Q2    | answered by A after 20 s (just within the 20 s), talk 60 s, no ACW  |
| 6    | 10:10:00 | Q2    | overflowed to voicemail after 300 s                                 |
| 7    | Sun 7 Jun 23:50 | Q1 | answered by A: the day before, in no figure of Monday           |
| 8    | 23:59:50 | Q2    | answered by B after 15 s on Tuesday 00:00:05, talk 30 s, ACW 10 s: counts on Monday |
| 9    | 14:00:00 | —     | A calls 13900001111 (click to dial): their phone first, then the citizen, talk 120 s |

Agents' state log (local times):
- A: offline since Sun 20:00; Mon 08:30 ready, 10:30 not ready (meal), 11:00 ready, 12:00 offline.
- B: ready since Sun 23:00; Mon 00:30 offline, 08:45 ready, 09:00 after-call work, 09:15 ready,
  09:45 not ready (break), 10:00 offline.

Orders registered by the call taker on Monday: X (13812345678) and Y (13900001111) answered
directly at 10:05 and 10:20, Z left waiting. 13812345678 calls again on Wed 10 June (as
8613812345678): X is a repeat; 13900001111 calls again on Tue 16 June, 8 days after: not one.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

import sqlalchemy as sa

from hotline.extensions import db
from hotline.telephony.models import (AgentStateChange, Call, CallDisposition, CallLeg, CallQueue, QueueEvent,
                                      QueueLogEntry)
from tests.conftest import TZ
from workflows.acd import AgentState

NOW = datetime(2026, 6, 20, 10, 0, tzinfo=TZ)
_ids = count(1)


def at(day, hour, minute=0, second=0):
    return datetime(2026, 6, day, hour, minute, second, tzinfo=TZ)


def _call(leg, caller, callee, started, *, answered=None, ended=None, disposition=None, queue=None, agent=None,
          parent=None, ticket_id=None) -> Call:
    call = Call(sip_call_id=f"stats-{next(_ids)}@127.0.0.1", leg=leg, caller=caller, callee=callee, worker="w1",
                started_at=started, answered_at=answered, ended_at=ended, disposition=disposition,
                queue_id=queue.id if queue else None, agent_user_id=agent, parent_id=parent.id if parent else None,
                ticket_id=ticket_id)
    db.session.add(call)
    db.session.flush()
    return call


def _log(call, queue, event, when, **values):
    db.session.add(QueueLogEntry(call_id=call.id, queue_id=queue.id, event=event, at=when, **values))


def _queued(caller, queue, entered, outcome, wait, *, agent=None, talk=None, acw=None, offered=()):
    """A caller's visit: entered, offered, answered/abandoned/overflow, completed, after-call work."""
    left = entered + timedelta(seconds=wait)
    end = left + timedelta(seconds=talk or 0)
    disposition = {QueueEvent.ANSWERED: CallDisposition.ANSWERED, QueueEvent.ABANDONED: CallDisposition.ABANDONED,
                   QueueEvent.OVERFLOW: CallDisposition.VOICEMAIL}[outcome]
    call = _call(CallLeg.INBOUND, caller, "12345", entered - timedelta(seconds=30), answered=entered - timedelta(
        seconds=30), ended=end + timedelta(seconds=5 if outcome == QueueEvent.ANSWERED else 0),
        disposition=disposition, queue=queue, agent=agent if outcome == QueueEvent.ANSWERED else None)
    _log(call, queue, QueueEvent.ENTERED, entered)
    for i, user in enumerate(offered):
        _log(call, queue, QueueEvent.OFFERED, entered + timedelta(seconds=1 + i), agent_user_id=user)
    if outcome == QueueEvent.ANSWERED:
        _log(call, queue, QueueEvent.OFFERED, left - timedelta(seconds=1), agent_user_id=agent)
        _log(call, queue, outcome, left, agent_user_id=agent, wait_seconds=wait)
        _log(call, queue, QueueEvent.COMPLETED, end, agent_user_id=agent, talk_seconds=talk)
        if acw:
            _log(call, queue, QueueEvent.ACW_ENDED, end + timedelta(seconds=acw), agent_user_id=agent,
                 acw_seconds=acw)
    else:
        _log(call, queue, outcome, left, wait_seconds=wait)
    return call


def _state(user, state, when, reason=None):
    db.session.add(AgentStateChange(user_id=user, state=state, at=when, reason=reason))


def build(world) -> dict:
    a, b = world.users["call_taker"].id, world.users["expert"].id
    q1 = CallQueue(code="q1", name="综合咨询")
    q2 = CallQueue(code="q2", name="投诉举报")
    db.session.add_all([q1, q2])
    db.session.flush()
    ans, ab, ov = QueueEvent.ANSWERED, QueueEvent.ABANDONED, QueueEvent.OVERFLOW
    calls = {
        1: _queued("13812345678", q1, at(8, 9), ans, 10, agent=a, talk=100, acw=20),
        2: _queued("13500000002", q1, at(8, 9, 10), ans, 30, agent=b, talk=200, acw=40, offered=(a,)),
        3: _queued("13500000003", q1, at(8, 9, 20), ab, 3),
        4: _queued("13500000004", q1, at(8, 9, 40), ab, 50),
        5: _queued("13500000005", q2, at(8, 10, 5), ans, 20, agent=a, talk=60),
        6: _queued("13500000006", q2, at(8, 10, 10), ov, 300),
        7: _queued("13500000007", q1, at(7, 23, 50), ans, 5, agent=a, talk=40, acw=5),
        8: _queued("13500000008", q2, at(8, 23, 59, 50), ans, 15, agent=b, talk=30, acw=10),
    }
    root = _call(CallLeg.AGENT, "13900001111", "8001", at(8, 14), answered=at(8, 14, 0, 5),
                 ended=at(8, 14, 2, 10), disposition=CallDisposition.ANSWERED, agent=a)
    _call(CallLeg.OUTBOUND, "hotline-w1", "13900001111", at(8, 14, 0, 6), answered=at(8, 14, 0, 10),
          ended=at(8, 14, 2, 10), disposition=CallDisposition.ANSWERED, agent=a, parent=root)
    calls[9] = root
    # callers calling again after the answers
    _call(CallLeg.INBOUND, "8613812345678", "12345", at(10, 9), answered=at(10, 9), ended=at(10, 9, 1),
          disposition=CallDisposition.SELF_SERVICE)
    _call(CallLeg.INBOUND, "13900001111", "12345", at(16, 10, 30), answered=at(16, 10, 30), ended=at(16, 10, 31),
          disposition=CallDisposition.SELF_SERVICE)
    R, N, W, O = AgentState.READY, AgentState.NOT_READY, AgentState.AFTER_CALL_WORK, AgentState.OFFLINE
    for user, state, when, reason in (
            (a, O, at(7, 20), None), (a, R, at(8, 8, 30), None), (a, N, at(8, 10, 30), "meal"),
            (a, R, at(8, 11), None), (a, O, at(8, 12), None),
            (b, R, at(7, 23), None), (b, O, at(8, 0, 30), None), (b, R, at(8, 8, 45), None),
            (b, W, at(8, 9), None), (b, R, at(8, 9, 15), None), (b, N, at(8, 9, 45), "break"),
            (b, O, at(8, 10), None)):
        _state(user, state, when, reason)
    db.session.commit()
    return {"calls": {k: v.id for k, v in calls.items()}, "q1": q1.id, "q2": q2.id}


def orders(api, new_ticket, clock) -> dict:
    """X and Y answered directly, Z left waiting, all registered by the call taker on Monday."""
    out = {}
    clock.set(at(8, 10))
    out["X"] = new_ticket(type="consultation", citizen={"name": "张三", "phone": "13812345678"})
    clock.set(at(8, 10, 5))
    assert api("call_taker").action(out["X"], "answer", {"reply": "已当场答复"}).status_code == 200
    clock.set(at(8, 10, 15))
    out["Y"] = new_ticket(type="consultation", citizen={"name": "李四", "phone": "13900001111"})
    clock.set(at(8, 10, 20))
    assert api("call_taker").action(out["Y"], "answer", {"reply": "已当场答复"}).status_code == 200
    clock.set(at(8, 11))
    out["Z"] = new_ticket()
    clock.set(NOW)
    return out


def count_rows(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
