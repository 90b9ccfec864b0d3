"""Agents: the state an agent chooses, the states calls put them in, and their extensions.

Every change to an Agent row is here. The pages and the telephony worker change the same
rows, so each change is an UPDATE that applies only to the state it expects: an agent is
claimed for a call only by the UPDATE that finds them still ready.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden
from hotline.extensions import db
from hotline.sla.service import local_date
from hotline.telephony import permissions
from hotline.telephony.models import Agent, AgentStateChange, Call, CallQueue, QueueEntry, QueueEvent, QueueMember
from hotline.telephony.operations import calls, invalid, no_extension, queue
from workflows.acd import BUSY_STATES, CHOSEN_STATES, AgentSnapshot, AgentState, Strategy, may_choose, order_agents
from workflows.states import DEPARTMENT

log = logging.getLogger("hotline.telephony")

#: Why an agent is not ready, offered as choices (free text is allowed as well).
NOT_READY_TITLES = {"break": _l("Break"), "meal": _l("Meal"), "meeting": _l("Meeting"),
                    "training": _l("Training"), "outbound": _l("Outbound calls"),
                    "missed_call": _l("Missed a call")}
REASON_MAX = 80
#: Reason recorded when an agent let an offered call ring out.
MISSED_REASON = "missed_call"
EXTENSION = re.compile(r"[0-9]{2,20}")


def local_day_key(at: datetime) -> str:
    return local_date(at).strftime("%Y%m%d")


@dataclass(frozen=True)
class Offer:
    user_id: int
    extension: str
    name: str


def _update(*where, **values) -> int:
    """One conditional UPDATE of agents; how many rows it changed. A change of state is logged
    for each agent it changed (the agents' time in each state is counted from the log)."""
    update = sa.update(Agent).where(*where).values(**values).execution_options(synchronize_session=False)
    if "state" not in values:
        return db.session.execute(update).rowcount
    changed = db.session.execute(update.returning(Agent.user_id)).scalars().all()
    for user_id in changed:
        log_state(user_id, values["state"], values.get("reason"), values.get("state_since") or utcnow())
    return len(changed)


def log_state(user_id: int, state: AgentState, reason: str | None, at: datetime) -> None:
    """One line of the agents' state log (never changed afterwards)."""
    db.session.add(AgentStateChange(user_id=user_id, state=state, reason=reason, at=at))


# -- the state an agent chooses ---------------------------------------------------------------

def agent_for(user: User) -> Agent:
    """The user's agent row, created (offline) the first time; safe when two requests race."""
    agent = db.session.get(Agent, user.id)
    if agent is None:
        now = utcnow()
        insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        db.session.execute(insert(Agent).values(
            user_id=user.id, state=AgentState.OFFLINE, state_since=now, idle_since=now, calls_today=0,
            calls_day="").on_conflict_do_nothing(index_elements=["user_id"]))
        agent = db.session.get(Agent, user.id)
    return agent


def busy_message(state: AgentState) -> str:
    if state == AgentState.RINGING:
        return _("Your phone is ringing: answer it or let it ring out; your state changes when it stops.")
    return _("You are on a call: your state changes when the call ends.")


def set_agent_state(user: User, state: AgentState | str, reason: str | None = None) -> Agent:
    """Ready, Not ready (with a reason) or Offline, chosen in the agent page.

    Refused while the phone rings or a call is on: the call decides the state until it ends.
    """
    if not permissions.is_agent(user):
        raise Forbidden(_("Only call takers, experts and supervisors take calls."))
    if not permissions.has_extension(user):
        raise no_extension()
    wanted = AgentState.parse(state) if isinstance(state, str) else state
    if wanted not in CHOSEN_STATES:
        raise invalid(state=_("Choose Ready, Not ready or Offline."))
    reason = (reason or "").strip() or None
    if wanted == AgentState.NOT_READY:
        if reason is None:
            raise invalid(reason=_("Choose or type why you are not ready."))
        if len(reason) > REASON_MAX:
            raise invalid(reason=_("At most %(n)d characters (got %(got)d).", n=REASON_MAX, got=len(reason)))
    else:
        reason = None
    agent = agent_for(user)
    current, since = agent.state, agent.state_since
    if not may_choose(current, wanted):
        raise Conflict(busy_message(current), code="agent_busy")
    now = utcnow()
    values: dict = {"state": wanted, "reason": reason, "acw_until": None, "current_call_id": None}
    if wanted != current:
        values["state_since"] = now
    if wanted == AgentState.READY and current != AgentState.READY:
        values["idle_since"] = now
    # only if the worker has not offered a call meanwhile (it claims agents the same way)
    done = _update(Agent.user_id == user.id, Agent.state == current, **values)
    db.session.refresh(agent)
    if done != 1:
        raise Conflict(busy_message(agent.state) if agent.state in BUSY_STATES
                       else _("Your state changed at this moment; look at it and choose again."), code="agent_busy")
    if current == AgentState.AFTER_CALL_WORK:
        # after-call work ended by hand: logged as the worker logs it when the time runs out
        queue.log_acw_ended(user.id, now, max((now - since).total_seconds(), 0.0))
        db.session.flush()
    return agent


# -- the states calls put agents in -----------------------------------------------------------

def _ready_agents(row: CallQueue, now: datetime) -> list[tuple[AgentSnapshot, Agent]]:
    day = local_day_key(now)
    rows = db.session.execute(
        sa.select(Agent, QueueMember.level).join(QueueMember, QueueMember.user_id == Agent.user_id)
        .join(User, User.id == Agent.user_id)
        .where(QueueMember.queue_id == row.id, Agent.state == AgentState.READY,
               User.is_active.is_(True), User.extension.is_not(None))).all()
    return [(AgentSnapshot(agent.user_id, level, agent.idle_since,
                           agent.calls_today if agent.calls_day == day else 0), agent) for agent, level in rows]


def _claim(user_id: int, sip_call_id: str, now: datetime) -> bool:
    """Ringing for this call, if (and only if) the agent is still ready."""
    return _update(Agent.user_id == user_id, Agent.state == AgentState.READY,
                   state=AgentState.RINGING, current_call_id=sip_call_id, state_since=now, reason=None) == 1


def claim_agents(entry: QueueEntry, call: Call) -> list[Offer]:
    """Agents to ring for this caller now: none unless the caller heads the queue.

    One agent, or for ring-all every ready agent of the first skill level.
    """
    if entry.offered_user_id is not None or not queue.is_head(entry):
        return []
    row = db.session.get(CallQueue, entry.queue_id)
    now = utcnow()
    candidates = _ready_agents(row, now)
    by_id = {snap.user_id: agent for snap, agent in candidates}
    ordered = order_agents(row.strategy, [snap for snap, _ in candidates], row.last_user_id)
    offers: list[Offer] = []
    for snap in ordered:
        if _claim(snap.user_id, call.sip_call_id, now):
            user = by_id[snap.user_id].user
            offers.append(Offer(user.id, user.extension, user.display_name))
            if row.strategy is not Strategy.RING_ALL:
                break
    if offers:
        queue.offered(entry, row, [offer.user_id for offer in offers], now)
    db.session.flush()
    return offers


def release_agent(user_id: int, sip_call_id: str, *, missed: bool) -> None:
    """An offer that was not taken: back to ready, or not ready if the phone rang out."""
    values = ({"state": AgentState.NOT_READY, "reason": MISSED_REASON} if missed
              else {"state": AgentState.READY, "reason": None})
    _update(Agent.user_id == user_id, Agent.current_call_id == sip_call_id,
            current_call_id=None, state_since=utcnow(), **values)


def agent_answered(entry: QueueEntry, call: Call, user_id: int) -> None:
    """The agent took the caller: on a call, counted for today, and the caller leaves the queue."""
    now = utcnow()
    agent = db.session.get(Agent, user_id)
    day = local_day_key(now)
    agent.calls_today = (agent.calls_today + 1) if agent.calls_day == day else 1
    agent.calls_day = day
    agent.state, agent.state_since = AgentState.ON_CALL, now
    log_state(user_id, AgentState.ON_CALL, None, now)
    calls.taken_by(call, user_id, now)
    queue.answered(entry, user_id, now)


def call_completed(call: Call, user_id: int, talk_seconds: float) -> None:
    """The agent hung up or was hung up on: after-call work for the queue's wrap-up time."""
    now = utcnow()
    row = db.session.get(CallQueue, call.queue_id) if call.queue_id else None
    wrap = row.wrap_up_seconds if row else 0
    _update(Agent.user_id == user_id, Agent.current_call_id == call.sip_call_id,
            state=AgentState.AFTER_CALL_WORK if wrap else AgentState.READY, current_call_id=None,
            state_since=now, idle_since=now, acw_until=now + timedelta(seconds=wrap))
    if row:
        queue.log_event(call.id, row.id, QueueEvent.COMPLETED, at=now, agent_user_id=user_id,
                        talk_seconds=talk_seconds)


def hold_for_outbound(user_id: int, sip_call_id: str) -> tuple[AgentState, str | None] | None:
    """The agent's phone is about to ring for a call they placed (click to dial, callback):
    on a call from now, so the queue offers them nothing. Returns their state before, to
    go back to afterwards, or None when they are ringing or on a call already."""
    agent = db.session.get(Agent, user_id)
    if agent is None:
        agent = Agent(user_id=user_id, state=AgentState.OFFLINE)
        db.session.add(agent)
        db.session.flush()
    before = (agent.state, agent.reason)
    done = _update(Agent.user_id == user_id, Agent.state.not_in([AgentState.RINGING, AgentState.ON_CALL]),
                   state=AgentState.ON_CALL, current_call_id=sip_call_id, state_since=utcnow())
    return before if done == 1 else None


def release_after_outbound(user_id: int, sip_call_id: str, state: AgentState, reason: str | None) -> None:
    """Back to where the agent was before placing the call."""
    now = utcnow()
    values = {"state": state, "reason": reason, "current_call_id": None, "state_since": now}
    if state is AgentState.READY:
        values["idle_since"] = now
    _update(Agent.user_id == user_id, Agent.current_call_id == sip_call_id, **values)


def end_after_call_work(now: datetime | None = None) -> int:
    """Agents whose wrap-up time ran out are ready again."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Agent.user_id, Agent.state_since).where(Agent.state == AgentState.AFTER_CALL_WORK,
                                                          Agent.acw_until <= now)).all()
    for user_id, since in rows:
        if _update(Agent.user_id == user_id, Agent.state == AgentState.AFTER_CALL_WORK,
                   state=AgentState.READY, state_since=now, idle_since=now, acw_until=None):
            queue.log_acw_ended(user_id, now, (now - since).total_seconds())
    return len(rows)


def free_agents_of(sip_call_ids: sa.Select, now: datetime) -> None:
    """Agents ringing or talking on these calls (their worker is gone) are ready again."""
    _update(Agent.state.in_([AgentState.RINGING, AgentState.ON_CALL]), Agent.current_call_id.in_(sip_call_ids),
            state=AgentState.READY, current_call_id=None, state_since=now, idle_since=now)


# -- extensions -------------------------------------------------------------------------------

def _extension_owner(extension: str, user: User) -> User | None:
    return db.session.scalar(sa.select(User).where(User.extension == extension, User.is_active.is_(True),
                                                   User.id != user.id))


def set_extension(actor: User, user: User, extension: str | None) -> User:
    """Give a centre user a phone extension (unique among active users), or take it away."""
    if not permissions.can_manage_telephony(actor):
        raise Forbidden(_("Only administrators give out extensions."))
    value = (extension or "").strip() or None
    if value is not None:
        if not EXTENSION.fullmatch(value):
            raise invalid(extension=_("An extension is 2 to 20 digits, e.g. 8001."))
        if user.role in DEPARTMENT:
            raise invalid(extension=_("Department staff do not take calls here."))
        if user.is_service_account:
            raise invalid(extension=_("The portal's service account is managed by the system."))
        owner = _extension_owner(value, user)
        if owner is not None:
            raise invalid(extension=_("Extension %(ext)s belongs to %(name)s.", ext=value, name=owner.display_name))
    if value == user.extension:
        return user
    agent = db.session.get(Agent, user.id)
    if agent is not None:
        if agent.state in BUSY_STATES:
            raise Conflict(_("%(name)s is on a call; change the extension when it ends.", name=user.display_name),
                           code="agent_busy")
        agent.state, agent.state_since, agent.reason = AgentState.OFFLINE, utcnow(), None
        log_state(user.id, AgentState.OFFLINE, None, agent.state_since)
    log.info("extension of %s changed by %s from %s to %s", user.username, actor.username, user.extension, value)
    user.extension = value
    db.session.flush()
    return user


def ensure_extension_free(user: User) -> None:
    """Before a switched-off user is switched on again: their extension may have gone to someone else."""
    if user.extension and _extension_owner(user.extension, user) is not None:
        raise Conflict(_("Extension %(ext)s now belongs to someone else; give %(name)s another one first.",
                         ext=user.extension, name=user.display_name), code="extension_taken")
