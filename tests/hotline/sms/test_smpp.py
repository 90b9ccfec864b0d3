"""SMPP through smpplib: the exchange with Kannel's SMSC simulator (drive_smpp), the text a phone
shows (the named test double), a refusal, receipts and citizens' messages on the receiver bind."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import smpplib.consts as c
import smpplib.gsm
from smpplib import smpp as pdus

from hotline.extensions import db
from hotline.messaging import operations
from hotline.messaging.models import Message, MessageChannel, MessageState
from hotline.messaging.tasks import deliver_due
from integrations import messaging
from integrations.sms.smpp import Incoming, SmppReceiver, SmppSms, provider_id
from tests.hotline.sms.kannel import _free_port
from tests.hotline.sms.smpp_double import SmppCentreDouble, _Numbering

DRIVE_SMPP = "/usr/lib/kannel/test/drive_smpp"
LONG = "【12345】催办：工单20260615000002（幸福路与和平街交叉口东北角人行道上长期有人摆摊卖水果和早点，占用盲道，" \
       "雨天垃圾遍地，附近居民多次反映未果）已于2026-06-16 10:00到期，请立即办理。"


def _message(text: str, message_id: int = 7) -> messaging.Outgoing:
    return messaging.Outgoing(message_id=message_id, address="13900000001", text=text)


def _channel(port: int) -> SmppSms:
    return SmppSms(host="127.0.0.1", port=port, system_id="hotline", password="secret", sender="12345", timeout=5)


def test_kannels_smsc_simulator_takes_every_part_of_a_long_message(tmp_path: Path):
    if not Path(DRIVE_SMPP).exists():
        pytest.fail(f"{DRIVE_SMPP} is missing (Debian package kannel-extras; scripts/test installs it)", pytrace=False)
    port = _free_port()
    log = tmp_path / "drive_smpp.log"
    with open(log, "wb") as out:
        parts = len(smpplib.gsm.make_parts(LONG)[0])
        assert parts > 1
        proc = subprocess.Popen([DRIVE_SMPP, "-p", str(port), "-m", str(parts), "-v", "0"], stdout=out,
                                stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            # it serves the first connection only: wait for its log, not by connecting to the port
            deadline = time.monotonic() + 10
            while "accept_thread" not in log.read_text(errors="replace"):
                assert time.monotonic() < deadline and proc.poll() is None, \
                    "drive_smpp did not start:\n" + log.read_text(errors="replace")
                time.sleep(0.05)
            time.sleep(0.3)
            channel = _channel(port)
            channel.send(_message(LONG))                 # UCS-2 parts, each answered
            channel.close()
            deadline = time.monotonic() + 10
            while "ESME has submitted all messages" not in log.read_text(errors="replace"):
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
                time.sleep(0.1)
            assert log.read_text(errors="replace").count("Handling SMPP PDU of type submit_sm") == parts
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_the_phone_shows_the_whole_chinese_text_and_the_receipt_names_every_part():
    centre = SmppCentreDouble()
    try:
        channel = _channel(centre.port)
        receipt = channel.send(_message(LONG))
        short = channel.send(_message("【12345】工单20260615000001已派单，请及时签收。", 8))   # same bind reused
        channel.close()
    finally:
        centre.close()
    assert centre.texts() == [LONG, "【12345】工单20260615000001已派单，请及时签收。"]
    parts = len(smpplib.gsm.make_parts(LONG)[0])
    assert [p.data_coding for p in centre.submitted] == [c.SMPP_ENCODING_ISO10646] * (parts + 1)
    assert receipt.provider_id == "smpp-M1" and short.provider_id == f"smpp-M{parts + 1}" and not receipt.delivered
    # each part has the centre's id of its own, and its own delivery receipt to come
    assert receipt.part_ids == tuple(f"smpp-M{n}" for n in range(1, parts + 1))
    assert short.part_ids == (f"smpp-M{parts + 1}",)


def test_a_refused_number_fails_for_good_and_an_unreachable_centre_is_tried_again():
    centre = SmppCentreDouble(refuse_status=c.SMPP_ESME_RINVDSTADR)
    channel = _channel(centre.port)
    try:
        with pytest.raises(messaging.DeliveryError, match="Invalid Destination Address") as refused:
            channel.send(_message("【12345】测试"))
    finally:
        channel.close()
        centre.close()
    assert refused.value.permanent
    with pytest.raises(messaging.DeliveryError, match="failed after 0 of 1") as down:
        _channel(_free_port()).send(_message("【12345】测试"))
    assert not down.value.permanent


def test_the_receiver_hands_on_receipts_and_joins_a_citizens_concatenated_message():
    messages, receipts = [], []
    receiver = SmppReceiver(host="127.0.0.1", port=1, system_id="hotline", password="x",
                            on_message=messages.append, on_receipt=lambda *r: receipts.append(r))
    receipt = pdus.make_pdu("deliver_sm", client=_Numbering(), source_addr="13900000001", destination_addr="12345", esm_class=0x04,
                            short_message=b"id:M1 sub:001 dlvrd:001 submit date:2606151000 done date:2606151001 "
                                          b"stat:DELIVRD err:000 text:")
    assert receiver.handle(receipt) == c.SMPP_ESME_ROK
    text = "路灯坏了三天了，晚上很黑，幸福路8号楼东侧，麻烦尽快修理一下，谢谢！老人小孩晚上出门都不方便，已经有人摔倒了"
    raw = text.encode("utf-16-be")
    halves = [raw[:60], raw[60:]]
    for seq, half in enumerate(halves, 1):
        part = pdus.make_pdu("deliver_sm", client=_Numbering(), source_addr="13812345678", destination_addr="12345", esm_class=0x40,
                             data_coding=8, short_message=bytes([5, 0, 3, 9, 2, seq]) + half)
        receiver.handle(part)
    assert receipts == [("M1", True, "DELIVRD")]
    assert [(m.sender, m.receiver, m.text) for m in messages] == [("13812345678", "12345", text)]
    assert isinstance(messages[0], Incoming)


def _receipt(centre_id: str, stat: str):
    return pdus.make_pdu("deliver_sm", client=_Numbering(), source_addr="13900000001", destination_addr="12345",
                         esm_class=0x04, short_message=f"id:{centre_id} sub:001 dlvrd:001 submit date:2606151000 "
                                                       f"done date:2606151001 stat:{stat} err:000 text:".encode())


@pytest.fixture
def smpp_outbox(app):
    """This test's application sends SMS to the SMS centre double; its receipts go to the outbox as
    `hotline sms smpp-receiver` hands them on."""
    centre = SmppCentreDouble()
    saved = {k: app.config[k] for k in ("SMS_GATEWAY", "SMS_SETTINGS")}
    app.config.update(SMS_GATEWAY="smpp", SMS_SETTINGS={"host": "127.0.0.1", "port": centre.port,
                                                        "system_id": "hotline", "password": "secret",
                                                        "sender": "12345", "timeout": 5})
    app.extensions.pop("message_channels", None)
    receiver = SmppReceiver(host="127.0.0.1", port=1, system_id="hotline", password="x", on_message=print,
                            on_receipt=lambda centre_id, delivered, stat: operations.record_delivery_report(
                                provider_id(centre_id), delivered, f"SMS centre: {stat}"))
    yield centre, receiver
    channel = app.extensions.pop("message_channels", {}).get(MessageChannel.SMS)
    if channel is not None:
        channel.close()
    app.config.update(saved)
    centre.close()


def _queue_long(world, intent: str) -> int:
    message = operations.queue_message(intent=intent, channel=MessageChannel.SMS, template="urge",
                                       params={"number": "20260615000002", "title": LONG[8:80], "due": "2026-06-16"},
                                       recipient=world.users["handler"], address="13900000001")
    db.session.commit()
    return message.id


def test_a_long_message_is_delivered_when_the_centre_reports_every_part_delivered(world, smpp_outbox):
    centre, receiver = smpp_outbox
    message_id = _queue_long(world, "urge:smpp:1")
    assert deliver_due() == 1
    parts = [p.provider_id for p in db.session.get(Message, message_id).parts]
    assert len(parts) == len(centre.submitted) > 1 and parts[0] == db.session.get(Message, message_id).provider_id
    for centre_id in reversed([f"M{n}" for n in range(1, len(parts) + 1)]):    # the last part's receipt first
        assert db.session.get(Message, message_id).state is MessageState.SENT
        receiver.handle(_receipt(centre_id, "DELIVRD"))
        db.session.commit()
    assert db.session.get(Message, message_id).state is MessageState.DELIVERED


def test_one_part_undelivered_fails_the_message_naming_it_and_sending_again_makes_new_parts(world, smpp_outbox):
    centre, receiver = smpp_outbox
    message_id = _queue_long(world, "urge:smpp:2")
    deliver_due()
    total = len(centre.submitted)
    receiver.handle(_receipt("M1", "DELIVRD"))
    receiver.handle(_receipt("M2", "UNDELIV"))
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.FAILED and message.last_error == f"part 2/{total}: SMS centre: UNDELIV"
    operations.send_again(message, world.users["reviewer"])
    db.session.commit()
    assert deliver_due() == 1
    assert [p.provider_id for p in db.session.get(Message, message_id).parts] == \
        [f"smpp-M{n}" for n in range(total + 1, 2 * total + 1)]
    for n in range(total + 1, 2 * total + 1):
        receiver.handle(_receipt(f"M{n}", "DELIVRD"))
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.state is MessageState.DELIVERED and message.last_error is None
