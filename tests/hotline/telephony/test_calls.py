"""Call records and recordings: the list and its filters, one call's legs and log, who may listen,
deleting a recording, and the retention purge."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline import create_app
from hotline.config import ConfigError
from hotline.core.base import utcnow
from hotline.extensions import db
from hotline.sla import service as sla
from hotline.telephony.operations import recordings
from hotline.telephony.models import CallDisposition, CallLeg, QueueEvent, Recording
from hotline.tickets.models import Ticket


def _conversation(calls, phones, *, caller="13811112222", ticket_id=None, days_ago=0):
    """A caller who went through the IVR, waited, and talked to the call taker; recorded."""
    queue = calls.queue()
    agent = phones.users["call_taker"].id
    started = utcnow() - timedelta(days=days_ago, minutes=10)
    root = calls.call(caller=caller, queue=queue, agent=agent, started=started, ticket_id=ticket_id,
                      ivr_path="welcome>main>agent")
    leg = calls.call(leg=CallLeg.AGENT, parent=root, agent=agent, callee="8001", started=started)
    calls.log(root, queue, QueueEvent.ENTERED, started)
    calls.log(root, queue, QueueEvent.ANSWERED, started + timedelta(seconds=12), agent_user_id=agent,
              wait_seconds=12)
    return root, leg


def test_call_list_filters_and_pages(browser, calls, phones):
    root, _leg = _conversation(calls, phones)
    _conversation(calls, phones, caller="13900005555", days_ago=3)
    calls.call(caller="13700000000", disposition=CallDisposition.ABANDONED, queue=calls.queue("enterprise"))
    db.session.commit()
    client = browser("reviewer")
    html = client.get("/telephony/calls").get_data(as_text=True)
    assert "3 calls" in html and "13811112222" in html and "13900005555" in html
    only = client.get("/telephony/calls?number=1111").get_data(as_text=True)
    assert "13811112222" in only and "13900005555" not in only
    today = sla.local_date(utcnow()).isoformat()
    recent = client.get(f"/telephony/calls?date_from={today}").get_data(as_text=True)
    assert "13900005555" not in recent and "13811112222" in recent
    abandoned = client.get("/telephony/calls?disposition=abandoned").get_data(as_text=True)
    assert "1 call<" in abandoned and "13700000000" in abandoned
    agent = client.get(f"/telephony/calls?agent={phones.users['call_taker'].id}").get_data(as_text=True)
    assert "2 calls" in agent and "13700000000" not in agent
    bad = client.get("/telephony/calls?date_from=yesterday&number=12")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="e-date_from"' in text and 'id="e-number"' in text
    assert browser("handler").get("/telephony/calls").status_code == 403


def test_one_call_shows_its_legs_queue_log_ivr_path_and_recordings(browser, calls, phones, recording_dir):
    root, leg = _conversation(calls, phones)
    rec = calls.recording(leg, recording_dir, agent=phones.users["call_taker"].id)
    missing = calls.recording(root, recording_dir, write=False)
    root_id, leg_id, rec_id, missing_id = root.id, leg.id, rec.id, missing.id
    db.session.commit()
    html = browser("reviewer").get(f"/telephony/calls/{root_id}").get_data(as_text=True)
    assert "Agent leg" in html and "Inbound" in html
    assert re.search(r"Entered.*Answered", html, re.S) and "0:12" in html
    assert '<li><code lang="en">welcome</code></li>' in html and '<code lang="en">agent</code>' in html
    assert f'<audio controls preload="none" src="/telephony/recordings/{rec_id}.wav"' in html
    assert f"/telephony/recordings/{missing_id}.wav" not in html and "The recording file is missing." in html
    # the agent leg's page is the conversation's page
    leg_page = browser("reviewer").get(f"/telephony/calls/{leg_id}").get_data(as_text=True)
    assert f'/telephony/recordings/{rec_id}.wav' in leg_page


def test_who_may_listen_to_a_recording(browser, calls, phones, recording_dir, new_ticket, api):
    number = new_ticket(type="report", subject="举报某餐馆", category="0401")
    ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.number == number))
    root, leg = _conversation(calls, phones, ticket_id=ticket_id)
    rec_id = calls.recording(leg, recording_dir, agent=phones.users["call_taker"].id, data=b"RIFF-audio-1").id
    db.session.commit()
    path = f"/telephony/recordings/{rec_id}.wav"
    for key in ("reviewer", "supervisor", "manager", "admin", "call_taker"):
        resp = browser(key).get(path)
        assert resp.status_code == 200, key
        assert resp.data == b"RIFF-audio-1" and resp.mimetype == "audio/wav"
        resp.close()
    assert browser("expert").get(path).status_code == 403  # another agent's call
    for key in ("handler", "cgj_admin"):
        assert browser(key).get(path).status_code == 403, key
    # even once the department has the order, its staff never hear the confidential reporter
    api("call_taker").action(number, "dispatch", {"department": phones.dept("scj").id})
    assert browser("handler_b").get(path).status_code == 403
    assert app_anonymous_redirect(browser, path)


def app_anonymous_redirect(browser, path):
    client = browser("reviewer").client.application.test_client()
    resp = client.get(path)
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_admin_deletes_a_recording_and_the_file_goes(browser, calls, phones, recording_dir):
    root, leg = _conversation(calls, phones)
    rec = calls.recording(leg, recording_dir, data=b"RIFF-to-delete")
    rec_id, root_id, file = rec.id, root.id, recording_dir / rec.path
    db.session.commit()
    assert file.exists() and recordings.verify_recording(db.session.get(Recording, rec_id))
    reviewer = browser("reviewer")
    reviewer.get(f"/telephony/calls/{root_id}")
    assert reviewer.post(f"/telephony/recordings/{rec_id}/delete").status_code == 403
    assert file.exists()
    admin = browser("admin")
    page = admin.get(f"/telephony/calls/{root_id}").get_data(as_text=True)
    assert f'action="/telephony/recordings/{rec_id}/delete"' in page and "data-confirm=" in page
    resp = admin.post(f"/telephony/recordings/{rec_id}/delete", {"next": f"/telephony/calls/{root_id}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/telephony/calls/{root_id}")
    assert not file.exists()
    db.session.expire_all()
    rec = db.session.get(Recording, rec_id)
    assert rec.deleted_at is not None and rec.deleted_by_id == phones.users["admin"].id
    assert not recordings.verify_recording(rec)
    assert reviewer.get(f"/telephony/recordings/{rec_id}.wav").status_code == 410
    assert "Deleted" in reviewer.get(f"/telephony/calls/{root_id}").get_data(as_text=True)
    again = admin.post(f"/telephony/recordings/{rec_id}/delete", follow_redirects=True)
    assert "already deleted" in again.get_data(as_text=True)


def test_a_failed_deletion_keeps_the_file(app, calls, phones, recording_dir):
    root, leg = _conversation(calls, phones)
    rec = calls.recording(leg, recording_dir)
    file = recording_dir / rec.path
    db.session.commit()
    admin = db.session.get(type(phones.users["admin"]), phones.users["admin"].id)
    recordings.delete_recording(rec, admin)
    db.session.rollback()  # the unit of work failed after the operation
    assert file.exists()
    db.session.commit()  # a later commit of the same session does not remove it either
    assert file.exists()


def test_purge_deletes_what_is_older_than_the_retention(app, calls, phones, recording_dir, clock):
    root, leg = _conversation(calls, phones)
    old = calls.recording(leg, recording_dir, created=utcnow() - timedelta(days=181))
    young = calls.recording(root, recording_dir, created=utcnow() - timedelta(days=179))
    old_id, young_id, old_file, young_file = old.id, young.id, recording_dir / old.path, recording_dir / young.path
    db.session.commit()
    assert recordings.purge_recordings() == 1
    db.session.commit()
    assert not old_file.exists() and young_file.exists()
    db.session.expire_all()
    purged = db.session.get(Recording, old_id)
    assert purged.deleted_at == clock.now and purged.deleted_by_id is None
    assert db.session.get(Recording, young_id).deleted_at is None
    assert recordings.purge_recordings() == 0
    assert recordings.purge_recordings(utcnow() + timedelta(days=2)) == 1


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_retention_must_be_a_number_of_days(monkeypatch, value):
    monkeypatch.setenv("RECORDING_RETENTION_DAYS", value)
    with pytest.raises(ConfigError, match="RECORDING_RETENTION_DAYS"):
        create_app()
