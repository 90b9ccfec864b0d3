"""Every workspace's front page, in Chinese and in English: it loads, passes the audit and,
in Chinese, shows no untranslated text. The pages are the ones each role's navigation links
to (so a page appears here as soon as its link does), plus the citizen portal. In Chinese,
the pages the flows of the other tests already audit are left out, to keep the suite fast."""
from datetime import timedelta

import pytest

from tests.e2e.helpers import check, choose_language, login

pytestmark = pytest.mark.e2e

#: Who looks around, and at what screen size: between them they reach every workspace.
VISITORS = [
    ("reviewer", {"width": 1280, "height": 800}),   # desk, work orders, supervision, reports, calls
    ("supervisor", {"width": 1280, "height": 800}), # the agent's phone page, the wallboard
    ("admin", {"width": 1280, "height": 800}),      # administration
    ("handler", {"width": 375, "height": 812}),     # the department's phone workspace
]
#: Pages a visitor opens beyond the navigation: the administration's sections, one call, one order.
EXTRA = {
    "reviewer": ["/telephony/calls/{call}", "/tickets/{order}"],
    "admin": ["/admin/telephony/flows", "/admin/telephony/flows/{flow}", "/admin/telephony/prompts",
              "/admin/telephony/queues", "/admin/telephony/queues/{queue}", "/admin/users"],
}
PUBLIC = ["/portal", "/portal/track"]
#: Audited in Chinese by the flows (test_desk, test_centre, test_department, test_portal).
IN_FLOWS = {"/desk", "/tickets", "/m", "/portal", "/portal/track"}


def nav_links(page) -> list[str]:
    return page.eval_on_selector_all(
        "nav.main a[href]", "links => links.map(a => new URL(a.href).pathname)")


def telephone_line(world, number: str) -> dict:
    """The default IVR set-up, agents with extensions, and calls: one ringing the supervisor (the
    screen-pop), one the call taker is on (to monitor), one recorded and linked to `number`, one
    abandoned with a callback owed."""
    import sqlalchemy as sa

    from hotline.auth.models import User
    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.telephony.operations.configuration import install_defaults
    from hotline.telephony.models import (Agent, Call, Callback, CallbackReason, CallDisposition, CallLeg, CallQueue,
                                          IvrFlow, QueueEvent, QueueLogEntry, Recording)
    from hotline.tickets.models import Ticket
    from workflows.acd import AgentState

    install_defaults()
    users = world.users
    for key, ext in (("call_taker", "8001"), ("supervisor", "8101")):
        db.session.execute(sa.update(User).where(User.id == users[key].id).values(extension=ext))
    queue = db.session.scalar(sa.select(CallQueue).where(CallQueue.code == "general"))
    now = utcnow()
    ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.number == number))

    def call(sip, minutes, **values):
        row = Call(sip_call_id=sip, caller=values.pop("caller", "13812345678"), callee="12345", worker="w1",
                   queue_id=queue.id, started_at=now - timedelta(minutes=minutes), **values)
        db.session.add(row)
        db.session.flush()
        return row

    done = call("tour-1@w1", 30, leg=CallLeg.INBOUND, answered_at=now - timedelta(minutes=30),
                ended_at=now - timedelta(minutes=26), disposition=CallDisposition.ANSWERED, ticket_id=ticket_id,
                agent_user_id=users["call_taker"].id, ivr_path="welcome>main>agent")
    leg = call("tour-1a@w1", 29, leg=CallLeg.AGENT, parent_id=done.id, agent_user_id=users["call_taker"].id,
               answered_at=now - timedelta(minutes=29), ended_at=now - timedelta(minutes=26),
               disposition=CallDisposition.ANSWERED)
    db.session.add(Recording(call_id=leg.id, agent_user_id=users["call_taker"].id, path="demo/tour.wav",
                             seconds=180, size=1, sha256="0" * 64))
    gone = call("tour-2@w1", 20, leg=CallLeg.INBOUND, caller="13900001111", answered_at=now - timedelta(minutes=20),
                ended_at=now - timedelta(minutes=19), disposition=CallDisposition.ABANDONED)
    db.session.add(Callback(phone="13900001111", reason=CallbackReason.ABANDONED, call_id=gone.id,
                            queue_id=queue.id))
    live = call("tour-3@w1", 1, leg=CallLeg.INBOUND, caller="13812345678", answered_at=now - timedelta(minutes=1))
    talking = call("tour-4@w1", 6, leg=CallLeg.INBOUND, caller="13700002222", answered_at=now - timedelta(minutes=6),
                   agent_user_id=users["call_taker"].id)
    call("tour-4a@w1", 5, leg=CallLeg.AGENT, parent_id=talking.id, agent_user_id=users["call_taker"].id,
         answered_at=now - timedelta(minutes=5))
    for row, event, minutes, wait in ((done, QueueEvent.ENTERED, 30, None), (done, QueueEvent.ANSWERED, 29, 40),
                                      (gone, QueueEvent.ENTERED, 20, None), (gone, QueueEvent.ABANDONED, 19, 60)):
        db.session.add(QueueLogEntry(call_id=row.id, queue_id=queue.id, event=event,
                                     at=now - timedelta(minutes=minutes), wait_seconds=wait))
    db.session.add(Agent(user_id=users["supervisor"].id, state=AgentState.RINGING, current_call_id=live.sip_call_id,
                         state_since=now - timedelta(seconds=5)))
    db.session.add(Agent(user_id=users["call_taker"].id, state=AgentState.ON_CALL, current_call_id=talking.sip_call_id,
                         state_since=now - timedelta(minutes=5)))
    db.session.commit()
    return {"call": done.id, "order": number, "flow": db.session.scalar(sa.select(IvrFlow.id)), "queue": queue.id}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_workspace_in_both_languages(pages, new_ticket, world, lang):
    ids = telephone_line(world, new_ticket())  # lists with an order in them, and calls about it
    browser_locale = "en-US"  # a browser preferring English: Chinese all the same, unless the user chooses
    seen = set(IN_FLOWS) if lang == "zh" else set()
    for user, size in VISITORS:
        page = pages.new(**size, locale=browser_locale, mobile=size["width"] < 500)
        login(page, user)
        assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
        if lang == "en":
            choose_language(page, "English")
        for path in nav_links(page) + [p.format(**ids) for p in EXTRA.get(user, [])]:
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(path)
            assert response.status < 400, f"{user} follows the navigation to {path}: {response.status}"
            assert page.evaluate("() => document.documentElement.lang").startswith(lang), path
            check(page, f"{lang}-{path.strip('/').replace('/', '-') or 'home'}")
    page = pages.new(width=375, height=812, locale=browser_locale, mobile=True)
    if lang == "en":  # an anonymous visitor's switch (kept in a cookie)
        page.goto(PUBLIC[0])
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()
    for path in PUBLIC if lang == "en" else ():
        response = page.goto(path)
        assert response.status < 400, f"{path}: {response.status}"
        check(page, f"{lang}-{path.strip('/').replace('/', '-')}")
    if lang == "en":
        assert {"/desk", "/tickets", "/m", "/agent", "/telephony/wallboard", "/telephony/callbacks",
                "/telephony/calls"} <= seen, f"workspaces missing from the navigation: {sorted(seen)}"
