"""The demo city's telephone line: the default IVR set-up, three agents with extensions, and a
few days of calls (CDR legs, queue log, recordings' records, callbacks) as the worker writes them.

The recordings have records but no audio files (their paths start with demo/), so the player
says the file is missing instead of playing; everything else reads like real traffic.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.citizens.models import Citizen
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.telephony.operations.configuration import SERVICE_NUMBER, install_defaults
from hotline.telephony.models import (Agent, Call, Callback, CallbackReason, CallbackStatus, CallDisposition,
                                      CallLeg, CallQueue, QueueEvent, QueueLogEntry, QueueMember, Recording)
from hotline.tickets.models import Ticket
from workflows.acd import AgentState, CallerPriority

#: username -> extension; the demo's agents.
EXTENSIONS = {"calltaker": "8001", "expert": "8002", "supervisor": "8101"}
#: queue code -> [(username, skill level)]
MEMBERS = {"general": [("calltaker", 1), ("expert", 2), ("supervisor", 3)],
           "enterprise": [("expert", 1), ("calltaker", 2)]}
#: Calls per hour of the day (local), a busy morning and a second peak after lunch.
HOURLY = [0, 0, 0, 0, 0, 0, 0, 1, 6, 9, 9, 7, 4, 5, 7, 7, 6, 5, 3, 2, 1, 0, 0, 0]
DAYS = 4
WORKER = "demo-worker"


def seed_telephony(rng: random.Random, users: dict[str, User], now: datetime) -> int:
    """Set up the line and fill it with the last few days of calls; returns how many callers rang."""
    install_defaults()
    queues = {q.code: q for q in db.session.scalars(sa.select(CallQueue))}
    for username, extension in EXTENSIONS.items():
        users[username].extension = extension
    for code, members in MEMBERS.items():
        for username, level in members:
            db.session.add(QueueMember(queue_id=queues[code].id, user_id=users[username].id, level=level))
    citizens = list(db.session.scalars(sa.select(Citizen).order_by(Citizen.id).limit(400)))
    latest = dict(db.session.execute(
        sa.select(Ticket.citizen_id, sa.func.max(Ticket.id)).where(Ticket.citizen_id.is_not(None))
        .group_by(Ticket.citizen_id)).all())
    tz = sla.local_tz()
    today = now.astimezone(tz).date()
    counts = {u: 0 for u in EXTENSIONS}
    total = 0
    for back in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        for hour, weight in enumerate(HOURLY):
            for _ in range(weight * 2):
                at = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tz)
                if at > now - timedelta(minutes=15):
                    continue
                agent = _one_call(rng, f"demo-{day:%Y%m%d}-{total:04d}", at, now, users, queues, citizens, latest)
                if agent and back == 0:
                    counts[agent] += 1
                total += 1
    _agents(users, counts, now)
    db.session.flush()
    return total


def _one_call(rng, sip: str, at: datetime, now: datetime, users, queues, citizens, latest) -> str | None:
    """One caller: IVR, perhaps the queue and an agent, perhaps a callback owed. The agent's name, if any."""
    citizen = rng.choice(citizens) if citizens and rng.random() < 0.7 else None
    phone = citizen.phone if citizen else f"1{rng.choice('358')}{rng.randint(100000000, 999999999)}"
    priority = CallerPriority.VIP if citizen is not None and citizen.is_vip else CallerPriority.NORMAL
    root = Call(sip_call_id=f"{sip}@10.0.0.5:5070", leg=CallLeg.INBOUND, caller=phone, callee=SERVICE_NUMBER,
                worker=WORKER, citizen_id=citizen.id if citizen else None, started_at=at, answered_at=at,
                priority=priority)
    db.session.add(root)
    ivr_seconds = rng.randint(15, 50)
    if rng.random() < 0.12:  # checked an order's progress by keys and hung up
        root.ivr_path = "welcome>main>progress>lookup>main"
        root.ended_at, root.disposition, root.end_reason = (at + timedelta(seconds=ivr_seconds + 30),
                                                            CallDisposition.SELF_SERVICE, "remote_hangup")
        return None
    enterprise = rng.random() < 0.18
    queue = queues["enterprise" if enterprise else "general"]
    root.ivr_path = "welcome>main>enterprise" if enterprise else rng.choice(["welcome>main>agent",
                                                                            "welcome>main>consult>agent"])
    root.queue_id = queue.id
    db.session.flush()
    entered = at + timedelta(seconds=ivr_seconds)
    log = _logger(root, queue)
    log(QueueEvent.ENTERED, entered)
    wait = min(rng.expovariate(1 / 22), 280)
    outcome = rng.random()
    if outcome < 0.07:  # hung up while waiting: a callback is owed
        wait = rng.uniform(20, 120)
        log(QueueEvent.ABANDONED, entered + timedelta(seconds=wait), wait_seconds=wait)
        _end(root, entered + timedelta(seconds=wait), CallDisposition.ABANDONED, "remote_hangup")
        _owe(rng, root, CallbackReason.ABANDONED, users, now)
        return None
    if outcome < 0.09:  # waited too long: left a message
        log(QueueEvent.OVERFLOW, entered + timedelta(seconds=queue.max_wait_seconds),
            wait_seconds=float(queue.max_wait_seconds))
        _end(root, entered + timedelta(seconds=queue.max_wait_seconds + 40), CallDisposition.VOICEMAIL, "voicemail")
        _owe(rng, root, CallbackReason.VOICEMAIL, users, now)
        return None
    username = ("expert" if rng.random() < 0.7 else "calltaker") if enterprise else \
        ("calltaker" if rng.random() < 0.75 else "expert")
    agent = users[username]
    answered = entered + timedelta(seconds=wait)
    talk = rng.uniform(50, 420)
    ended = answered + timedelta(seconds=talk)
    log(QueueEvent.OFFERED, answered - timedelta(seconds=min(wait, 4)), agent_user_id=agent.id)
    log(QueueEvent.ANSWERED, answered, agent_user_id=agent.id, wait_seconds=wait)
    log(QueueEvent.COMPLETED, ended, agent_user_id=agent.id, talk_seconds=talk)
    acw = rng.uniform(10, queue.wrap_up_seconds)
    log(QueueEvent.ACW_ENDED, ended + timedelta(seconds=acw), agent_user_id=agent.id, acw_seconds=acw)
    leg = Call(sip_call_id=f"{sip}-a@10.0.0.5:5070", leg=CallLeg.AGENT, parent_id=root.id, caller=phone,
               callee=agent.extension, worker=WORKER, agent_user_id=agent.id, queue_id=queue.id,
               started_at=answered - timedelta(seconds=4), answered_at=answered, ended_at=ended,
               disposition=CallDisposition.ANSWERED, end_reason="remote_hangup")
    db.session.add(leg)
    root.agent_user_id = agent.id
    _end(root, ended, CallDisposition.ANSWERED, "remote_hangup")
    if citizen is not None and citizen.id in latest and rng.random() < 0.35:
        root.ticket_id = latest[citizen.id]  # the call was about (or registered) this order
    db.session.flush()
    db.session.add(Recording(call_id=leg.id, agent_user_id=agent.id, path=f"demo/{at:%Y%m%d}/{sip}.wav",
                             seconds=round(talk, 1), size=int(talk * 32000), sha256="0" * 64, created_at=ended))
    return username


def _logger(call: Call, queue: CallQueue):
    def log(event: QueueEvent, at: datetime, **values) -> None:
        db.session.add(QueueLogEntry(call_id=call.id, queue_id=queue.id, event=event, at=at, **values))
    return log


def _end(call: Call, at: datetime, disposition: CallDisposition, reason: str) -> None:
    call.ended_at, call.disposition, call.end_reason = at, disposition, reason


def _owe(rng, call: Call, reason: CallbackReason, users, now: datetime) -> None:
    """A callback; most of those older than a day have been made, a few of today's."""
    done = rng.random() < (0.85 if now - call.started_at > timedelta(days=1) else 0.3)
    db.session.add(Callback(phone=call.caller, citizen_id=call.citizen_id, reason=reason, call_id=call.id,
                            queue_id=call.queue_id, created_at=call.ended_at,
                            status=CallbackStatus.DONE if done else CallbackStatus.PENDING,
                            attempts=1 if done else 0, done_at=call.ended_at + timedelta(minutes=25) if done else None,
                            done_by_id=users["calltaker"].id if done else None))


def _agents(users, counts: dict[str, int], now: datetime) -> None:
    day = sla.local_date(now).strftime("%Y%m%d")
    states = {"calltaker": (AgentState.READY, None, 3), "expert": (AgentState.NOT_READY, "meeting", 25),
              "supervisor": (AgentState.OFFLINE, None, 120)}
    for username, (state, reason, minutes) in states.items():
        since = now - timedelta(minutes=minutes)
        db.session.add(Agent(user_id=users[username].id, state=state, reason=reason, state_since=since,
                             idle_since=since, calls_today=counts[username], calls_day=day))
