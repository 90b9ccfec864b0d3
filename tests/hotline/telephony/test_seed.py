"""The demo's telephone line: agents with extensions in the queues, and days of calls on the wallboard."""
import sqlalchemy as sa

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.seed.demo import seed_demo
from hotline.telephony import queries
from hotline.telephony.models import (Agent, Call, Callback, CallbackStatus, CallDisposition, IvrFlow, QueueMember,
                                      Recording)


def test_the_demo_line_has_agents_calls_recordings_and_callbacks(app, db_session, clock):
    seed_demo(orders=120, echo=lambda _m: None, now=utcnow())
    extensions = dict(db.session.execute(sa.select(User.username, User.extension)
                                         .where(User.extension.is_not(None))).all())
    assert extensions == {"calltaker": "8001", "expert": "8002", "supervisor": "8101"}
    assert db.session.scalar(sa.select(sa.func.count(Agent.user_id))) == 3
    assert db.session.scalar(sa.select(sa.func.count(QueueMember.id))) == 5
    assert db.session.scalar(sa.select(IvrFlow.number)) == "12345"
    outcomes = set(db.session.scalars(sa.select(Call.disposition).distinct()))
    assert {CallDisposition.ANSWERED, CallDisposition.ABANDONED, CallDisposition.SELF_SERVICE} <= outcomes
    assert db.session.scalar(sa.select(sa.func.count(Call.id)).where(Call.ticket_id.is_not(None))) > 0
    recording = db.session.scalar(sa.select(Recording).limit(1))
    assert recording.path.startswith("demo/")
    statuses = set(db.session.scalars(sa.select(Callback.status).distinct()))
    assert {CallbackStatus.PENDING, CallbackStatus.DONE} <= statuses
    general = next(q for q in queries.queue_figures(utcnow()) if q["queue"].code == "general")
    assert general["offered"] > 10 and general["answered"] > 0 and general["service_level"] is not None
    # the player says the demo's audio is missing instead of failing
    root = db.session.get(Call, db.session.get(Call, recording.call_id).parent_id)
    root_id = root.id
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    client = app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "admin", "password": "hotline12345", "csrf_token": token})
    page = client.get(f"/telephony/calls/{root_id}?lang=en").get_data(as_text=True)
    assert "The recording file is missing." in page and admin.extension is None
