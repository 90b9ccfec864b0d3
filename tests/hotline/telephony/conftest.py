"""Telephony pages: browsers logged in as the world's users, agents with extensions, and call
records made the way the telephony worker writes them."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from itertools import count

import pytest
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.extensions import db, limiter
from hotline.telephony.operations.configuration import install_defaults
from hotline.telephony.models import (Agent, Call, CallDisposition, CallLeg, CallQueue, QueueEvent, QueueLogEntry,
                                      Recording)
from workflows.acd import AgentState

#: The extensions the agents of the test world get (the demo gives the same ones).
EXTENSIONS = {"call_taker": "8001", "expert": "8002", "supervisor": "8101"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


class Browser:
    """A test client logged in through the form as one user, in the language chosen on its first page."""

    def __init__(self, client, lang: str):
        self.client, self.lang, self.token = client, lang, None

    def get(self, path, **kw):
        resp = self.client.get(path, **kw)
        if resp.mimetype == "text/html" and 'name="csrf-token"' in (html := resp.get_data(as_text=True)):
            self.token = csrf_of(html)
        return resp

    def post(self, path, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token
        return self.client.post(path, data=data, **kw)


@pytest.fixture
def browser(app, world):
    """browser("call_taker", lang="zh") -> a Browser logged in as that user (English by default)."""
    def login(key: str, lang: str = "en") -> Browser:
        limiter.reset()  # these tests log in many times; the login limit is tested elsewhere
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": key, "password": "password-123", "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        b = Browser(client, lang)
        b.get(f"/tickets?lang={lang}")  # the choice holds for the session
        return b
    return login


@pytest.fixture
def phones(world):
    """The default prompts, queues and flow; extensions for the call taker, expert and supervisor."""
    install_defaults()
    for key, ext in EXTENSIONS.items():
        db.session.execute(sa.update(User).where(User.id == world.users[key].id).values(extension=ext))
    db.session.commit()
    return world


@pytest.fixture
def recording_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RECORDING_DIR", str(tmp_path / "recordings"))
    return tmp_path / "recordings"


_ids = count(1)


class Calls:
    """Call records, queue log and recordings as the worker writes them."""

    def queue(self, code="general") -> CallQueue:
        return db.session.scalar(sa.select(CallQueue).where(CallQueue.code == code))

    def call(self, *, leg=CallLeg.INBOUND, caller="13812345678", callee="12345", parent=None, agent=None,
             queue=None, started=None, answered=True, ended=True, disposition=CallDisposition.ANSWERED,
             ticket_id=None, citizen_id=None, sip=None, ivr_path=None, talk=60) -> Call:
        started = started or utcnow() - timedelta(minutes=5)
        call = Call(sip_call_id=sip or f"call-{next(_ids)}@127.0.0.1:5070", leg=leg, caller=caller, callee=callee,
                    worker="w1", parent_id=parent.id if parent else None, agent_user_id=agent,
                    queue_id=queue.id if queue else None, started_at=started,
                    answered_at=started + timedelta(seconds=10) if answered else None,
                    ended_at=started + timedelta(seconds=10 + talk) if ended else None,
                    disposition=disposition if ended else None, ticket_id=ticket_id, citizen_id=citizen_id,
                    ivr_path=ivr_path)
        db.session.add(call)
        db.session.flush()
        return call

    def log(self, call: Call, queue: CallQueue, event: QueueEvent, at: datetime, **values) -> QueueLogEntry:
        entry = QueueLogEntry(call_id=call.id, queue_id=queue.id, event=event, at=at, **values)
        db.session.add(entry)
        return entry

    def recording(self, call: Call, directory, *, agent=None, data: bytes = b"RIFF-test-audio",
                  created=None, write=True) -> Recording:
        path = f"20260615/{call.sip_call_id.replace('@', '_').replace(':', '_')}.wav"
        if write:
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        rec = Recording(call_id=call.id, agent_user_id=agent, path=path, seconds=12.5, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), created_at=created or utcnow())
        db.session.add(rec)
        db.session.flush()
        return rec

    def agent(self, user_id: int, state=AgentState.READY, **values) -> Agent:
        agent = db.session.get(Agent, user_id) or Agent(user_id=user_id)
        agent.state = state
        agent.state_since = values.pop("state_since", utcnow() - timedelta(seconds=75))
        agent.idle_since = values.pop("idle_since", utcnow() - timedelta(minutes=10))
        for key, value in values.items():
            setattr(agent, key, value)
        db.session.add(agent)
        db.session.flush()
        return agent


@pytest.fixture
def calls(phones):
    return Calls()


@pytest.fixture
def dispatched_order(api, world, new_ticket):
    """(number, id) of an order dispatched to the city management bureau (cgj)."""
    from hotline.tickets.models import Ticket
    number = new_ticket()
    assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    return number, db.session.scalar(sa.select(Ticket.id).where(Ticket.number == number))
