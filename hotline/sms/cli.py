"""`hotline sms`: the SMPP receiver bind (citizens' messages and delivery receipts)."""
from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)


@click.group("sms", help="Text messages: the SMPP receiver.")
def sms_group() -> None:
    pass


@sms_group.command("smpp-receiver")
@with_appcontext
def smpp_receiver() -> None:
    """Bind to the SMS centre as a receiver and handle what it delivers, reconnecting when it drops."""
    from hotline.core.transactions import writes
    from hotline.messaging.operations import record_delivery_report
    from hotline.sms import operations
    from integrations.sms.smpp import SmppReceiver, provider_id

    settings = current_app.config["SMS_SETTINGS"]
    if current_app.config["SMS_GATEWAY"] != "smpp":
        raise click.ClickException("SMS_GATEWAY is not smpp: set SMS_GATEWAY=smpp and SMS_SMPP_* first")

    def on_message(incoming) -> None:
        writes(operations.receive)(f"smpp-{incoming.centre_id}", incoming.sender, incoming.receiver, incoming.text)

    def on_receipt(centre_id: str, delivered: bool, stat: str) -> None:
        # the receipt may overtake the sender's commit of the centre's id: look again for a few seconds
        for pause in (0.2, 0.5, 1.0, 2.0, 0):
            if writes(record_delivery_report)(provider_id(centre_id), delivered, f"SMS centre: {stat}"):
                return
            time.sleep(pause)

    while True:
        receiver = SmppReceiver(host=settings["host"], port=int(settings["port"]), system_id=settings["system_id"],
                                password=settings["password"], system_type=settings.get("system_type", ""),
                                on_message=on_message, on_receipt=on_receipt)
        try:
            receiver.run()
        except Exception as err:  # noqa: BLE001  (the centre dropped us: bind again after a pause)
            log.warning("SMPP receiver stopped (%s); binding again in 10 s", err)
        time.sleep(10)
