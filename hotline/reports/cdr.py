"""Call detail records for a period: one row per conversation (the caller's leg or the call placed),
the export (CSV, XLSX) and the printable call list (通话清单) grouped and summed as the user asks.

Numbers: the citizen's number is shown in full only to those who may see phone numbers (the
centre's staff, or department staff granted it, as on orders); to everyone else, and in any list
the user asks to be masked (to forward it), it is masked like 138****5678.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from hotline.auth.models import User
from hotline.citizens.models import mask_phone
from hotline.extensions import db
from hotline.reports import calls as callq
from hotline.sla import service as sla
from hotline.telephony.models import Call, CallDisposition, CallLeg, QueueEvent, QueueLogEntry
from hotline.tickets.models import Ticket
from workflows.states import CENTRE
from workflows import measures as wm

#: The most rows one export or printed list holds.
LIMIT = 50000
#: The most rows printed in full on the page (more: the groups' sums only, or narrow the period).
PAGE_LIMIT = 2000
GROUPS = ("agent", "queue", "day", "direction")


def may_see_numbers(user: User) -> bool:
    """Full numbers: the centre's staff, and department staff granted them (as on orders)."""
    return user.role in CENTRE or bool(user.can_view_phones)


def shown_number(user: User, number: str | None, masked: bool) -> str:
    if not number:
        return ""
    return number if may_see_numbers(user) and not masked else (mask_phone(number) or "")


def _talk(call: Call) -> float | None:
    if call.answered_at is None or call.ended_at is None:
        return None
    return max((call.ended_at - call.answered_at).total_seconds(), 0.0)


def records(period: wm.Period, now: datetime, limit: int = LIMIT) -> tuple[list[dict], bool]:
    """The period's conversations, oldest first, each with who, where, how long and how it ended;
    and whether there were more than `limit`."""
    lo, hi, _until = callq.period_bounds(period, now)
    roots = list(db.session.scalars(
        sa.select(Call).options(selectinload(Call.agent), selectinload(Call.queue))
        .where(Call.parent_id.is_(None), Call.leg != CallLeg.MONITOR, Call.started_at >= lo, Call.started_at < hi)
        .order_by(Call.started_at, Call.id).limit(limit + 1)))
    more = len(roots) > limit
    roots = roots[:limit]
    ids = [c.id for c in roots]
    children: dict[int, list[Call]] = defaultdict(list)
    waits: dict[int, float] = {}
    talks: dict[int, float] = defaultdict(float)
    for chunk in (ids[i:i + 1000] for i in range(0, len(ids), 1000)):
        for child in db.session.scalars(sa.select(Call).options(selectinload(Call.agent))
                                        .where(Call.parent_id.in_(chunk)).order_by(Call.started_at, Call.id)):
            children[child.parent_id].append(child)
        for call_id, event, wait, talk in db.session.execute(
                sa.select(QueueLogEntry.call_id, QueueLogEntry.event, QueueLogEntry.wait_seconds,
                          QueueLogEntry.talk_seconds).where(QueueLogEntry.call_id.in_(chunk))):
            if event in (QueueEvent.ANSWERED, QueueEvent.ABANDONED, QueueEvent.OVERFLOW) and wait is not None:
                waits[call_id] = waits.get(call_id, 0.0) + wait
            elif event == QueueEvent.COMPLETED and talk is not None:
                talks[call_id] += talk
    tickets = {c.ticket_id for c in roots if c.ticket_id} | {k.ticket_id for ks in children.values() for k in ks
                                                            if k.ticket_id}
    numbers = dict(db.session.execute(sa.select(Ticket.id, Ticket.number).where(Ticket.id.in_(tickets)))) \
        if tickets else {}
    out = []
    for root in roots:
        legs = children.get(root.id, [])
        inbound = root.leg == CallLeg.INBOUND
        agent = root.agent or next((leg.agent for leg in legs if leg.agent is not None), None)
        if inbound:
            talk = talks.get(root.id)
            if talk is None:
                answered = [leg for leg in legs if leg.leg == CallLeg.AGENT and leg.answered_at is not None]
                talk = _talk(answered[0]) if answered else None
            citizen = root.caller
        else:
            # a click-to-dial rings the agent first (the root), then the citizen (an outbound leg)
            out_leg = root if root.leg == CallLeg.OUTBOUND else next(
                (leg for leg in legs if leg.leg == CallLeg.OUTBOUND), None)
            talk = _talk(out_leg) if out_leg is not None else None
            citizen = out_leg.callee if out_leg is not None else root.caller
        ended = root.ended_at
        ticket = root.ticket_id or next((leg.ticket_id for leg in legs if leg.ticket_id), None)
        out.append({
            "call": root, "started": root.started_at, "ended": ended,
            "direction": "inbound" if inbound else "outbound",
            "citizen": citizen, "service": root.callee if inbound else "",
            "queue": root.queue.name if root.queue else "",
            "queue_id": root.queue_id, "agent": agent, "wait": waits.get(root.id),
            "talk": talk, "duration": (ended - root.started_at).total_seconds() if ended else None,
            "disposition": root.disposition, "ivr_path": root.ivr_path or "",
            "ticket": numbers.get(ticket) if ticket else None,
            "day": sla.local_date(root.started_at),
        })
    return out, more


def group_key(record: dict, by: str):
    if by == "agent":
        agent = record["agent"]
        return (0, agent.display_name, agent.id) if agent is not None else (1, "", 0)
    if by == "queue":
        return (0, record["queue"], record["queue_id"]) if record["queue_id"] else (1, "", 0)
    if by == "day":
        return record["day"]
    return 0 if record["direction"] == "inbound" else 1


def summed(rows: list[dict]) -> dict:
    answered = [r for r in rows if r["disposition"] == CallDisposition.ANSWERED and r["talk"] is not None]
    talk = sum(r["talk"] or 0.0 for r in answered)
    return {"calls": len(rows), "answered": len(answered),
            "abandoned": sum(1 for r in rows if r["disposition"] == CallDisposition.ABANDONED),
            "talk": talk, "average_talk": talk / len(answered) if answered else None,
            "duration": sum(r["duration"] or 0.0 for r in rows)}


def grouped(rows: list[dict], by: str) -> list[dict]:
    """The rows in groups (sorted by the group's name), each with its sums."""
    buckets: dict = defaultdict(list)
    for r in rows:
        buckets[group_key(r, by)].append(r)
    return [{"key": key, "rows": items, "sums": summed(items)} for key, items in sorted(buckets.items())]
