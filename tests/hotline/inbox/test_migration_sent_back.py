"""Migration 0033: assignments remember when the centre sent them back, backfilled from the old test."""
import sqlalchemy as sa

from hotline.extensions import db
from hotline.tickets.models import Assignment, Reply, Ticket
from tests.hotline.inbox.conftest import post_action, section


def _assignment(number):
    return db.session.scalar(sa.select(Assignment).join(Ticket).where(Ticket.number == number))


def test_the_backfill_flags_what_was_sent_back_and_nothing_else(browser, dispatched, api, clock):
    from flask_migrate import downgrade, upgrade
    rejected = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    post_action(client, rejected, "reply", {"content": "已处理"}, content_type="multipart/form-data")
    clock.advance(hours=2)                       # rejected later than dispatched: the instant is the rejection's
    assert api("reviewer").action(rejected, "review-reply", {"approve": False, "note": "请补充"}).status_code == 200
    refused = dispatched("cgj")
    post_action(client, refused, "return", {"reason": "不是我们的"})
    refusal = api("reviewer").action(refused, "review-return", {"approve": False, "note": "属于你局"})
    assert refusal.status_code == 200
    pending_return = dispatched("cgj")
    post_action(client, pending_return, "return", {"reason": "请改派"})
    plain = dispatched("cgj", signed_by="handler")
    # the two steps set it as they happen
    flagged = {n: _assignment(n).sent_back_at is not None for n in (rejected, refused, pending_return, plain)}
    assert flagged == {rejected: True, refused: True, pending_return: False, plain: False}
    db.session.commit()
    db.session.remove()

    downgrade(revision="0032")
    assert "sent_back_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("assignments")}
    upgrade()
    flagged = {n: _assignment(n).sent_back_at is not None for n in (rejected, refused, pending_return, plain)}
    assert flagged == {rejected: True, refused: True, pending_return: False, plain: False}
    # the rejection's instant where there is one
    a = _assignment(rejected)
    reviewed = db.session.scalar(sa.select(Reply.reviewed_at).where(Reply.assignment_id == a.id))
    assert reviewed is not None and a.sent_back_at == reviewed
    inbox = client.get("/m").get_data(as_text=True)
    assert rejected in section(inbox, "sent-back") and refused in section(inbox, "sent-back")
    assert plain in section(inbox, "to-handle") and pending_return in section(inbox, "waiting")
