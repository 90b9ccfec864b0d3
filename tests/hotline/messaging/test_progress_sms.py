"""A public progress note is texted to the citizen who reported the order: once per note, to their
mobile number, unless they said no; never for a confidential order, never an internal note."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.citizens.models import Citizen
from hotline.extensions import db
from hotline.messaging import notices
from hotline.messaging.models import Message, MessageChannel, MessageState
from hotline.messaging.tasks import deliver_due
from hotline.tickets.models import Ticket, TicketEvent
from tests.conftest import TZ
from tests.hotline.messaging.test_outbox import sent_lines, sms_log  # noqa: F401  (the SMS log sink)

NOTE = "已联系执法中队，明早到现场核查。"



def texts_about(number: str) -> list[Message]:
    """Every message about the order that is not an in-app notice or a call to staff."""
    db.session.remove()
    return list(db.session.scalars(sa.select(Message).join(Ticket, Ticket.id == Message.ticket_id).where(
        Ticket.number == number, Message.template == "progress").order_by(Message.id)))


def progress(api, number: str, text: str = NOTE, public: bool = True, user: str = "handler"):
    resp = api(user).action(number, "progress", {"text": text, "public": public})
    assert resp.status_code == 200, resp.get_json()


def test_each_public_note_is_texted_once_to_the_reporters_mobile(api, signed, clock, sms_log):
    number = signed()
    progress(api, number)
    (sms,) = texts_about(number)
    assert (sms.channel, sms.address, sms.recipient_user_id, sms.state) == (
        MessageChannel.SMS, "13812345678", None, MessageState.QUEUED)
    assert sms.body == f"【12345】您的诉求（工单号{number}）办理进展：{NOTE}"
    assert "handler" not in sms.body and "城市管理局" not in sms.body     # nothing of who wrote it
    assert deliver_due() == 1
    assert [line["to"] for line in sent_lines(sms_log)] == ["13812345678"]

    clock.advance(hours=2)
    progress(api, number, "现场已清理完毕。")
    first, second = texts_about(number)
    assert second.body.endswith("办理进展：现场已清理完毕。") and second.intent_key != first.intent_key
    assert deliver_due() == 1 and deliver_due() == 0
    assert len(sent_lines(sms_log)) == 2


def test_hearing_of_the_same_note_again_queues_nothing_more(api, signed):
    number = signed()
    progress(api, number)
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    event = db.session.scalar(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.action == "progress"))
    notices.notices_for(event, ticket, None)         # the listener runs again for the same note
    db.session.commit()
    assert len(texts_about(number)) == 1


def test_no_text_for_internal_notes_confidential_orders_refusers_or_landlines(api, signed, world):
    internal = signed()
    progress(api, internal, public=False)
    confidential = signed(is_confidential=True, citizen={"name": "李四", "phone": "13900002222"})
    progress(api, confidential)
    report = signed(type="report", citizen={"name": "赵六", "phone": "13900003333"})
    progress(api, report)
    landline = signed(citizen={"name": "钱七", "phone": "010-6512 3456"})
    progress(api, landline)
    refuser = signed(citizen={"name": "孙八", "phone": "13900004444"})
    db.session.execute(sa.update(Citizen).where(Citizen.phone == "13900004444").values(wants_sms=False))
    db.session.commit()
    progress(api, refuser)
    for number in (internal, confidential, report, landline, refuser):
        assert texts_about(number) == [], number
    # the centre's outbox for the order shows nothing was sent to the reporter of the report
    listed = api("reviewer").get(f"/tickets/{report}/messages").get_json()["items"]
    assert all(m["template"] != "progress" for m in listed)


def test_a_long_note_is_cut_in_the_text_and_whole_on_the_record(api, signed):
    number = signed()
    long_note = "详细说明" * 60
    progress(api, number, long_note)
    (sms,) = texts_about(number)
    # two SMS parts, signature and all: 134 characters, the note cut with an ellipsis
    assert len(sms.body) == 134 and sms.body.startswith("【12345】")
    kept = sms.body.split("办理进展：", 1)[1]
    assert kept.endswith("…") and long_note.startswith(kept[:-1])
    from integrations.sms import ucs2_parts
    assert len(ucs2_parts(sms.body)) == 2
    events = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
    assert events[-1]["note"] == long_note


def test_a_note_written_at_night_is_texted_in_the_morning_unless_urgent(api, signed, clock):
    number = signed()
    clock.set(datetime(2026, 6, 15, 23, 30, tzinfo=TZ))
    progress(api, number)
    (sms,) = texts_about(number)
    assert sms.next_attempt_at == datetime(2026, 6, 16, 8, 0, tzinfo=TZ)
    urgent = signed(urgency="urgent")
    progress(api, urgent, "燃气公司已派员赶往现场。")
    (sms,) = texts_about(urgent)
    assert sms.next_attempt_at == clock.now and sms.is_urgent
