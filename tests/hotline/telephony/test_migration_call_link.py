"""Migration 0006: the call-order link moves from tickets.call_id to calls.ticket_id, and back."""
import sqlalchemy as sa

from hotline.extensions import db
from hotline.telephony.models import Call, CallLeg
from hotline.tickets.models import Ticket


def _ids(numbers):
    return [db.session.scalar(sa.select(Ticket.id).where(Ticket.number == n)) for n in numbers]


def _ticket_columns():
    return {c["name"] for c in sa.inspect(db.engine).get_columns("tickets")}


def test_the_link_moves_to_the_call_and_back(world, new_ticket, calls):
    from flask_migrate import downgrade, upgrade
    first, second, third, surveyed = _ids([new_ticket() for _ in range(4)])
    calls.call(sip="taken@w1", ticket_id=first)
    calls.call(leg=CallLeg.OUTBOUND, sip="survey@w1", ticket_id=surveyed)
    calls.call(sip="other@w1")
    calls.call(sip="unlinked@w1")
    db.session.commit()
    db.session.remove()

    downgrade(revision="0005")
    assert "call_id" in _ticket_columns()
    with db.engine.begin() as conn:
        kept = dict(conn.execute(sa.text("SELECT id, call_id FROM tickets")).all())
        # the incoming call that names an order is its call id; a survey placed about one is not
        assert kept == {first: "taken@w1", second: None, third: None, surveyed: None}
        # as 0005 left them: orders name their calls, calls not (yet) their orders
        conn.execute(sa.text("UPDATE calls SET ticket_id = NULL WHERE sip_call_id = 'taken@w1'"))
        conn.execute(sa.text("UPDATE tickets SET call_id = 'other@w1' WHERE id = :id"), {"id": second})
        # a second order taken on the same call: the call names the first
        conn.execute(sa.text("UPDATE tickets SET call_id = 'taken@w1' WHERE id = :id"), {"id": third})
        conn.execute(sa.text("UPDATE tickets SET call_id = 'nowhere@w1' WHERE id = :id"), {"id": surveyed})

    upgrade()
    assert "call_id" not in _ticket_columns()
    links = dict(db.session.execute(sa.select(Call.sip_call_id, Call.ticket_id)).all())
    assert links == {"taken@w1": first, "other@w1": second, "survey@w1": surveyed, "unlinked@w1": None}
