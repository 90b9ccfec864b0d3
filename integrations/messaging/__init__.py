"""Outbound channels behind one small interface, chosen by name from a registry.

A channel turns one `Outgoing` message into a `Receipt` or raises `DeliveryError`
(temporary: try again later; permanent: never). The application's outbox
(hotline/messaging) decides when to send and records what happened; a channel only sends.
SMS gateways (Kannel, SMPP), fax, email and webhooks register here as they are built.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs to send one message: plain data only."""

    message_id: int
    address: str              # a phone number, an e-mail address, a user id for in-app notices ...
    text: str
    subject: str | None = None
    urgent: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """The gateway took the message; `provider_id` matches its later delivery report, if any.

    A long SMS goes as concatenated parts, each reported on by itself where the gateway names
    them: `part_ids` are its ids of the parts in order (SMPP: the SMS centre's id of each).
    """

    provider_id: str | None = None
    delivered: bool = False   # True where taking it is delivering it (in-app notices, a log sink)
    part_ids: tuple[str, ...] = ()


class DeliveryError(Exception):
    """Sending failed; `permanent` failures (a bad number, a refused address) are never retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> Receipt: ...


#: name -> factory(settings) building the channel from the application's configuration.
_factories: dict[str, Callable[[Mapping[str, object]], Channel]] = {}


def register(name: str, factory: Callable[[Mapping[str, object]], Channel]) -> None:
    """Make a channel implementation available under `name` (e.g. "sms.kannel")."""
    _factories[name] = factory


def build(name: str, settings: Mapping[str, object]) -> Channel:
    """The channel registered as `name`, configured; LookupError names the known ones."""
    try:
        factory = _factories[name]
    except KeyError:
        raise LookupError(f"no message channel {name!r}; known: {', '.join(sorted(_factories))}") from None
    return factory(settings)


def known() -> list[str]:
    return sorted(_factories)


from integrations.messaging import logsink  # noqa: E402,F401  (registers the built-in channels)
from integrations.sms import kannel, smpp  # noqa: E402,F401
