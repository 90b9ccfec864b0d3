"""The outbox's voice channel: a notice spoken by the telephony worker on a call it places.

The channel only queues the call (an outbound request, written with the message's own
outcome); the worker that places it reports back through `outbound.finish`, which marks the
message delivered when the call was answered and the notice spoken, failed when every try
went unanswered. Registered in the channel registry as "telephony" (config VOICE_GATEWAY).
"""
from __future__ import annotations

from collections.abc import Mapping

from integrations import messaging
from hotline.telephony.operations import outbound


class TelephonyVoice:
    name = "voice"

    def send(self, message: messaging.Outgoing) -> messaging.Receipt:
        ticket = message.extra.get("ticket_id")
        try:
            request = outbound.request_notice_call(message.address, message.text,
                                                   ticket_id=int(ticket) if ticket else None)
        except ValueError as err:
            raise messaging.DeliveryError(str(err), permanent=True) from err
        return messaging.Receipt(provider_id=outbound.notice_call_id(request.id))


def _factory(settings: Mapping[str, object]) -> TelephonyVoice:
    return TelephonyVoice()


def install() -> None:
    messaging.register("telephony", _factory)
