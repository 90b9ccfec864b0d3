"""Every telephony address refuses those it is not for: department staff never get in, agent pages
are for agents, administration for administrators, and nobody gets in without logging in."""
import sqlalchemy as sa

from hotline.extensions import db
from hotline.telephony.models import (Callback, CallbackReason, CallLeg, CallQueue, IvrFlow, MonitorRequest,
                                      OutboundRequest, Prompt, QueueMember, Recording)


def _addresses(calls, phones, recording_dir, number):
    root = calls.call(agent=phones.users["call_taker"].id)
    leg = calls.call(leg=CallLeg.AGENT, parent=root, agent=phones.users["call_taker"].id, ended=False)
    rec = calls.recording(leg, recording_dir)
    callback = Callback(phone="13000000001", reason=CallbackReason.MISSED)
    db.session.add(callback)
    queue = calls.queue()
    member = QueueMember(queue_id=queue.id, user_id=phones.users["call_taker"].id, level=1)
    db.session.add(member)
    db.session.flush()
    flow = db.session.scalar(sa.select(IvrFlow.id))
    prompt = db.session.scalar(sa.select(Prompt.id))
    ids = {"root": root.id, "leg": leg.id, "rec": rec.id, "cb": callback.id, "queue": queue.id, "member": member.id,
           "flow": flow, "prompt": prompt}
    db.session.commit()
    pages = {  # GET address -> the roles (world keys) that may see it
        "/agent": {"call_taker", "expert", "supervisor"},
        "/agent/panel": {"call_taker", "expert", "supervisor"},
        "/telephony/wallboard": {"supervisor", "manager", "admin"},
        "/telephony/wallboard/panel": {"supervisor", "manager", "admin"},
        "/telephony/callbacks": {"call_taker", "expert", "supervisor", "reviewer", "manager", "admin"},
        "/telephony/calls": {"call_taker", "expert", "supervisor", "reviewer", "manager", "admin"},
        f"/telephony/calls/{ids['root']}": {"call_taker", "expert", "supervisor", "reviewer", "manager", "admin"},
        f"/telephony/recordings/{ids['rec']}.wav": {"call_taker", "supervisor", "reviewer", "manager", "admin"},
        "/admin/telephony/flows": {"admin"},
        "/admin/telephony/flows/new": {"admin"},
        f"/admin/telephony/flows/{ids['flow']}": {"admin"},
        "/admin/telephony/prompts": {"admin"},
        f"/admin/telephony/prompts/{ids['prompt']}": {"admin"},
        "/admin/telephony/queues": {"admin"},
        f"/admin/telephony/queues/{ids['queue']}": {"admin"},
    }
    actions = [  # POST address, form
        ("/agent/state", {"state": "ready"}),
        ("/telephony/monitor", {"call": str(ids["leg"]), "mode": "listen"}),
        (f"/telephony/callbacks/{ids['cb']}/call", {}),
        (f"/telephony/callbacks/{ids['cb']}/done", {}),
        (f"/telephony/recordings/{ids['rec']}/delete", {}),
        (f"/telephony/orders/{number}/dial", {}),
        (f"/telephony/orders/{number}/survey", {}),
        (f"/admin/telephony/flows/{ids['flow']}", {"name": "x", "definition": "{}"}),
        ("/admin/telephony/flows/new", {"number": "999", "name": "x", "definition": "{}"}),
        ("/admin/telephony/prompts", {"code": "x", "name": "x", "text": "x"}),
        (f"/admin/telephony/prompts/{ids['prompt']}", {"name": "x", "text": "x"}),
        ("/admin/telephony/queues", {"code": "x", "name": "x"}),
        (f"/admin/telephony/queues/{ids['queue']}", {"name": "x"}),
        (f"/admin/telephony/queues/{ids['queue']}/members", {"user": "1", "level": "1"}),
        (f"/admin/telephony/queues/{ids['queue']}/members/{ids['member']}/delete", {}),
    ]
    return pages, actions


def _nothing_written():
    db.session.expire_all()
    return (db.session.scalar(sa.select(sa.func.count(OutboundRequest.id))) == 0
            and db.session.scalar(sa.select(sa.func.count(MonitorRequest.id))) == 0
            and db.session.scalar(sa.select(Recording.deleted_at)) is None
            and db.session.scalar(sa.select(sa.func.count(QueueMember.id))) == 1
            and db.session.scalar(sa.select(sa.func.count(CallQueue.id))) == 2)


def test_every_address_answers_only_the_roles_it_is_for(app, browser, calls, phones, recording_dir, new_ticket):
    pages, actions = _addresses(calls, phones, recording_dir, new_ticket())
    for key in ("call_taker", "expert", "supervisor", "reviewer", "manager", "admin", "handler", "cgj_admin",
                "district_admin"):
        client = browser(key)
        for path, allowed in pages.items():
            resp = client.get(path)
            expected = 200 if key in allowed else 403
            assert resp.status_code == expected, (key, path, resp.status_code)
            resp.close()
    for key in ("handler", "cgj_admin", "street_admin"):
        client = browser(key)
        for path, form in actions:
            resp = client.post(path, form)
            assert resp.status_code in (403, 404), (key, path, resp.status_code)
    for key in ("reviewer", "manager"):
        client = browser(key)
        for path, form in actions:
            if path.startswith("/admin/") or path.endswith("/delete") or path == "/agent/state":
                assert client.post(path, form).status_code == 403, (key, path)
    assert _nothing_written()
    anonymous = app.test_client()
    for path in pages:
        resp = anonymous.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    # a panel refreshing itself after the session ended sends the whole page to the login form
    expired = anonymous.get("/agent/panel", headers={"HX-Request": "true", "Referer": "http://localhost/agent"})
    assert expired.status_code == 204 and expired.headers["HX-Redirect"] == "/login?next=/agent"
    # forms without their security token are refused before anything happens
    client = browser("admin")
    for path, form in actions:
        assert client.post(path, form, csrf=False).status_code == 400, path
    assert _nothing_written()


def test_department_staff_see_no_calls_on_an_order(browser, calls, phones, recording_dir, dispatched_order):
    number, ticket_id = dispatched_order
    calls.call(ticket_id=ticket_id)
    db.session.commit()
    assert 'id="h-calls"' in browser("reviewer").get(f"/tickets/{number}").get_data(as_text=True)
    html = browser("handler").get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="h-calls"' not in html and "/telephony/" not in html
